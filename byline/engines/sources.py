"""Enumerate the inputs of a batch scan, lazily, one :class:`PendingInput` each.

A scan input is a folder of article files (recursive), a JSONL, CSV or Parquet
file (or a folder of Parquet files) of records, ``-`` (JSONL on standard input)
or a single article file, read as :mod:`byline.input.records` reads them for
every command. Enumeration is cheap: it yields each input's id and a
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

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from byline.errors import InputError
from byline.input import Article, article_from_text, read_article
from byline.input.reading import MAX_ARTICLE_BYTES, check_regular_path
from byline.input.records import (
    RecordFormat,
    RecordRow,
    article_files,
    count_records,
    has_undecodable_bytes,
    is_article_file,
    read_records,
    record_format,
    require_columns,
)

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
    pending = _record_input(
        record, where=where, row_number=row_number, text_field=text_field, id_field=id_field
    )
    pending.where = where
    return pending


def _record_input(
    record: Any, *, where: str, row_number: int, text_field: str, id_field: str | None
) -> PendingInput:
    if not isinstance(record, dict):
        kind = type(record).__name__
        return PendingInput(
            str(row_number),
            None,
            _digest("not-object", kind),
            _fail(where, f"not a JSON object (got {kind})"),
        )
    item_id = str(row_number)
    if id_field is not None:
        value = record.get(id_field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return PendingInput(
                item_id,
                None,
                _digest("no-id"),
                _fail(where, f"no {id_field!r} field (the id) in this record"),
            )
        item_id = str(value)
    if text_field not in record:
        return PendingInput(
            item_id,
            None,
            _digest("no-text"),
            _fail(where, f"no {text_field!r} field (the text) in this record"),
        )
    text = record[text_field]
    if text is None:
        return PendingInput(
            item_id, None, _digest("null-text"), _fail(where, f"the {text_field!r} field is empty (null)")
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            return PendingInput(
                item_id,
                None,
                _digest("bad-bytes", text),
                _fail(where, f"the {text_field!r} field is not valid UTF-8 (byte at offset {error.start})"),
            )
    if not isinstance(text, str):
        kind = type(text).__name__
        return PendingInput(
            item_id,
            None,
            _digest("not-text", kind),
            _fail(where, f"the {text_field!r} field is not text (got {kind})"),
        )
    return PendingInput(item_id, None, _digest("text", text), _text_reader(text, where))


def _text_reader(text: str, where: str) -> Callable[[], Article]:
    def read() -> Article:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_ARTICLE_BYTES:
            raise InputError(
                where, f"the text is too large ({size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,})"
            )
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
    """Article files under a folder (:func:`~byline.input.records.article_files`): ids are
    paths relative to the folder."""

    def __init__(self, folder: Path, encoding: str | None = None) -> None:
        self.folder = folder
        self.name = str(folder)
        self.encoding = encoding

    def _files(self) -> Iterator[tuple[str, Path]]:
        return article_files(self.folder)

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


class RecordSource(Source):
    """Records of a JSONL, CSV or Parquet file (or a folder of Parquet files), or JSONL on
    standard input (``path`` None); default ids are line (JSONL) or row numbers."""

    def __init__(
        self, path: Path | None, format: RecordFormat, text_field: str = "text", id_field: str | None = None
    ) -> None:
        self.path = path
        self.format = format
        self.name = str(path) if path is not None else "<stdin>"
        self.text_field = text_field
        self.id_field = id_field
        if path is not None:
            require_columns(path, format, (text_field, id_field))

    def __iter__(self) -> Iterator[PendingInput]:
        columns = [c for c in (self.text_field, self.id_field) if c is not None]
        for row in read_records(
            self.path, self.format, columns=columns, max_line_bytes=MAX_LINE_BYTES, name=self.name
        ):
            if row.problem is not None:
                # The digest of the bad line or cell itself: an edited one is redone on resume.
                yield PendingInput(
                    self._problem_id(row),
                    None,
                    _digest("bad-line" if row.record is None else "bad-bytes", row.raw),
                    _fail(row.where, row.problem),
                    where=row.where,
                )
            else:
                yield record_input(
                    row.record,
                    where=row.where,
                    row_number=row.number,
                    text_field=self.text_field,
                    id_field=self.id_field,
                )

    def _problem_id(self, row: RecordRow) -> str:
        """A bad record's id: its line or row number, or its id cell when that is readable."""
        value = (row.record or {}).get(self.id_field) if self.id_field else None
        if isinstance(value, str) and value and not has_undecodable_bytes(value):
            return value
        return str(row.number)

    def count(self) -> int | None:
        return None if self.path is None else count_records(self.path, self.format)

    def describe(self) -> dict[str, Any]:
        where = "<stdin>" if self.path is None else str(self.path.resolve())
        return {"input": where, "text_field": self.text_field, "id_field": self.id_field}


def check_regular_input(path: Path, location: str) -> None:
    """Refuse a scan input that does not exist or is a FIFO, device or socket (``-`` reads a stream)."""
    check_regular_path(path, location, hint="a stream is read from standard input: -")


def open_source(
    location: str,
    *,
    text_field: str = "text",
    id_field: str | None = None,
    encoding: str | None = None,
) -> Source:
    """The source for a scan input, chosen by what it is (folder, ``-``) or its extension."""
    if location == STDIN:
        return RecordSource(None, "jsonl", text_field, id_field)
    path = Path(location)
    check_regular_input(path, location)
    format = record_format(path)
    if format is not None:
        return RecordSource(path, format, text_field, id_field)
    if path.is_dir():
        return FolderSource(path, encoding)
    if is_article_file(path):
        return FileSource(path, encoding)
    raise InputError(
        location,
        "cannot tell what this input is: give a folder, a .jsonl, .csv, .tsv or .parquet file, "
        "an article file (.txt, .md, .html) or - for JSONL on standard input",
    )
