"""Records from data files, read so that one bad line or row costs only itself.

`byline train`/`eval` (labelled records), `byline index` (candidate sources) and
`byline scan` (articles to score) all read JSON Lines through :func:`json_lines`,
so a line is judged, numbered and described the same way everywhere. It reads
bytes, not text: a text-mode reader fails on a whole buffered chunk when one line
holds a byte that is not UTF-8, losing the lines around it. CSV readers open their
file with ``errors="surrogateescape"`` for the same reason and test each row's
cells with :func:`has_undecodable_bytes`, and take their separator from
:func:`csv_delimiter`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO


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
