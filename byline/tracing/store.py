"""The SQLite half of a source index: articles, their sentence spans and vectors, and a BM25 table.

SQLite is the source of truth: the approximate-nearest-neighbour file next to
it is derived from the vectors stored here and can always be rebuilt from
them. Every batch of articles is committed in one transaction, so an
interrupted indexing run loses at most the batch it was in.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from byline.errors import InputError

FORMAT_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    key INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so a stale vector can never point at a new article
    id TEXT NOT NULL UNIQUE,
    title TEXT, url TEXT, date TEXT,
    text TEXT NOT NULL,
    digest TEXT NOT NULL,                   -- of the text and metadata: re-adding an unchanged article is skipped
    n_sentences INTEGER NOT NULL,
    spans BLOB NOT NULL,                    -- int32 (start, end) pairs into text
    vectors BLOB NOT NULL                   -- float16 unit vectors, one per span
);
CREATE VIRTUAL TABLE IF NOT EXISTS article_terms USING fts5(
    text, content='articles', content_rowid='key', tokenize='unicode61 remove_diacritics 2'
);
"""


@dataclass
class StoredArticle:
    key: int
    id: str
    title: str | None
    url: str | None
    date: str | None
    text: str
    spans: np.ndarray  # (n, 2) int32
    vectors: np.ndarray  # (n, 384) float32

    def sentence(self, position: int) -> tuple[str, int, int]:
        """``(text, start, end)`` of one sentence."""
        start, end = (int(v) for v in self.spans[position])
        return self.text[start:end], start, end


def article_digest(text: str, title: str | None, url: str | None, date: str | None) -> str:
    payload = "\x1f".join([text, title or "", url or "", date or ""]).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


class SourceStore:
    """Articles and their sentence vectors in one SQLite file."""

    def __init__(self, path: Path, *, create: bool = False, read_only: bool = False) -> None:
        self.path = path
        if not create and not path.exists():
            raise InputError(
                str(path.parent),
                "not a Byline source index (no sources.sqlite; build one with `byline index`)",
            )
        try:
            if read_only:
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            else:
                self.db = sqlite3.connect(path, check_same_thread=False)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(_SCHEMA)
            version = self.meta("format_version")
        except sqlite3.DatabaseError as error:
            raise InputError(str(path), f"not a readable Byline source index ({error})") from None
        if version is None and not read_only:
            self.set_meta({"format_version": str(FORMAT_VERSION)})
        elif version is not None and int(version) != FORMAT_VERSION:
            raise InputError(
                str(path), f"index format {version} is not supported (this Byline reads {FORMAT_VERSION})"
            )

    def close(self) -> None:
        self.db.close()

    # -- metadata ---------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    def set_meta(self, values: dict[str, str]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", values.items())

    # -- writing ----------------------------------------------------------------
    def digests(self, ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """``id -> (key, digest)`` for the given ids that are already stored."""
        found: dict[str, tuple[int, str]] = {}
        for chunk_start in range(0, len(ids), 500):
            chunk = list(ids[chunk_start : chunk_start + 500])
            marks = ",".join("?" * len(chunk))
            for key, article_id, digest in self.db.execute(
                f"SELECT key, id, digest FROM articles WHERE id IN ({marks})", chunk
            ):
                found[article_id] = (key, digest)
        return found

    def write_batch(self, rows: Iterable[dict], replaced_keys: Sequence[int]) -> list[int]:
        """Delete ``replaced_keys`` and insert ``rows`` in one transaction; return the new keys."""
        keys: list[int] = []
        with self.db:
            for key in replaced_keys:
                old = self.db.execute("SELECT text FROM articles WHERE key = ?", (key,)).fetchone()
                if old is not None:
                    self.db.execute(
                        "INSERT INTO article_terms(article_terms, rowid, text) VALUES ('delete', ?, ?)",
                        (key, old[0]),
                    )
                    self.db.execute("DELETE FROM articles WHERE key = ?", (key,))
            for row in rows:
                cursor = self.db.execute(
                    "INSERT INTO articles(id, title, url, date, text, digest, n_sentences, spans, vectors)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row["id"],
                        row["title"],
                        row["url"],
                        row["date"],
                        row["text"],
                        row["digest"],
                        len(row["spans"]),
                        np.asarray(row["spans"], dtype=np.int32).tobytes(),
                        np.asarray(row["vectors"], dtype=np.float16).tobytes(),
                    ),
                )
                key = int(cursor.lastrowid)
                self.db.execute("INSERT INTO article_terms(rowid, text) VALUES (?, ?)", (key, row["text"]))
                keys.append(key)
        return keys

    # -- reading ----------------------------------------------------------------
    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def keys(self) -> set[int]:
        return {int(k) for (k,) in self.db.execute("SELECT key FROM articles")}

    def article_vectors(self, keys: Iterable[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(key, article vector)`` pairs: the normalised mean of the sentence vectors."""
        if keys is None:
            rows = self.db.execute("SELECT key, vectors FROM articles ORDER BY key")
        else:
            wanted = list(keys)
            rows = (
                row
                for start in range(0, len(wanted), 500)
                for row in self.db.execute(
                    f"SELECT key, vectors FROM articles WHERE key IN ({','.join('?' * len(wanted[start : start + 500]))})",
                    wanted[start : start + 500],
                )
            )
        for key, blob in rows:
            yield int(key), article_vector(_vectors(blob))

    def articles(self, keys: Sequence[int]) -> dict[int, StoredArticle]:
        found: dict[int, StoredArticle] = {}
        keys = list(keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for key, article_id, title, url, date, text, spans, vectors in self.db.execute(
                "SELECT key, id, title, url, date, text, spans, vectors FROM articles"
                f" WHERE key IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                found[int(key)] = StoredArticle(
                    int(key),
                    article_id,
                    title,
                    url,
                    date,
                    text,
                    np.frombuffer(spans, dtype=np.int32).reshape(-1, 2),
                    _vectors(vectors),
                )
        return found

    def lexical_search(self, terms: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """BM25 over article texts for any of ``terms``: ``(key, score)``, best first (higher is better)."""
        if not terms:
            return []
        query = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        rows = self.db.execute(
            "SELECT rowid, bm25(article_terms) FROM article_terms WHERE article_terms MATCH ? ORDER BY bm25(article_terms) LIMIT ?",
            (query, limit),
        ).fetchall()
        return [(int(key), -float(score)) for key, score in rows]

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """How many articles contain each term (FTS5 tokens, lower case)."""
        if not terms:
            return {}
        try:
            self.db.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.term_counts USING fts5vocab(main, 'article_terms', 'row')"
            )
        except sqlite3.OperationalError:
            return {}
        marks = ",".join("?" * len(terms))
        return {
            term: int(doc)
            for term, doc in self.db.execute(
                f"SELECT term, doc FROM temp.term_counts WHERE term IN ({marks})", list(terms)
            )
        }


def _vectors(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).reshape(-1, 384).astype(np.float32)


def article_vector(sentence_vectors: np.ndarray) -> np.ndarray:
    """One vector for a whole article: the normalised mean of its sentence vectors."""
    mean = sentence_vectors.mean(axis=0) if len(sentence_vectors) else np.zeros(384, dtype=np.float32)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)
