"""A SQLite cache of token statistics, so that retraining and re-running
benchmarks do not run the language models again.

Keyed by the model, the window scheme (window and context sizes, scored-token
budget) and the SHA-256 of the exact text scored; values are the arrays of
:class:`TokenStatistics` in NumPy's compressed ``.npz`` format (no pickle).

Statistics computed with a larger budget serve a smaller one: the language
model is causal and windows are laid out from the start of the text, so the
first ``k`` scored tokens do not depend on how many follow.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from byline.scoring.token_statistics import TokenStatistics

_FIELDS = ("log_probs", "entropies", "ranks", "log_prob_variances", "offsets")


#: Precisions a language model may compute training statistics in.
STATISTICS_DTYPES = ("float32", "bfloat16")


#: Precisions a detector may be asked for: ``auto`` is the fastest accurate one of the device
#: (:func:`byline.scoring.devices.resolve_precision`).
PRECISIONS = ("auto", *STATISTICS_DTYPES)


def check_precision(precision: str) -> str:
    """``precision`` if the language models can run in it (a name of :data:`PRECISIONS`)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def statistics_key(model: str, dtype: str = "float32") -> str:
    """The statistics cache's model key: float32 statistics under the model's name, others apart.

    A CPU with bfloat16 matrix units (AMX) computes a small model's statistics faster in bfloat16;
    they differ from float32 ones by a few hundredths of a nat per token, without bias.
    """
    if dtype not in STATISTICS_DTYPES:
        raise ValueError(f"unknown statistics dtype {dtype!r} (use {' or '.join(STATISTICS_DTYPES)})")
    return model if dtype == "float32" else f"{model}@{dtype}"


def scheme_name(window_tokens: int, context_tokens: int, max_scored_tokens: int, vocabulary: str = "") -> str:
    name = f"w{window_tokens}-c{context_tokens}-m{max_scored_tokens}"
    return f"{name}-v{vocabulary}" if vocabulary else name


def _parse_scheme(name: str) -> tuple[int, int, int, str]:
    w, c, m, *rest = name.split("-")
    return int(w[1:]), int(c[1:]), int(m[1:]), rest[0][1:] if rest else ""


def truncate(stats: TokenStatistics, max_scored_tokens: int) -> TokenStatistics:
    """The statistics of the first ``max_scored_tokens`` scored tokens."""
    if stats.n_scored <= max_scored_tokens:
        return stats
    keep = slice(0, max_scored_tokens)
    return TokenStatistics(
        model=stats.model,
        log_probs=stats.log_probs[keep],
        entropies=stats.entropies[keep],
        ranks=stats.ranks[keep],
        log_prob_variances=stats.log_prob_variances[keep],
        offsets=stats.offsets[keep],
        n_tokens=stats.n_tokens,
    )


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _encode(stats: TokenStatistics) -> bytes:
    buffer = io.BytesIO()
    # compressed: ranks and offsets are small integers, and caches get moved between machines
    np.savez_compressed(
        buffer,
        log_probs=stats.log_probs.astype(np.float32),
        entropies=stats.entropies.astype(np.float32),
        ranks=stats.ranks.astype(np.int64),
        log_prob_variances=stats.log_prob_variances.astype(np.float32),
        offsets=stats.offsets.astype(np.int64),
        n_tokens=np.array(stats.n_tokens),
    )
    return buffer.getvalue()


def _decode(model: str, blob: bytes) -> TokenStatistics:
    with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
        values = {field: arrays[field] for field in _FIELDS}
        return TokenStatistics(model=model, n_tokens=int(arrays["n_tokens"]), **values)


class StatisticsCache:
    """Token statistics on disk, one row per (model, scheme, text)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS statistics (model TEXT, scheme TEXT, text_sha256 TEXT,"
            " data BLOB, PRIMARY KEY (model, scheme, text_sha256))"
        )
        self._db.commit()

    def get_many(self, model: str, scheme: str, texts: Sequence[str]) -> list[TokenStatistics | None]:
        """Cached statistics per text, or ``None``; served from a larger budget when possible."""
        window, context, budget, vocabulary = _parse_scheme(scheme)
        found: list[TokenStatistics | None] = []
        for text in texts:
            rows = self._db.execute(
                "SELECT scheme, data FROM statistics WHERE model=? AND text_sha256=? AND scheme LIKE ?",
                (model, text_key(text), f"w{window}-c{context}-m%"),
            ).fetchall()
            hit = None
            for stored_scheme, blob in rows:
                *_, stored_budget, stored_vocabulary = _parse_scheme(stored_scheme)
                if stored_vocabulary != vocabulary:
                    continue
                if stored_budget == budget:
                    hit = _decode(model, blob)
                    break
                if stored_budget > budget:
                    hit = truncate(_decode(model, blob), budget)
                else:
                    stats = _decode(model, blob)
                    if stats.n_scored < stored_budget:  # the whole text fit in the smaller budget
                        hit = stats
            found.append(hit)
        return found

    def put_many(
        self, model: str, scheme: str, texts: Sequence[str], stats: Sequence[TokenStatistics]
    ) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO statistics VALUES (?, ?, ?, ?)",
            [(model, scheme, text_key(t), _encode(s)) for t, s in zip(texts, stats)],
        )
        self._db.commit()

    def compute_missing(
        self,
        model: str,
        scheme: str,
        texts: Sequence[str],
        compute: Callable[[Sequence[str]], list[TokenStatistics]],
        chunk_size: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> list[TokenStatistics]:
        """Return statistics for every text, computing (and storing) only the missing ones."""
        results = self.get_many(model, scheme, texts)
        missing = [i for i, r in enumerate(results) if r is None]
        if progress:
            progress(len(texts) - len(missing))
        for start in range(0, len(missing), chunk_size):
            indices = missing[start : start + chunk_size]
            batch = [texts[i] for i in indices]
            computed = compute(batch)
            self.put_many(model, scheme, batch, computed)
            for i, stats in zip(indices, computed):
                results[i] = stats
            if progress:
                progress(len(indices))
        return results  # type: ignore[return-value]

    def merge_from(self, other: str | Path) -> int:
        """Copy every row of another statistics cache file that this one lacks; returns how many."""
        other = Path(other)
        if not other.is_file():
            raise FileNotFoundError(f"{other}: no such statistics cache")
        before = self._db.total_changes
        self._db.execute("ATTACH DATABASE ? AS other", (str(other),))
        try:
            self._db.execute(
                "INSERT OR IGNORE INTO statistics SELECT model, scheme, text_sha256, data FROM other.statistics"
            )
            self._db.commit()
        finally:
            self._db.execute("DETACH DATABASE other")
        return self._db.total_changes - before

    def close(self) -> None:
        self._db.close()
