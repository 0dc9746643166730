"""Enumerating scan inputs: every input is found once, every bad one gets its own clear error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from byline.engines import sources
from byline.engines.sources import open_source
from byline.errors import InputError

TEXT = "The council approved the budget on Tuesday after a long debate about bus routes and schools."


def _read_all(source) -> dict[str, sources.ReadInput]:
    return {entry.id: entry.read() for entry in source}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "wire"
    (root / "a").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / ".git").mkdir()
    (root / "a" / "story.txt").write_text(TEXT)
    (root / "a" / "page.html").write_text(
        f"<html><head><title>Budget</title></head><body><article><p>{TEXT}</p></article></body></html>"
    )
    (root / "notes.md").write_text(TEXT)
    (root / "report.pdf").write_bytes(b"%PDF-1.4 ignored: not an article suffix")
    (root / ".hidden.txt").write_text(TEXT)
    (root / ".git" / "x.txt").write_text(TEXT)
    (root / "sub" / "empty.txt").write_bytes(b"")
    (root / "sub" / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (root / "sub" / "latin1.txt").write_bytes("Café crème in the café".encode("latin-1"))
    (root / "sub" / "huge.txt").write_bytes(b"word " * (1_000_001))  # just over 5 MB
    return root


def test_folder_finds_article_files_recursively_and_skips_the_rest(folder: Path) -> None:
    source = open_source(str(folder))
    ids = [entry.id for entry in source]
    assert sorted(ids) == [
        "a/page.html",
        "a/story.txt",
        "notes.md",
        "sub/empty.txt",
        "sub/huge.txt",
        "sub/image.txt",
        "sub/latin1.txt",
    ]
    assert ids == [entry.id for entry in source]  # a stable order
    assert source.count() == len(ids)
    first = next(iter(source))
    assert first.path == str(folder / first.id)


def test_each_bad_file_gets_its_own_error_naming_it(folder: Path) -> None:
    items = _read_all(open_source(str(folder)))
    assert items["a/story.txt"].error is None and items["a/story.txt"].article.text.startswith("The council")
    assert items["a/page.html"].error is None and items["a/page.html"].article.title == "Budget"
    expected = {
        "sub/empty.txt": "empty",
        "sub/image.txt": "binary file (PNG image)",
        "sub/latin1.txt": "cannot decode the bytes as utf-8",
        "sub/huge.txt": "too large",
    }
    for name, problem in expected.items():
        error = items[name].error
        assert error is not None and problem in error, (name, error)
        assert error.startswith(str(folder / name)), error
        assert items[name].article is None


def test_fingerprint_changes_when_a_file_changes(folder: Path) -> None:
    before = {e.id: e.fingerprint for e in open_source(str(folder))}
    path = folder / "a" / "story.txt"
    path.write_text(TEXT + " More.")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    after = {e.id: e.fingerprint for e in open_source(str(folder))}
    assert after["a/story.txt"] != before["a/story.txt"]
    assert {k: v for k, v in after.items() if k != "a/story.txt"} == {
        k: v for k, v in before.items() if k != "a/story.txt"
    }


def test_jsonl_bad_lines_become_errors_and_the_rest_goes_on(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 2_000)
    monkeypatch.setattr(sources, "MAX_ARTICLE_BYTES", 600)
    lines = [
        json.dumps({"text": TEXT}).encode(),  # 1 good
        b"",  # 2 blank: not an input
        b'{"text": "unterminated',  # 3 malformed JSON
        b"[1, 2]",  # 4 not an object
        json.dumps({"body": TEXT}).encode(),  # 5 missing text field
        json.dumps({"text": None}).encode(),  # 6 null text
        json.dumps({"text": 42}).encode(),  # 7 not text
        b'{"text": "caf\xe9"}',  # 8 invalid UTF-8
        json.dumps({"text": "   "}).encode(),  # 9 whitespace only
        json.dumps({"text": "x" * 1_000}).encode(),  # 10 text too large
        json.dumps({"text": "y" * 5_000}).encode(),  # 11 line too large
        json.dumps({"text": TEXT + " Again."}).encode(),  # 12 good, after all that
    ]
    path = tmp_path / "wire.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    source = open_source(str(path))
    items = _read_all(source)
    assert list(items) == ["1", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
    assert source.count() == 11
    assert items["1"].error is None and items["12"].error is None
    expected = {
        "3": "not valid JSON",
        "4": "not a JSON object",
        "5": "no 'text' field",
        "6": "empty (null)",
        "7": "not text (got int)",
        "8": "not valid UTF-8",
        "9": "only whitespace",
        "10": "too large",
        "11": "line is too large",
    }
    for line, problem in expected.items():
        assert items[line].error.startswith(f"{path}: line {line}: "), items[line].error
        assert problem in items[line].error, items[line].error


def test_jsonl_ids_and_text_from_named_fields(tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    records = [{"url": "https://a", "body": TEXT}, {"url": 7, "body": TEXT}, {"body": TEXT}]
    path.write_text("\n".join(json.dumps(r) for r in records))
    items = _read_all(open_source(str(path), text_field="body", id_field="url"))
    assert list(items) == ["https://a", "7", "3"]
    assert items["https://a"].error is None
    assert "no 'url' field (the id)" in items["3"].error


def test_csv_rows_and_their_errors(tmp_path: Path) -> None:
    path = tmp_path / "wire.csv"
    path.write_bytes(
        b'id,text\na1,"' + TEXT.encode() + b', with a comma\nand a newline"\na2,\na3,caf\xe9 au lait\n'
    )
    items = _read_all(open_source(str(path), id_field="id"))
    assert list(items) == ["a1", "a2", "a3"]
    assert items["a1"].error is None and "with a comma" in items["a1"].article.text
    assert "the text is empty" in items["a2"].error
    assert items["a3"].error.startswith(f"{path}: row 3: ") and "not valid UTF-8" in items["a3"].error


@pytest.mark.parametrize("separator", [";", "\t"])
def test_csv_separated_by_semicolons_or_tabs_is_read_by_its_header(tmp_path: Path, separator: str) -> None:
    # Spreadsheets in many locales save "CSV" with semicolons; exports are often tab-separated.
    path = tmp_path / "wire.csv"
    path.write_text(
        f"id{separator}text\n"
        f'a1{separator}"{TEXT}, with a comma{separator} and the separator"\n'
        f"a2{separator}{TEXT}\n"
    )
    items = _read_all(open_source(str(path), id_field="id"))
    assert list(items) == ["a1", "a2"]
    # the quoted cell is one field, separator and comma included (normalisation turns a tab into a space)
    assert items["a1"].error is None and items["a1"].article.text.endswith("and the separator")
    assert items["a2"].error is None and items["a2"].article.text == TEXT


def test_csv_without_the_text_column_is_refused_up_front(tmp_path: Path) -> None:
    path = tmp_path / "wire.csv"
    path.write_text("id,body\n1,hello\n")
    with pytest.raises(InputError, match="no column 'text'"):
        open_source(str(path))


def test_parquet_rows_nulls_and_missing_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "wire.parquet"
    pq.write_table(pa.table({"text": [TEXT, None, "", TEXT], "n": [1, 2, 3, 4]}), path, row_group_size=2)
    source = open_source(str(path))
    assert source.count() == 4
    items = _read_all(source)
    assert list(items) == ["1", "2", "3", "4"]
    assert items["1"].error is None and items["4"].error is None
    assert "empty (null)" in items["2"].error and "the text is empty" in items["3"].error
    with pytest.raises(InputError, match="no column 'body'"):
        open_source(str(path), text_field="body")


def test_unknown_and_missing_inputs_are_refused(tmp_path: Path) -> None:
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="cannot tell what this input is"):
        open_source(str(tmp_path / "data.xlsx"))
    with pytest.raises(InputError, match="no such file"):
        open_source(str(tmp_path / "missing.jsonl"))


# A folder of good files with a FIFO (no writer), a symlink to /dev/zero and a socket among them,
# enumerated and read in a child process with a 2 GB address space: a regression hangs (and is
# stopped by the timeout) or dies of MemoryError, instead of hanging or starving the suite.
_READ_FOLDER = """
import json, sys
from byline.engines.sources import open_source
print(json.dumps({entry.id: entry.read().error for entry in open_source(sys.argv[1])}))
"""


def test_special_files_in_a_folder_get_error_rows_and_the_good_files_are_read(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    from conftest import limited_memory

    root = tmp_path / "wire"
    root.mkdir()
    (root / "a.txt").write_text(TEXT)
    os.mkfifo(root / "b-fifo.txt")
    (root / "c-zero.txt").symlink_to("/dev/zero")
    (root / "e.md").write_text(TEXT)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(root / "d-socket.txt"))
        result = subprocess.run(
            [sys.executable, "-c", _READ_FOLDER, str(root)],
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=limited_memory(2048),
        )
    assert result.returncode == 0, result.stderr
    errors = json.loads(result.stdout)
    assert list(errors) == ["a.txt", "b-fifo.txt", "c-zero.txt", "d-socket.txt", "e.md"]
    assert errors["a.txt"] is None and errors["e.md"] is None
    assert errors["b-fifo.txt"].startswith(
        f"{root / 'b-fifo.txt'}: is a named pipe (FIFO), not a regular file"
    )
    assert errors["c-zero.txt"].startswith(
        f"{root / 'c-zero.txt'}: is a character device, not a regular file"
    )
    assert errors["d-socket.txt"].startswith(f"{root / 'd-socket.txt'}: is a socket, not a regular file")


@pytest.mark.parametrize("name", ["wire.jsonl", "wire.csv", "wire.parquet", "story.txt"])
def test_a_named_fifo_is_refused_up_front(tmp_path: Path, name: str) -> None:
    from conftest import finishes_within

    os.mkfifo(tmp_path / name)
    with pytest.raises(
        InputError,
        match=r"is a named pipe \(FIFO\), not a regular file \(a stream is read from standard input: -\)",
    ):
        finishes_within(20, open_source, str(tmp_path / name))
