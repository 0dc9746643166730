"""Enumerate the inputs of a batch scan, lazily, one :class:`PendingInput` each.

A scan input is a folder (recursive: ``.txt``, ``.md``, ``.html``, ``.htm``),
a JSONL, CSV or Parquet file of records, ``-`` (JSONL on standard input) or a
single article file. Enumeration is cheap: it yields each input's id and a
fingerprint without normalising or extracting its text, so that a resumed
scan can skip finished inputs; :meth:`PendingInput.read` does the real work.

Every problem with one input (binary or undecodable bytes, an empty or
over-large text, a malformed JSON line, a missing text field) becomes an
error on that input only - :meth:`PendingInput.read` returns it as a
:class:`ReadInput` with ``error`` set - and enumeration goes on. Problems
with the whole input (no such file, no text column) raise
:class:`~byline.errors.InputError` before anything is scanned.
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from byline.errors import InputError
from byline.input import Article, article_from_text, read_article
from byline.input.reading import HTML_SUFFIXES, MAX_ARTICLE_BYTES, not_regular_file
from byline.input.records import (
    CSV_SUFFIXES,
    has_undecodable_bytes,
    json_lines,
    line_bytes,
    sniffed_csv_reader,
)

#: Files a folder scan picks up (anything else in the folder is ignored).
ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", *HTML_SUFFIXES)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
STDIN = "-"

#: A JSONL line longer than this is refused without being held in memory:
#: the JSON of a text at the article size limit is at most a few times larger.
MAX_LINE_BYTES = 4 * MAX_ARTICLE_BYTES


@dataclass
class ReadInput:
    """One input after reading: an article to score, or the reason there is none."""

    id: str
    path: str | None
    key: str
    fingerprint: str
    article: Article | None = None
    error: str | None = None


@dataclass
class PendingInput:
    """One input as enumerated: its id and fingerprint, and how to read it.

    ``key`` is unique within a scan (it is ``id`` except for a repeated id);
    ``fingerprint`` changes when the input's content changes, so a resumed
    scan re-scores an edited file rather than keeping its old result.
    """

    id: str
    path: str | None
    fingerprint: str
    _read: Callable[[], Article]
    key: str = ""
    where: str = ""
    """Where a record is, for messages (``wire.jsonl: line 11``); empty for a file, named by its path."""

    def __post_init__(self) -> None:
        self.key = self.key or self.id

    def duplicate_error(self) -> str:
        """The error of an input whose id an earlier input already has."""
        return f"{self.where or self.path or self.id}: duplicate id {self.id!r}; ids must be unique"

    def read(self) -> ReadInput:
        """Read and normalise the article; an unusable input gives ``error``."""
        item = ReadInput(self.id, self.path, self.key, self.fingerprint)
        try:
            item.article = self._read()
        except InputError as error:
            item.error = str(error)
        except (OSError, ValueError, UnicodeError, RecursionError) as error:
            # e.g. a file removed mid-scan, or HTML that trafilatura chokes on
            item.error = f"{self.path or self.id}: could not read the input ({error})"
        return item

    def failed(self, message: str) -> ReadInput:
        return ReadInput(self.id, self.path, self.key, self.fingerprint, error=message)


def _fail(where: str, problem: str) -> Callable[[], Article]:
    def read() -> Article:
        raise InputError(where, problem)

    return read


def _digest(*parts: str | bytes) -> str:
    hasher = hashlib.blake2b(digest_size=12)
    for part in parts:
        hasher.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\x00")
    return hasher.hexdigest()


# -- one record (a JSONL line, a CSV or Parquet row) ---------------------------------------


def record_input(
    record: Any,
    *,
    where: str,
    row_number: int,
    text_field: str,
    id_field: str | None,
) -> PendingInput:
    """The pending input for one decoded record; ``where`` names it in errors
    (e.g. ``wire.jsonl: line 7``)."""
    pending = _record_input(record, where=where, row_number=row_number, text_field=text_field, id_field=id_field)
    pending.where = where
    return pending


def _record_input(record: Any, *, where: str, row_number: int, text_field: str, id_field: str | None) -> PendingInput:
    if not isinstance(record, dict):
        kind = type(record).__name__
        return PendingInput(str(row_number), None, _digest("not-object", kind), _fail(where, f"not a JSON object (got {kind})"))
    item_id = str(row_number)
    if id_field is not None:
        value = record.get(id_field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return PendingInput(
                item_id, None, _digest("no-id"), _fail(where, f"no {id_field!r} field (the id) in this record")
            )
        item_id = str(value)
    if text_field not in record:
        return PendingInput(item_id, None, _digest("no-text"), _fail(where, f"no {text_field!r} field (the text) in this record"))
    text = record[text_field]
    if text is None:
        return PendingInput(item_id, None, _digest("null-text"), _fail(where, f"the {text_field!r} field is empty (null)"))
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            return PendingInput(
                item_id, None, _digest("bad-bytes", text),
                _fail(where, f"the {text_field!r} field is not valid UTF-8 (byte at offset {error.start})"),
            )
    if not isinstance(text, str):
        kind = type(text).__name__
        return PendingInput(item_id, None, _digest("not-text", kind), _fail(where, f"the {text_field!r} field is not text (got {kind})"))
    return PendingInput(item_id, None, _digest("text", text), _text_reader(text, where))


def _text_reader(text: str, where: str) -> Callable[[], Article]:
    def read() -> Article:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_ARTICLE_BYTES:
            raise InputError(where, f"the text is too large ({size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,})")
        if any("\udc80" <= c <= "\udcff" for c in text):
            raise InputError(where, "the text contains bytes that are not valid UTF-8")
        return article_from_text(text, source=where)

    return read


# -- sources ---------------------------------------------------------------------------------


class Source:
    """An enumerable scan input. ``describe()`` identifies it for the job store."""

    name: str

    def __iter__(self) -> Iterator[PendingInput]:  # pragma: no cover - interface
        raise NotImplementedError

    def count(self) -> int | None:
        """How many inputs there are, when that is cheap to know (for the progress bar)."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"input": self.name}


class FolderSource(Source):
    """Article files under a folder, recursively, in a stable (sorted) order.

    Hidden files and folders (a name starting with ``.``) are skipped. Ids are
    paths relative to the folder, with ``/`` separators.
    """

    def __init__(self, folder: Path, encoding: str | None = None) -> None:
        self.folder = folder
        self.name = str(folder)
        self.encoding = encoding

    def _files(self) -> Iterator[tuple[str, Path]]:
        for root, dirs, files in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith(".") or not name.lower().endswith(ARTICLE_SUFFIXES):
                    continue
                path = Path(root) / name
                yield path.relative_to(self.folder).as_posix(), path

    def __iter__(self) -> Iterator[PendingInput]:
        for relative, path in self._files():
            try:
                stat = path.stat()
                fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
            except OSError as error:
                fingerprint = f"unreadable:{error.errno}"
            yield PendingInput(relative, str(path), fingerprint, self._reader(path))

    def _reader(self, path: Path) -> Callable[[], Article]:
        return lambda: read_article(path, encoding=self.encoding)

    def count(self) -> int:
        return sum(1 for _ in self._files())

    def describe(self) -> dict[str, Any]:
        return {"input": str(self.folder.resolve()), "encoding": self.encoding}


class FileSource(FolderSource):
    """A single article file: one input, its id the file name."""

    def _files(self) -> Iterator[tuple[str, Path]]:
        yield self.folder.name, self.folder

    def count(self) -> int:
        return 1


class JsonlSource(Source):
    """JSON lines: one record per non-blank line; default ids are line numbers."""

    def __init__(self, path: Path | None, text_field: str = "text", id_field: str | None = None) -> None:
        self.path = path
        self.name = str(path) if path is not None else "<stdin>"
        self.text_field = text_field
        self.id_field = id_field

    def _open(self) -> BinaryIO:
        return sys.stdin.buffer if self.path is None else self.path.open("rb")

    def __iter__(self) -> Iterator[PendingInput]:
        handle = self._open()
        try:
            for line in json_lines(handle, MAX_LINE_BYTES):
                where = f"{self.name}: line {line.number}"
                if line.record is None:
                    # The digest of the line itself: an edited line is redone on resume.
                    yield PendingInput(
                        str(line.number), None, _digest("bad-line", line.raw), _fail(where, line.problem), where=where
                    )
                else:
                    yield record_input(
                        line.record, where=where, row_number=line.number,
                        text_field=self.text_field, id_field=self.id_field,
                    )
        finally:
            if self.path is not None:
                handle.close()

    def count(self) -> int | None:
        if self.path is None:
            return None
        with self.path.open("rb") as handle:
            return sum(1 for _ in line_bytes(handle, MAX_LINE_BYTES))

    def describe(self) -> dict[str, Any]:
        where = "<stdin>" if self.path is None else str(self.path.resolve())
        return {"input": where, "text_field": self.text_field, "id_field": self.id_field}


class CsvSource(Source):
    """A CSV file with a header row; default ids are row numbers (header excluded)."""

    def __init__(self, path: Path, text_field: str = "text", id_field: str | None = None) -> None:
        self.path = path
        self.name = str(path)
        self.text_field = text_field
        self.id_field = id_field
        # A field may hold a whole article (csv's default limit is 128 KiB).
        csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_ARTICLE_BYTES))
        try:
            with self._open() as handle:
                fields = sniffed_csv_reader(handle).fieldnames or []
        except csv.Error as error:
            raise InputError(self.name, f"not a readable CSV file ({error})") from None
        for needed in (text_field, id_field):
            if needed is not None and needed not in fields:
                raise InputError(self.name, f"no column {needed!r} in the header (columns: {', '.join(fields) or 'none'})")

    def _open(self):
        # surrogateescape: a bad byte spoils only its own row (checked per row below).
        return self.path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")

    def _rows(self) -> Iterator[dict[str, str]]:
        with self._open() as handle:
            yield from sniffed_csv_reader(handle)

    def __iter__(self) -> Iterator[PendingInput]:
        rows = self._rows()
        number = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as error:
                raise InputError(self.name, f"not a readable CSV file after row {number} ({error})") from None
            number += 1
            where = f"{self.name}: row {number}"
            if None in row:  # more cells than header columns
                row.pop(None)
            bad = [name for name in (self.id_field, self.text_field) if name and has_undecodable_bytes(row.get(name) or "")]
            if bad:
                item_id = str(number) if self.id_field in bad or not self.id_field else str(row.get(self.id_field) or number)
                yield PendingInput(
                    item_id, None, _digest("bad-bytes", str(row.get(bad[0])).encode("utf-8", "surrogateescape")),
                    _fail(where, f"the {bad[0]!r} column holds bytes that are not valid UTF-8"), where=where,
                )
                continue
            yield record_input(row, where=where, row_number=number, text_field=self.text_field, id_field=self.id_field)

    def count(self) -> int:
        return sum(1 for _ in self._rows())

    def describe(self) -> dict[str, Any]:
        return {"input": str(self.path.resolve()), "text_field": self.text_field, "id_field": self.id_field}


class ParquetSource(Source):
    """A Parquet file (or a folder of them, read in name order), streamed by row group."""

    def __init__(self, path: Path, text_field: str = "text", id_field: str | None = None) -> None:
        self.path = path
        self.name = str(path)
        self.text_field = text_field
        self.id_field = id_field
        self.files = parquet_files(path)
        check_parquet_columns(self.files, text_field, id_field, self.name)

    def __iter__(self) -> Iterator[PendingInput]:
        import pyarrow.parquet as pq

        number = 0
        columns = [c for c in (self.text_field, self.id_field) if c is not None]
        for file in self.files:
            parquet = pq.ParquetFile(file)
            for batch in parquet.iter_batches(batch_size=1024, columns=columns):
                for record in batch.to_pylist():
                    number += 1
                    yield record_input(
                        record, where=f"{self.name}: row {number}", row_number=number,
                        text_field=self.text_field, id_field=self.id_field,
                    )

    def count(self) -> int:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(file).metadata.num_rows for file in self.files)

    def describe(self) -> dict[str, Any]:
        return {"input": str(self.path.resolve()), "text_field": self.text_field, "id_field": self.id_field}


def parquet_files(path: Path) -> list[Path]:
    """The Parquet files of a path: the file itself, or a folder's ``*.parquet`` in name order."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PARQUET_SUFFIXES)
        if not files:
            raise InputError(str(path), "no Parquet files in this folder")
        return files
    return [path]


def check_parquet_columns(files: list[Path], text_field: str, id_field: str | None, name: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for file in files:
        try:
            schema = pq.read_schema(file)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError(str(file), f"not a readable Parquet file ({error})") from None
        for needed in (text_field, id_field):
            if needed is not None and needed not in schema.names:
                raise InputError(str(file), f"no column {needed!r} (columns: {', '.join(schema.names)})")


def is_parquet_folder(path: Path) -> bool:
    """A folder is read as a Parquet data set when its files are Parquet files and no articles."""
    files = [p.suffix.lower() for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
    return any(s in PARQUET_SUFFIXES for s in files) and not any(s in ARTICLE_SUFFIXES for s in files)


def check_regular_input(path: Path, location: str) -> None:
    """Refuse a scan input that does not exist or is a FIFO, device or socket (``-`` reads a stream)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(location, "no such file or folder") from None
    except OSError as error:
        raise InputError(location, f"cannot read it: {error.strerror or error}") from None
    if problem := not_regular_file(mode):
        raise InputError(location, f"{problem} (a stream is read from standard input: -)")


def open_source(
    location: str,
    *,
    text_field: str = "text",
    id_field: str | None = None,
    encoding: str | None = None,
) -> Source:
    """The source for a scan input, chosen by what it is (folder, ``-``) or its extension."""
    if location == STDIN:
        return JsonlSource(None, text_field, id_field)
    path = Path(location)
    check_regular_input(path, location)
    suffix = path.suffix.lower()
    if path.is_dir():
        if is_parquet_folder(path):
            return ParquetSource(path, text_field, id_field)
        return FolderSource(path, encoding)
    if suffix in JSONL_SUFFIXES:
        return JsonlSource(path, text_field, id_field)
    if suffix in CSV_SUFFIXES:
        return CsvSource(path, text_field, id_field)
    if suffix in PARQUET_SUFFIXES:
        return ParquetSource(path, text_field, id_field)
    if suffix in ARTICLE_SUFFIXES:
        return FileSource(path, encoding)
    raise InputError(
        location,
        "cannot tell what this input is: give a folder, a .jsonl, .csv, .tsv or .parquet file, "
        "an article file (.txt, .md, .html) or - for JSONL on standard input",
    )
