"""Read candidate source articles: a folder of article files, or JSONL, CSV or Parquet records,
read as :mod:`byline.input.records` reads them for every command.

Records need ``id`` and ``text``; ``title``, ``url`` and ``date`` are kept when
present. A bad record (no id, no text, undecodable file...) is yielded as a
:class:`SourceProblem` naming where it is, so that one bad record never stops
an indexing run; a bad SOURCES argument (missing file, unknown format, no
``text`` column) raises :class:`~byline.errors.InputError` at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from byline.errors import InputError
from byline.input import article_from_text, read_article
from byline.input.reading import check_regular_path
from byline.input.records import (
    RecordFormat,
    article_files,
    is_article_file,
    read_records,
    record_format,
    require_columns,
)

REQUIRED_FIELDS = ("id", "text")
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
    check_regular_path(path, str(path))
    format = record_format(path)
    if format is not None:
        return _read_records(path, format)
    if path.is_dir():
        return _read_directory(path, encoding)
    if is_article_file(path):
        return _read_files([(path.name, path)], encoding)
    raise InputError(
        str(path),
        f"unknown kind of SOURCES ({path.suffix.lower() or 'no suffix'}); give a directory of .txt/.html files "
        "or a .jsonl, .csv, .tsv or .parquet file with 'id' and 'text'",
    )


def _read_directory(root: Path, encoding: str | None = None) -> Iterator[SourceItem]:
    files = list(article_files(root))
    if not files:
        raise InputError(str(root), "the directory holds no .txt or .html files")
    return _read_files(files, encoding)


def _read_files(files: list[tuple[str, Path]], encoding: str | None = None) -> Iterator[SourceItem]:
    for article_id, file in files:
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
        problem = (
            "the record has no 'text'" if text is None else f"'text' is {type(text).__name__}, not a string"
        )
        return SourceProblem(f"{where} (id {article_id})", problem)
    try:
        article = article_from_text(text, source=f"{where} (id {article_id})")
    except InputError as error:
        return SourceProblem(error.source, error.problem)
    fields = {name: _clean(record.get(name)) for name in OPTIONAL_FIELDS}
    return SourceArticle(article_id, article.text, **fields)


def _read_records(path: Path, format: RecordFormat) -> Iterator[SourceItem]:
    # Not a generator itself, so that a missing column is reported before indexing starts.
    require_columns(path, format, REQUIRED_FIELDS)
    return _records(path, format)


def _records(path: Path, format: RecordFormat) -> Iterator[SourceItem]:
    for row in read_records(path, format, columns=(*REQUIRED_FIELDS, *OPTIONAL_FIELDS)):
        yield (
            make_source(row.record, row.where)
            if row.problem is None
            else SourceProblem(row.where, row.problem)
        )
