"""Reading data files: how a CSV file's separator is found."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from byline.input.records import CSV_DELIMITERS, csv_delimiter, sniffed_csv_reader


@pytest.mark.parametrize(("header", "expected"), [
    ("id,text\n", ","),
    ("id;text\r\n", ";"),
    ("id\ttext\n", "\t"),
    ("text\n", ","),  # one column: nothing to tell, so the default
    ("", ","),
    ('"title; subtitle",text\n', ","),  # a quoted separator does not count
    ("id;title, with a comma;text\n", ";"),
])
def test_the_separator_is_the_one_that_splits_the_header_most(header: str, expected: str) -> None:
    assert csv_delimiter(header) == expected


# Column names that themselves hold separators are ambiguous (";,;" is three columns by commas
# or by semicolons); the rule is for headers of plain names (spaces allowed; no separators or quotes).
NAME = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=',;"'), min_size=1, max_size=8)


@given(st.sampled_from(CSV_DELIMITERS), st.lists(NAME, min_size=2, max_size=6))
def test_a_header_written_with_any_separator_is_read_back_with_it(delimiter: str, names: list[str]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerow(names)
    buffer.seek(0)
    assert sniffed_csv_reader(buffer).fieldnames == names
