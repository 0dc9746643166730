"""`byline scan` and `byline index` read the same kinds of files, through one reader
(byline/input/records.py): every suffix either accepts, both accept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from byline.engines.sources import open_source
from byline.errors import InputError
from byline.input.records import ARTICLE_SUFFIXES, RECORD_SUFFIXES
from byline.tracing import SourceArticle, read_sources

TEXT = "The harbour ferry will run every twenty minutes from Monday, the council said."


def _write_records(path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        path.write_text(json.dumps({"id": "a", "text": TEXT}) + "\n")
    elif suffix == ".csv":
        path.write_text(f'id,text\na,"{TEXT}"\n')
    elif suffix == ".tsv":
        path.write_text(f"id\ttext\na\t{TEXT}\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"id": ["a"], "text": [TEXT]}), path)


def _write_article(path: Path) -> None:
    html = path.suffix.lower() in (".html", ".htm", ".xhtml")
    path.write_text(f"<html><body><article><p>{TEXT}</p></article></body></html>" if html else TEXT)


def _scan_texts(location: Path, **fields: str) -> list[str]:
    items = [pending.read() for pending in open_source(str(location), **fields)]
    assert all(item.error is None for item in items), [item.error for item in items]
    return [item.article.text for item in items]


def _index_texts(location: Path) -> list[str]:
    items = list(read_sources(location))
    assert all(isinstance(item, SourceArticle) for item in items), items
    return [item.text for item in items]


@pytest.mark.parametrize("suffix", RECORD_SUFFIXES)
def test_a_record_file_is_read_by_scan_and_index(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"records{suffix}"
    _write_records(path)
    assert _scan_texts(path, id_field="id") == _index_texts(path) == [TEXT]


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_a_folder_of_parquet_files_is_read_by_scan_and_index(tmp_path: Path, suffix: str) -> None:
    folder = tmp_path / "crawl"
    folder.mkdir()
    _write_records(folder / f"part-0{suffix}")
    assert _scan_texts(folder, id_field="id") == _index_texts(folder) == [TEXT]


@pytest.mark.parametrize("suffix", ARTICLE_SUFFIXES)
def test_an_article_file_and_a_folder_of_them_are_read_by_scan_and_index(tmp_path: Path, suffix: str) -> None:
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    _write_article(folder / "sub" / f"story{suffix}")
    assert (
        _scan_texts(folder / "sub" / f"story{suffix}")
        == _index_texts(folder / "sub" / f"story{suffix}")
        == [TEXT]
    )
    assert _scan_texts(folder) == _index_texts(folder) == [TEXT]


@pytest.mark.parametrize("name", ["sheet.xlsx", "notes.rtf", "archive.jsonl.gz"])
def test_other_files_are_refused_by_both(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError):
        open_source(str(path))
    with pytest.raises(InputError):
        read_sources(path)
