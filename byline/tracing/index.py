"""A searchable index of candidate source articles, and tracing an article back to its source.

    from byline.tracing import SourceIndex
    with SourceIndex.open("my-index") as index:
        result = index.trace(text)              # a TraceResult; result.to_dict() for JSON
        result.matches[0].id, result.alignment.sentences

An index is a directory: ``sources.sqlite`` (articles, sentence spans and
vectors, a BM25 table; the source of truth) and ``articles.usearch`` (one
vector per article for approximate nearest-neighbour search).

Finding the source: candidates come from two retrievers, the articles whose
mean sentence vector is nearest (usearch) and the articles sharing the most
distinctive words, names and numbers (BM25 in SQLite FTS5, because rewrites
keep names and numbers). Each candidate is then re-ranked by aligning its
sentences with the article's: how much of the article the candidate supports
(and how much of the candidate the article reuses), how close the two articles
are overall, how many of the article's numbers and names, words and word pairs
it contains, and its BM25 score. The weights are fitted on news-train
(training/fit_trace_rerank.py writes them to rerank_weights.json).
"""

from __future__ import annotations

import fcntl
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from byline.errors import InputError
from byline.input import Article, article_from_text
from byline.scoring.devices import check_device
from byline.tracing.alignment import SUPPORT_THRESHOLD, align, source_reuse
from byline.tracing.encoder import (
    MODEL_NAME,
    SentenceEncoder,
    check_precision_runs_on,
    default_precision,
    encoder_name,
    precision_of,
    shared_encoder,
)
from byline.tracing.facts import known_facts, names_in, numbers_in
from byline.tracing.result import SourceMatch, TraceResult
from byline.tracing.sentences import length_weights, split_for_matching
from byline.tracing.sources import SourceArticle, SourceItem, SourceProblem, make_source, read_sources
from byline.tracing.store import SourceStore, StoredArticle, article_digest, article_vector
from byline.tracing.vector_index import VectorIndex
from byline.version import __version__

if TYPE_CHECKING:
    from byline.detector import Detector

STORE_FILE = "sources.sqlite"
VECTORS_FILE = "articles.usearch"
LOCK_FILE = ".lock"

#: Candidates taken from each retriever before re-ranking.
VECTOR_CANDIDATES = 30
LEXICAL_CANDIDATES = 20
#: Distinctive query terms sent to BM25.
LEXICAL_TERMS = 24
#: The shipped re-ranking weights, written by training/fit_trace_rerank.py.
RERANK_WEIGHTS_FILE = Path(__file__).with_name("rerank_weights.json")
_RERANK = json.loads(RERANK_WEIGHTS_FILE.read_text(encoding="utf-8"))
#: Re-ranking weights (sum 1, so the score stays in 0-1). Fitted, not chosen by hand: a conditional
#: logit (softmax over each query's candidates) on AI texts of news-train; news-dev is only evaluated.
WEIGHTS: dict[str, float] = _RERANK["weights"]
#: A match scoring at least this is reported as ``likely_source``: on the news-train texts the weights
#: were fitted on, it flags the true source as often as the rule before the fitted weights did.
LIKELY_SOURCE_SCORE: float = _RERANK["likely_source_score"]
#: Words (letters and digits) for choosing BM25 terms and for the shared-word features.
_TERM = re.compile(r"[^\W_]+")
#: Save the vector file at least this often while indexing (SQLite commits every batch).
CHECKPOINT_SECONDS = 60.0


@dataclass
class IndexReport:
    """What one ``add`` run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[SourceProblem] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "problems": [str(p) for p in self.problems],
            "seconds": round(self.seconds, 2),
        }


@dataclass
class _Candidate:
    article: StoredArticle
    score: float
    features: dict[str, float]


class SourceIndex:
    """Candidate source articles, searchable by meaning and by shared words."""

    def __init__(
        self,
        path: Path,
        store: SourceStore,
        vectors: VectorIndex,
        *,
        read_only: bool,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        self.path = path
        self.store = store
        self.vectors = vectors
        self.read_only = read_only
        self._encoder = encoder

    # -- opening ----------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, *, encoder: SentenceEncoder | None = None) -> "SourceIndex":
        """Open an existing index for tracing (read-only)."""
        path = Path(path)
        if not path.exists():
            raise InputError(str(path), "no such index (build one with `byline index SOURCES --out INDEX`)")
        if not path.is_dir() or not (path / STORE_FILE).exists():
            raise InputError(
                str(path), "not a Byline source index (build one with `byline index SOURCES --out INDEX`)"
            )
        store = SourceStore(path / STORE_FILE, read_only=True)
        index = cls(path, store, _load_vectors(path, store), read_only=True, encoder=encoder)
        try:
            index._check_encoder()
        except BaseException:
            store.close()
            raise
        return index

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        encoder: SentenceEncoder | None = None,
        precision: str | None = None,
        device: str | None = None,
    ) -> "SourceIndex":
        """Open an index for adding articles, creating it if needed.

        ``precision`` (``int8`` or ``float32``) chooses the sentence encoder's weights for a new
        index: by default int8 on a CPU and float32 on another ``device`` (a GPU). An existing
        index keeps the encoder it was built with; asking for another is an error.
        """
        path = Path(path)
        requested = encoder_name(precision) if precision is not None else None
        wanted = getattr(encoder, "name", None) or requested or encoder_name(default_precision(device))
        if precision is not None:  # before anything is created: a new index must not record what cannot run
            check_precision_runs_on(precision, device)
        if device is not None:  # and a device this machine lacks, before anything is created
            check_device(device)
        if path.exists() and not path.is_dir():
            raise InputError(str(path), "exists and is not a directory")
        if path.is_dir() and any(path.iterdir()) and not (path / STORE_FILE).exists():
            raise InputError(str(path), "is a non-empty directory that is not a Byline source index")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(str(path), f"cannot create the index here ({error.strerror or error})") from None
        store = SourceStore(path / STORE_FILE, create=True)
        if store.meta("encoder") is None:
            store.set_meta({"encoder": wanted, "created_by": f"byline {__version__}"})
        index = cls(path, store, _load_vectors(path, store), read_only=False, encoder=encoder)
        try:
            index._check_encoder(requested)
            if encoder is None and device is not None:
                index._encoder = SentenceEncoder(device=device, precision=precision_of(index.encoder_name))
        except BaseException:
            store.close()
            raise
        if index.vectors.dirty:
            index.vectors.save()
        return index

    @property
    def encoder_name(self) -> str:
        """The sentence encoder whose vectors the index holds (older indexes record none: float32)."""
        return self.store.meta("encoder") or MODEL_NAME

    def _check_encoder(self, requested: str | None = None) -> None:
        """Refuse an encoder this Byline lacks, and a given encoder or requested precision other than the index's."""
        recorded = self.encoder_name
        if precision_of(recorded) is None:
            raise InputError(
                str(self.path),
                f"index was built with encoder {recorded!r}, which this Byline does not have "
                f"(it has {encoder_name('float32')!r} and {encoder_name('int8')!r})",
            )
        for given in (getattr(self._encoder, "name", None), requested):
            if given is not None and given != recorded:
                raise InputError(
                    str(self.path),
                    f"index was built with encoder {recorded!r}; the encoder given is {given!r} "
                    "(use the index's own, or build a new index)",
                )

    def close(self) -> None:
        if not self.read_only and self.vectors.dirty:
            self.vectors.save()
        self.store.close()

    def __enter__(self) -> "SourceIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return self.store.count()

    @property
    def encoder(self) -> SentenceEncoder:
        if self._encoder is None:
            self._encoder = shared_encoder(precision_of(self.encoder_name))
        return self._encoder

    def info(self) -> dict[str, Any]:
        size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
        return {"path": str(self.path), "articles": len(self), "encoder": self.encoder_name, "bytes": size}

    # -- indexing ---------------------------------------------------------------
    def add_sources(self, sources: str | Path, *, encoding: str | None = None, **kwargs) -> IndexReport:
        """Index every article of SOURCES (see :func:`~byline.tracing.sources.read_sources`)."""
        return self.add(read_sources(sources, encoding=encoding), **kwargs)

    def add(
        self,
        items: Iterable[SourceItem | Mapping[str, Any]],
        *,
        batch_size: int = 64,
        progress: Callable[[IndexReport], None] | None = None,
    ) -> IndexReport:
        """Add articles; an id already indexed with the same text is skipped, with new text replaced.

        ``items`` are :class:`SourceArticle` / :class:`SourceProblem` (as :func:`read_sources`
        yields them) or records such as ``{"id": ..., "text": ..., "title": ...}``, checked as
        a JSONL line would be (a bad one becomes a problem, named ``record N``).
        Each batch is committed on its own, so an interrupted run keeps every
        finished batch and a rerun continues where it stopped.
        """
        if self.read_only:
            raise InputError(str(self.path), "opened read-only; use SourceIndex.create to add articles")
        report = IndexReport()
        started = time.perf_counter()
        last_checkpoint = time.monotonic()
        with open(self.path / LOCK_FILE, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise InputError(str(self.path), "another `byline index` is adding to this index") from None
            try:
                batch: list[SourceArticle] = []
                batch_ids: set[str] = set()
                for number, item in enumerate(items, 1):
                    if isinstance(item, Mapping):
                        item = make_source(item, f"record {number}")
                    elif not isinstance(item, (SourceArticle, SourceProblem)):
                        raise TypeError(
                            f"item {number}: expected a SourceArticle or a record with 'id' and "
                            f"'text', got {type(item).__name__}"
                        )
                    if isinstance(item, SourceProblem):
                        report.problems.append(item)
                        continue
                    if item.id in batch_ids:
                        # The same id again: finish the batch first, so the later record replaces the
                        # earlier one and is counted as updated (or unchanged) wherever batches fall.
                        self._add_batch(batch, report)
                        batch, batch_ids = [], set()
                    batch.append(item)
                    batch_ids.add(item.id)
                    if len(batch) >= batch_size:
                        self._add_batch(batch, report)
                        batch, batch_ids = [], set()
                        if time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                            self.vectors.save()
                            last_checkpoint = time.monotonic()
                        if progress:
                            report.seconds = time.perf_counter() - started
                            progress(report)
                if batch:
                    self._add_batch(batch, report)
            finally:
                # Whatever was committed to SQLite reaches the vector file too, even on Ctrl-C.
                if self.vectors.dirty:
                    self.vectors.save()
        report.seconds = time.perf_counter() - started
        if progress:
            progress(report)
        return report

    def _add_batch(self, batch: list[SourceArticle], report: IndexReport) -> None:
        existing = self.store.digests([article.id for article in batch])  # ids are unique within a batch
        todo: list[tuple[SourceArticle, str]] = []
        replaced: list[int] = []
        for article in batch:
            digest = article_digest(article.text, article.title, article.url, article.date)
            if article.id in existing:
                key, old_digest = existing[article.id]
                if old_digest == digest:
                    report.unchanged += 1
                    continue
                replaced.append(key)
            todo.append((article, digest))
        if not todo:
            return
        spans = [split_for_matching(article.text) for article, _ in todo]
        vectors = self.encoder.encode([span.text for article_spans in spans for span in article_spans])
        rows, cursor = [], 0
        for (article, digest), article_spans in zip(todo, spans):
            rows.append(
                {
                    "id": article.id,
                    "title": article.title,
                    "url": article.url,
                    "date": article.date,
                    "text": article.text,
                    "digest": digest,
                    "spans": [(s.start, s.end) for s in article_spans],
                    "vectors": vectors[cursor : cursor + len(article_spans)],
                }
            )
            cursor += len(article_spans)
        keys = self.store.write_batch(rows, replaced)
        self.vectors.remove(replaced)
        self.vectors.add(keys, np.stack([article_vector(row["vectors"]) for row in rows]))
        report.updated += len(replaced)
        report.added += len(todo) - len(replaced)

    # -- tracing ----------------------------------------------------------------
    def trace(
        self,
        article: str | Article,
        *,
        limit: int = 5,
        detector: "Detector | None" = None,
        source: str = "<text>",
    ) -> TraceResult:
        """The most likely sources of ``article``, best first, and its alignment with the best one.

        With a ``detector``, the result also carries Byline's machine-written verdict.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if not isinstance(article, Article):
            article = article_from_text(article, source=source)  # refuses what is not text, by name
        spans = split_for_matching(article.text)
        if not spans:
            raise InputError(article.source, "no sentences to trace")
        vectors = self.encoder.encode([span.text for span in spans])
        candidates = self._rank(article.text, spans, vectors)[:limit]
        matches = [
            SourceMatch(
                id=c.article.id,
                title=c.article.title,
                url=c.article.url,
                date=c.article.date,
                score=round(c.score, 4),
                likely_source=c.score >= LIKELY_SOURCE_SCORE,
                article_similarity=round(c.features["article_similarity"], 4),
                supported_share=round(c.features["supported_share"], 4),
                shared_facts=round(c.features["shared_facts"], 4),
            )
            for c in candidates
        ]
        alignment = align(article.text, spans, vectors, candidates[0].article) if candidates else None
        verdict = detector.detect(article).to_dict() if detector is not None else None
        return TraceResult(
            matches=matches,
            alignment=alignment,
            verdict=verdict,
            source=article.source,
            title=article.title,
            text=article.text,
            index={"path": str(self.path), "articles": len(self), "encoder": self.encoder_name},
            version=__version__,
        )

    def candidates(self, text: str, vectors: np.ndarray) -> dict[int, dict[str, float]]:
        """Keys of candidate sources with their retrieval scores (vector cosine, normalised BM25)."""
        found: dict[int, dict[str, float]] = {}
        for key, similarity in self.vectors.search(article_vector(vectors), VECTOR_CANDIDATES):
            found.setdefault(key, {})["vector"] = similarity
        lexical = self.store.lexical_search(self.distinctive_terms(text), LEXICAL_CANDIDATES)
        if lexical:
            top = lexical[0][1] or 1.0
            for key, score in lexical:
                found.setdefault(key, {})["bm25"] = score / top
        return found

    def _rank(self, text: str, spans, vectors: np.ndarray) -> list[_Candidate]:
        found = self.candidates(text, vectors)
        articles = self.store.articles(list(found))
        ranked = []
        for key, features in self.score_candidates(text, spans, vectors, articles, found).items():
            score = sum(WEIGHTS[name] * features[name] for name in WEIGHTS)
            ranked.append(_Candidate(articles[key], float(score), features))
        ranked.sort(key=lambda c: (-c.score, c.article.id))
        return ranked

    def score_candidates(
        self,
        text: str,
        spans,
        vectors: np.ndarray,
        articles: dict[int, StoredArticle],
        found: dict[int, dict[str, float]],
    ) -> dict[int, dict[str, float]]:
        """Every re-ranking feature of every candidate (``found`` holds their retrieval scores)."""
        facts = numbers_in(text) | names_in(text)
        weights = length_weights(spans)
        query_vector = article_vector(vectors)
        query_words = QueryWords(text)
        return {
            key: rerank_features(vectors, weights, query_vector, facts, article, query_words)
            | {"bm25": found.get(key, {}).get("bm25", 0.0)}
            for key, article in articles.items()
        }

    def distinctive_terms(self, text: str) -> list[str]:
        """The article's rarest indexed words: names, numbers and long words, rarest first."""
        counts: dict[str, int] = {}
        for word in _TERM.findall(text):
            if word[0].isupper() or word[0].isdigit() or len(word) >= 7:
                term = word.lower()
                counts[term] = counts.get(term, 0) + 1
        if not counts:
            return []
        total = max(len(self), 1)
        frequencies = self.store.document_frequencies(list(counts))
        # Words no source contains cannot help; words in most sources do not discriminate.
        usable = [(term, df) for term, df in frequencies.items() if 0 < df <= max(3, 0.2 * total)]
        usable.sort(key=lambda pair: (pair[1], pair[0]))
        return [term for term, _ in usable[:LEXICAL_TERMS]]


class QueryWords:
    """The query's lower-cased words and word pairs, computed once per query."""

    def __init__(self, text: str) -> None:
        words = _TERM.findall(text.lower())
        self.words = set(words)
        self.pairs = set(zip(words, words[1:]))


def rerank_features(
    vectors: np.ndarray,
    weights: np.ndarray,
    query_vector: np.ndarray,
    facts: set[str],
    article: StoredArticle,
    query_words: QueryWords,
) -> dict[str, float]:
    """How well ``article`` explains the query (all in 0-1)."""
    if len(article.vectors):
        similarity = vectors @ article.vectors.T
        best = similarity.max(axis=1)
        _, reused = source_reuse(similarity, article)
    else:
        best = np.zeros(len(vectors), dtype=np.float32)
        reused = 0.0
    source_vector = article_vector(article.vectors)
    if facts:
        # Every name the article could share is among the source's words (lower-cased), so
        # names_in() of the source, the slow part, is not needed here.
        shared = len(facts & known_facts(article.text)) / len(facts)
    else:
        shared = 0.0
    words = _TERM.findall(article.text.lower())
    return {
        "supported_share": float(weights[best >= SUPPORT_THRESHOLD].sum()),
        "mean_support": float(np.clip((weights * best).sum(), 0.0, 1.0)),
        "article_similarity": float(max(0.0, float(query_vector @ source_vector))),
        "shared_facts": float(shared),
        "source_reused": reused,
        "shared_words": len(query_words.words.intersection(words)) / max(len(query_words.words), 1),
        "shared_pairs": len(query_words.pairs.intersection(zip(words, words[1:])))
        / max(len(query_words.pairs), 1),
    }


def _load_vectors(path: Path, store: SourceStore) -> VectorIndex:
    """Load the vector file, rebuilding it from SQLite when it is missing, damaged or behind."""
    try:
        vectors = VectorIndex(path / VECTORS_FILE)
    except InputError:
        (path / VECTORS_FILE).unlink(missing_ok=True)
        vectors = VectorIndex(path / VECTORS_FILE)
    vectors.reconcile(store.keys(), store.article_vectors)
    return vectors


__all__ = ["IndexReport", "SourceIndex"]
