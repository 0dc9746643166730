"""The approximate-nearest-neighbour half of a source index: one vector per article, in usearch.

usearch was chosen by measurement (research/ann_compare.py; findings in
research/README.md): recall and latency on par with hnswlib and faiss at this scale, and
unlike them it ships wheels (hnswlib compiles at install time), stores half-
precision vectors (half the file), removes vectors for real (faiss's HNSW
cannot; hnswlib only marks them) and grows without a preset capacity.

The file is a cache of the vectors in SQLite: :meth:`VectorIndex.reconcile`
adds what a crash left out and drops what an update replaced.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from byline.errors import InputError

DIMENSIONS = 384
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 64


def _usearch_index():
    """usearch's ``Index``, loaded after ONNX Runtime when that is installed.

    usearch's extension carries its own static copy of the C++ runtime. When it
    is loaded first, importing ONNX Runtime afterwards (the sentence encoder)
    kills the process with SIGSEGV in ``std::codecvt`` (usearch 2.26,
    onnxruntime 1.32); the other order works. So a process that opens an index
    before it embeds, such as ``byline index`` on a new index, loads ONNX Runtime first.
    """
    try:
        import onnxruntime  # noqa: F401
    except ImportError:  # the encoder then runs in PyTorch; nothing to protect
        pass
    from usearch.index import Index

    return Index


class VectorIndex:
    """Article vectors keyed by the store's article keys; inner product on unit vectors."""

    def __init__(self, path: Path) -> None:
        Index = _usearch_index()

        self.path = path
        self._index = Index(
            ndim=DIMENSIONS,
            metric="ip",
            dtype="f16",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )
        if path.exists():
            try:
                self._index.load(str(path))
            except Exception as error:  # a damaged file: rebuilt from SQLite by the caller
                raise InputError(str(path), f"cannot read the vector index ({error})") from None
        self.dirty = False

    def __len__(self) -> int:
        return len(self._index)

    def keys(self) -> set[int]:
        return {int(key) for key in np.asarray(self._index.keys)}

    def add(self, keys: Iterable[int], vectors: np.ndarray) -> None:
        keys = np.asarray(list(keys), dtype=np.uint64)
        if len(keys):
            self._index.add(keys, np.asarray(vectors, dtype=np.float32), threads=1)
            self.dirty = True

    def remove(self, keys: Iterable[int]) -> None:
        keys = [int(key) for key in keys if self._index.contains(int(key))]
        if keys:
            self._index.remove(np.asarray(keys, dtype=np.uint64))
            self.dirty = True

    def search(self, vector: np.ndarray, count: int) -> list[tuple[int, float]]:
        """``(key, cosine similarity)`` of the ``count`` nearest articles, nearest first."""
        if len(self._index) == 0:
            return []
        matches = self._index.search(
            np.asarray(vector, dtype=np.float32), min(count, len(self._index)), threads=1
        )
        return [(int(key), 1.0 - float(distance)) for key, distance in zip(matches.keys, matches.distances)]

    def save(self) -> None:
        """Write atomically: a crash mid-write leaves the previous file intact."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        self._index.save(str(temporary))
        os.replace(temporary, self.path)
        self.dirty = False

    def reconcile(self, stored_keys: set[int], load_vectors) -> int:
        """Make the vectors match the store's articles; return how many entries changed.

        ``load_vectors(keys)`` yields ``(key, vector)`` for stored keys missing here.
        """
        present = self.keys()
        stale = present - stored_keys
        missing = stored_keys - present
        self.remove(stale)
        if missing:
            pairs = list(load_vectors(sorted(missing)))
            self.add([k for k, _ in pairs], np.stack([v for _, v in pairs]))
        return len(stale) + len(missing)
