"""Records from data files, read so that one bad line or row costs only itself.

`byline train`/`eval` (labelled records), `byline index` (candidate sources) and
`byline scan` (articles to score) all read their data files through :func:`read_records`
(JSON Lines, CSV/TSV, Parquet files and folders, chosen by :func:`record_format`) and
folders of articles through :func:`article_files`, with the suffixes listed here once, so
a record is judged, numbered and described the same way everywhere. It reads
bytes, not text: a text-mode reader fails on a whole buffered chunk when one line
holds a byte that is not UTF-8, losing the lines around it. CSV readers open their
file with ``errors="surrogateescape"`` for the same reason and test each row's
cells with :func:`has_undecodable_bytes`, and take their separator from
:func:`csv_delimiter`.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from byline import extras
from byline.errors import InputError
from byline.input.reading import HTML_SUFFIXES, MAX_ARTICLE_BYTES


@dataclass(frozen=True)
class JsonLine:
    """One non-blank line: its JSON object, or why it has none."""

    number: int
    """1-based line number in the file, blank lines included."""
    raw: bytes
    """The line as read; empty for a line over the length limit, which is never held."""
    record: dict[str, Any] | None = None
    problem: str | None = None
    """E.g. ``"not valid JSON (Expecting value at column 1)"``; None when ``record`` is set."""


def line_bytes(handle: BinaryIO, max_line_bytes: int | None = None) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, line)`` of each non-blank line; ``None`` for a line over
    ``max_line_bytes``, which is skipped without being held in memory."""
    limit = -1 if max_line_bytes is None else max_line_bytes + 1
    number = 0
    while line := handle.readline(limit):
        number += 1
        if max_line_bytes is not None and len(line) > max_line_bytes and not line.endswith(b"\n"):
            while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield number, None
        elif line.strip():
            yield number, line


def parse_line(raw: bytes, number: int) -> JsonLine:
    """The JSON object on one line, or the problem with it."""
    try:
        # A byte-order mark can only open the file.
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        bad = raw[error.start : error.start + 1].hex()
        return JsonLine(number, raw, problem=f"not valid UTF-8 (byte 0x{bad} at column {error.start + 1})")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        return JsonLine(number, raw, problem=f"not valid JSON ({json_error_text(error)})")
    except RecursionError:
        return JsonLine(number, raw, problem="the JSON is nested too deeply")
    if not isinstance(record, dict):
        return JsonLine(number, raw, problem=f"not a JSON object (got {json_kind(record)})")
    return JsonLine(number, raw, record=record)


def json_error_text(error: json.JSONDecodeError, *, with_line: bool = False) -> str:
    """What is wrong with the JSON and where, e.g. ``"Expecting value at column 1"``.

    Some of json's messages already end in "at" (``"Unterminated string starting at"``):
    the place follows them without a second "at".
    """
    place = f"line {error.lineno}, column {error.colno}" if with_line else f"column {error.colno}"
    return f"{error.msg} {place}" if error.msg.endswith(" at") else f"{error.msg} at {place}"


def json_lines(handle: BinaryIO, max_line_bytes: int | None = None) -> Iterator[JsonLine]:
    """Every non-blank line of a JSONL stream, in order, as a record or a problem."""
    for number, raw in line_bytes(handle, max_line_bytes):
        if raw is None:
            yield JsonLine(number, b"", problem=f"the line is too large (over {max_line_bytes:,} bytes)")
        else:
            yield parse_line(raw, number)


def json_kind(value: Any) -> str:
    """What a JSON value is, for messages: "an array", "a string", "null"..."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return "a number"


def has_undecodable_bytes(value: str) -> bool:
    """Whether ``value`` holds bytes that were not UTF-8 (read with ``errors="surrogateescape"``)."""
    return any("\udc80" <= c <= "\udcff" for c in value)


#: File names read as CSV, whatever their separator (:func:`csv_delimiter`).
CSV_SUFFIXES = (".csv", ".tsv")
#: Separators a CSV file's header may use, in order of preference on a tie.
CSV_DELIMITERS = (",", "\t", ";")


def csv_delimiter(header_line: str) -> str:
    """The separator of a CSV file whose first line is ``header_line``: the one that splits it
    into the most columns, a comma on a tie.

    Spreadsheets in many locales save "CSV" with semicolons, and exports are often tab-separated;
    read with commas, such a header is one column and every row would fail.
    """

    def columns(delimiter: str) -> int:
        try:
            return len(next(csv.reader([header_line.rstrip("\r\n")], delimiter=delimiter), []))
        except csv.Error:
            return 0

    return max(CSV_DELIMITERS, key=columns)  # max keeps the first of equals: the preferred one


def sniffed_csv_reader(handle) -> csv.DictReader:
    """A :class:`csv.DictReader` over a seekable text ``handle``, separated as its header line is."""
    delimiter = csv_delimiter(handle.readline())
    handle.seek(0)
    return csv.DictReader(handle, delimiter=delimiter)


# -- the files Byline reads records and articles from (scan, index, train, eval) -----------------

#: Article files, each read whole as one article (a folder's files, or one file alone).
ARTICLE_SUFFIXES = (".txt", ".text", ".md", ".markdown", *HTML_SUFFIXES)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Files of records, one article per JSON line or table row.
RECORD_SUFFIXES = (*JSONL_SUFFIXES, *CSV_SUFFIXES, *PARQUET_SUFFIXES)

RecordFormat = Literal["jsonl", "csv", "parquet"]


def record_format(path: Path) -> RecordFormat | None:
    """How a path holds records: by its suffix, or ``"parquet"`` for a folder of Parquet files
    (:func:`is_parquet_folder`); None for anything else (a folder of articles, an article file)."""
    if path.is_dir():
        return "parquet" if is_parquet_folder(path) else None
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return None


def is_article_file(path: Path) -> bool:
    return path.suffix.lower() in ARTICLE_SUFFIXES


def article_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """``(id, path)`` of the article files under ``folder``, recursively, in a stable (sorted)
    order; the id is the path relative to the folder, with ``/`` separators. Hidden files and
    folders (a name starting with ``.``) are skipped."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if not name.startswith(".") and is_article_file(path):
                yield path.relative_to(folder).as_posix(), path


def is_parquet_folder(path: Path) -> bool:
    """A folder is read as a Parquet data set when its files are Parquet files and no articles."""
    files = [p.suffix.lower() for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
    return any(s in PARQUET_SUFFIXES for s in files) and not any(s in ARTICLE_SUFFIXES for s in files)


def parquet_files(path: Path) -> list[Path]:
    """The Parquet files of a path: the file itself, or a folder's Parquet files in name order."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PARQUET_SUFFIXES)
        if not files:
            raise InputError(str(path), "no Parquet files in this folder")
        return files
    return [path]


@dataclass(frozen=True)
class RecordRow:
    """One record of a data file (a JSON line, a CSV or Parquet row), or why it is unusable."""

    number: int
    """1-based line number (JSONL, blank lines included) or data row number (CSV, Parquet)."""
    where: str
    """The record in messages: ``"wire.jsonl: line 7"``, ``"wire.csv: row 3"``."""
    record: dict[str, Any] | None = None
    """None for a line that holds no JSON object; a CSV row with a ``problem`` keeps its cells."""
    problem: str | None = None
    """Why the record cannot be used (None: it can)."""
    raw: bytes = b""
    """What a bad record held (the line, or the undecodable cell), e.g. to fingerprint it."""


def _open_csv(path: Path):
    # surrogateescape: a bad byte spoils only its own row (checked per row by read_records).
    return path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")


def record_columns(path: Path, format: RecordFormat) -> list[str] | None:
    """The columns of a CSV file's header or of a Parquet data set's schema (None for JSONL),
    read before any row, so that a missing column fails at once."""
    if format == "jsonl":
        return None
    if format == "csv":
        try:
            with _open_csv(path) as handle:
                return list(sniffed_csv_reader(handle).fieldnames or [])
        except csv.Error as error:
            raise InputError(str(path), f"not a readable CSV file ({error})") from None
        except OSError as error:
            raise InputError(str(path), f"cannot read the file: {error.strerror or error}") from None
    extras.require("parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    names: list[str] | None = None
    for file in parquet_files(path):
        try:
            schema = pq.read_schema(file)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(str(file), f"not a readable Parquet file ({error})") from None
        # a folder's files: the columns every one of them has
        names = list(schema.names) if names is None else [n for n in names if n in schema.names]
    return names or []


def require_columns(path: Path, format: RecordFormat, needed: Sequence[str | None]) -> None:
    """Raise :class:`~byline.errors.InputError` naming the first column of ``needed`` that the
    file's header or schema lacks (nothing to check for JSONL, whose records each have their own)."""
    columns = record_columns(path, format)
    if columns is None:
        return
    for name in needed:
        if name is not None and name not in columns:
            raise InputError(str(path), f"no column {name!r} (columns: {', '.join(columns) or 'none'})")


def read_records(
    path: Path | None,
    format: RecordFormat,
    *,
    columns: Sequence[str] | None = None,
    max_line_bytes: int | None = None,
    name: str | None = None,
) -> Iterator[RecordRow]:
    """Every record of a JSONL, CSV or Parquet file (or Parquet folder), in order; ``path`` None
    reads JSONL from standard input.

    A bad line or row costs only itself: it is yielded with its ``problem``. ``columns``: the
    cells that matter (CSV: checked for bytes that are not UTF-8; Parquet: the only ones read);
    None means all. A CSV file that stops parsing raises :class:`~byline.errors.InputError`.
    """
    name = name or (str(path) if path is not None else "<stdin>")
    if format == "jsonl":
        yield from _jsonl_records(path, name, max_line_bytes)
    elif format == "csv":
        assert path is not None
        yield from _csv_records(path, name, columns)
    else:
        assert path is not None
        yield from _parquet_records(path, name, columns)


def _jsonl_records(path: Path | None, name: str, max_line_bytes: int | None) -> Iterator[RecordRow]:
    try:
        handle = sys.stdin.buffer if path is None else path.open("rb")
    except OSError as error:
        raise InputError(name, f"cannot read the file: {error.strerror or error}") from None
    try:
        for line in json_lines(handle, max_line_bytes):
            yield RecordRow(line.number, f"{name}: line {line.number}", line.record, line.problem, line.raw)
    finally:
        if path is not None:
            handle.close()


def _csv_records(path: Path, name: str, columns: Sequence[str] | None) -> Iterator[RecordRow]:
    # A field may hold a whole article (csv's default limit is 128 KiB).
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_ARTICLE_BYTES))
    with _open_csv(path) as handle:
        rows = sniffed_csv_reader(handle)
        number = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as error:
                raise InputError(name, f"not a readable CSV file after row {number} ({error})") from None
            number += 1
            where = f"{name}: row {number}"
            row.pop(None, None)  # more cells than header columns
            checked = row if columns is None else {c: row.get(c) for c in columns if c in row}
            bad = [
                c for c, value in checked.items() if isinstance(value, str) and has_undecodable_bytes(value)
            ]
            if bad:
                raw = str(row[bad[0]]).encode("utf-8", "surrogateescape")
                problem = f"the {bad[0]!r} column holds bytes that are not valid UTF-8"
                yield RecordRow(number, where, record=row, problem=problem, raw=raw)
            else:
                yield RecordRow(number, where, record=row)


def _parquet_records(path: Path, name: str, columns: Sequence[str] | None) -> Iterator[RecordRow]:
    extras.require("parquet")
    import pyarrow.parquet as pq

    number = 0
    for file in parquet_files(path):
        parquet = pq.ParquetFile(file)
        present = None if columns is None else [c for c in columns if c in parquet.schema_arrow.names]
        for batch in parquet.iter_batches(batch_size=1024, columns=present):
            for record in batch.to_pylist():
                number += 1
                yield RecordRow(number, f"{name}: row {number}", record=record)


def count_records(path: Path, format: RecordFormat) -> int:
    """How many records a file holds (JSONL: non-blank lines), for a progress bar."""
    if format == "jsonl":
        with path.open("rb") as handle:
            return sum(1 for _ in line_bytes(handle))
    if format == "csv":
        with _open_csv(path) as handle:
            return sum(1 for _ in sniffed_csv_reader(handle))
    extras.require("parquet")
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(file).metadata.num_rows for file in parquet_files(path))
