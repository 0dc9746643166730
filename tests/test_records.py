"""Reading data files: how a CSV file's separator is found, and how a bad JSON line is described."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from byline.input.records import CSV_DELIMITERS, csv_delimiter, parse_line, sniffed_csv_reader


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("id,text\n", ","),
        ("id;text\r\n", ";"),
        ("id\ttext\n", "\t"),
        ("text\n", ","),  # one column: nothing to tell, so the default
        ("", ","),
        ('"title; subtitle",text\n', ","),  # a quoted separator does not count
        ("id;title, with a comma;text\n", ";"),
    ],
)
def test_the_separator_is_the_one_that_splits_the_header_most(header: str, expected: str) -> None:
    assert csv_delimiter(header) == expected


# Column names that themselves hold separators are ambiguous (";,;" is three columns by commas
# or by semicolons); the rule is for headers of plain names (spaces allowed; no separators or quotes).
NAME = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=',;"'), min_size=1, max_size=8
)


@given(st.sampled_from(CSV_DELIMITERS), st.lists(NAME, min_size=2, max_size=6))
def test_a_header_written_with_any_separator_is_read_back_with_it(delimiter: str, names: list[str]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerow(names)
    buffer.seek(0)
    assert sniffed_csv_reader(buffer).fieldnames == names


@pytest.mark.parametrize(
    "line, problem",
    [
        (b'{"text": "unterminated', "not valid JSON (Unterminated string starting at column 10)"),
        (b'{"text": "cut\n', "not valid JSON (Invalid control character at column 14)"),
        (b'{"text": }', "not valid JSON (Expecting value at column 10)"),
        (b'{"text" "x"}', "not valid JSON (Expecting ':' delimiter at column 9)"),
    ],
)
def test_json_problems_name_the_column_once(line: bytes, problem: str) -> None:
    assert parse_line(line, 3).problem == problem


def test_a_detector_file_that_is_not_json_is_named_with_its_line_and_column(tmp_path) -> None:
    from byline.decision.trained_detector import _read_detector_file
    from byline.errors import ModelError

    path = tmp_path / "detector.json"
    path.write_text('{\n  "name": "unterminated\n}')
    with pytest.raises(
        ModelError, match=r"not valid JSON: Invalid control character at line 2, column 24\)$"
    ):
        _read_detector_file(path)
