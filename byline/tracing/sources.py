"""Read candidate source articles: a folder of .txt/.html files, or JSONL, CSV or Parquet records.

Records need ``id`` and ``text``; ``title``, ``url`` and ``date`` are kept when
present. A bad record (no id, no text, undecodable file...) is yielded as a
:class:`SourceProblem` naming where it is, so that one bad record never stops
an indexing run; a bad SOURCES argument (missing file, unknown format, no
``text`` column) raises :class:`~byline.errors.InputError` at once.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from byline.errors import InputError
from byline.input import article_from_text, read_article
from byline.input.reading import not_regular_file
from byline.input.records import CSV_SUFFIXES, has_undecodable_bytes, json_lines, sniffed_csv_reader

TEXT_SUFFIXES = (".txt", ".md", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
OPTIONAL_FIELDS = ("title", "url", "date")


@dataclass(frozen=True)
class SourceArticle:
    """One candidate source; ``text`` is normalised like every article Byline reads."""

    id: str
    text: str
    title: str | None = None
    url: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class SourceProblem:
    """A record that could not be used: ``where`` names it (file, or file and line/row)."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


SourceItem = SourceArticle | SourceProblem


def read_sources(path: str | Path, *, encoding: str | None = None) -> Iterator[SourceItem]:
    """Yield every article (or problem) of SOURCES, in a stable order.

    ``encoding`` applies to .txt/.html files (default: UTF-8, or as a byte-order mark says);
    JSONL, CSV and Parquet records are UTF-8 by definition.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(str(path), "no such file or directory") from None
    except OSError as error:
        raise InputError(str(path), f"cannot read it: {error.strerror or error}") from None
    if problem := not_regular_file(mode):
        raise InputError(str(path), problem)
    if path.is_dir():
        return _read_directory(path, encoding)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    if suffix == ".parquet":
        return _read_parquet(path)
    if suffix in TEXT_SUFFIXES + HTML_SUFFIXES:
        return _read_files(path.parent, [path], encoding)
    raise InputError(
        str(path),
        f"unknown kind of SOURCES ({suffix or 'no suffix'}); give a directory of .txt/.html files "
        "or a .jsonl, .csv, .tsv or .parquet file with 'id' and 'text'",
    )


def _read_directory(root: Path, encoding: str | None = None) -> Iterator[SourceItem]:
    files = sorted(
        # Not only regular files: a FIFO or a device gets a problem of its own (read_article
        # refuses it without opening it) rather than vanishing from the run.
        p for p in root.rglob("*")
        if p.suffix.lower() in TEXT_SUFFIXES + HTML_SUFFIXES and not p.name.startswith(".") and not p.is_dir()
    )
    if not files:
        raise InputError(str(root), "the directory holds no .txt or .html files")
    return _read_files(root, files, encoding)


def _read_files(root: Path, files: list[Path], encoding: str | None = None) -> Iterator[SourceItem]:
    for file in files:
        article_id = file.relative_to(root).as_posix()
        try:
            article = read_article(file, encoding=encoding)
        except InputError as error:
            yield SourceProblem(str(file), error.problem)
            continue
        yield SourceArticle(article_id, article.text, title=article.title)


def _clean(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas-like writers
        return None
    text = str(value).strip()
    return text or None


def make_source(record: Mapping[str, Any], where: str) -> SourceItem:
    """Validate one record (a dict with ``id`` and ``text``) into a :class:`SourceArticle`."""
    article_id = _clean(record.get("id"))
    if article_id is None:
        return SourceProblem(where, "the record has no 'id'")
    text = record.get("text")
    if not isinstance(text, str):
        problem = "the record has no 'text'" if text is None else f"'text' is {type(text).__name__}, not a string"
        return SourceProblem(f"{where} (id {article_id})", problem)
    try:
        article = article_from_text(text, source=f"{where} (id {article_id})")
    except InputError as error:
        return SourceProblem(error.source, error.problem)
    fields = {name: _clean(record.get(name)) for name in OPTIONAL_FIELDS}
    return SourceArticle(article_id, article.text, **fields)


def _read_jsonl(path: Path) -> Iterator[SourceItem]:
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InputError(str(path), f"cannot read the file: {error.strerror or error}") from None
    return _jsonl_rows(path, handle)


def _jsonl_rows(path: Path, handle: BinaryIO) -> Iterator[SourceItem]:
    with handle:
        for line in json_lines(handle):
            where = f"{path}: line {line.number}"
            yield SourceProblem(where, line.problem) if line.record is None else make_source(line.record, where)


def _read_csv(path: Path) -> Iterator[SourceItem]:
    # Not a generator itself, so that a missing column is reported before indexing starts.
    csv.field_size_limit(1 << 30)
    try:
        # Undecodable bytes become surrogates, so that they cost their row, not the file.
        handle = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = sniffed_csv_reader(handle)
        columns = reader.fieldnames or []
    except UnicodeDecodeError:
        raise InputError(str(path), "the CSV file is not valid UTF-8") from None
    except OSError as error:
        raise InputError(str(path), f"cannot read the file: {error.strerror or error}") from None
    try:
        _check_columns(path, columns)
    except InputError:
        handle.close()
        raise
    return _csv_rows(path, handle, reader)


def _csv_rows(path: Path, handle, reader: csv.DictReader) -> Iterator[SourceItem]:
    with handle:
        row = 0  # data rows, the header excluded, as `byline scan` and Parquet number them
        while True:
            row += 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as error:
                raise InputError(f"{path}: row {row}", f"cannot parse the CSV file ({error})") from None
            where = f"{path}: row {row}"
            bad = [name for name, value in record.items() if isinstance(value, str) and has_undecodable_bytes(value)]
            if bad:
                yield SourceProblem(where, f"the {bad[0]!r} column holds bytes that are not valid UTF-8")
            else:
                yield make_source(record, where)


def _read_parquet(path: Path) -> Iterator[SourceItem]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(str(path), "reading Parquet needs pyarrow: pip install pyarrow") from None
    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several kinds for a damaged file
        raise InputError(str(path), f"not a readable Parquet file ({error})") from None
    columns = parquet.schema_arrow.names
    _check_columns(path, columns)
    return _parquet_rows(path, parquet, [c for c in ("id", "text", *OPTIONAL_FIELDS) if c in columns])


def _parquet_rows(path: Path, parquet, wanted: list[str]) -> Iterator[SourceItem]:
    row = 0
    for batch in parquet.iter_batches(columns=wanted, batch_size=1024):
        for record in batch.to_pylist():
            row += 1
            yield make_source(record, f"{path}: row {row}")


def _check_columns(path: Path, columns: list[str]) -> None:
    missing = [c for c in ("id", "text") if c not in columns]
    if missing:
        found = ", ".join(repr(c) for c in columns) or "none"
        raise InputError(str(path), f"needs columns 'id' and 'text'; missing {', '.join(missing)} (found: {found})")
