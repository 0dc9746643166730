"""Compare approximate-nearest-neighbour libraries for Byline's source index.

For each library: recall@10 against exact search, query latency (one query at a
time, as `byline trace` does), build speed, incremental add and delete, file
size and installed size. Vectors are the real article vectors of a source
index (``--index DIR``, e.g. the one ``python -m benchmarks.source_tracing`` builds) or an ``.npy``
file; ``--pad-to N`` adds jittered copies (each a real vector plus small
Gaussian noise, renormalised) to reach N vectors, stated in the output.

    python -m research.ann_compare --index benchmarks/.trace-index --pad-to 10000
    python -m research.ann_compare --vectors sentence_vectors.npy --queries 500

Writes research/results/ann_compare.json. Needs hnswlib and faiss-cpu, which Byline does not
declare (``pip install hnswlib faiss-cpu``); one that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
K = 10


def installed_size(*distributions: str) -> int:
    total = 0
    for name in distributions:
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for file in files:
            try:
                total += file.locate().stat().st_size
            except OSError:
                pass
    return total


def exact_top(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ data.T
    return np.argsort(-scores, axis=1)[:, :k]


class Usearch:
    name = "usearch"
    distributions = ("usearch", "numkong")

    def __init__(self, dtype: str = "f16") -> None:
        self.dtype = dtype
        self.name = f"usearch ({dtype})"

    def build(self, data, keys):
        from usearch.index import Index

        self.index = Index(
            ndim=data.shape[1],
            metric="ip",
            dtype=self.dtype,
            connectivity=16,
            expansion_add=128,
            expansion_search=64,
        )
        self.index.add(keys, data, threads=1)

    def add(self, data, keys):
        self.index.add(keys, data, threads=1)

    def remove(self, keys):
        self.index.remove(keys)
        return True

    def query(self, vector, k):
        return self.index.search(vector, k, threads=1).keys

    def save(self, path):
        self.index.save(path)


class Hnswlib:
    name = "hnswlib"
    distributions = ("hnswlib",)

    def build(self, data, keys):
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=data.shape[1])
        self.index.init_index(
            max_elements=len(data) * 2, ef_construction=128, M=16, allow_replace_deleted=True
        )
        self.index.set_num_threads(1)
        self.index.add_items(data, keys)
        self.index.set_ef(64)

    def add(self, data, keys):
        self.index.add_items(data, keys)

    def remove(self, keys):
        for key in keys:
            self.index.mark_deleted(int(key))
        return True

    def query(self, vector, k):
        return self.index.knn_query(vector, k)[0][0]

    def save(self, path):
        self.index.save_index(path)


class FaissHnsw:
    name = "faiss-cpu (IndexHNSWFlat + IDMap2)"
    distributions = ("faiss-cpu",)

    def build(self, data, keys):
        import faiss

        faiss.omp_set_num_threads(1)
        hnsw = faiss.IndexHNSWFlat(data.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 128
        hnsw.hnsw.efSearch = 64
        self.index = faiss.IndexIDMap2(hnsw)
        self.index.add_with_ids(data, keys.astype(np.int64))

    def add(self, data, keys):
        self.index.add_with_ids(data, keys.astype(np.int64))

    def remove(self, keys):
        try:
            self.index.remove_ids(np.asarray(keys, dtype=np.int64))
            return True
        except RuntimeError:  # HNSW does not support removal
            return False

    def query(self, vector, k):
        return self.index.search(vector.reshape(1, -1), k)[1][0]

    def save(self, path):
        import faiss

        faiss.write_index(self.index, path)


def measure(
    library, data: np.ndarray, queries: np.ndarray, truth: np.ndarray, add_fraction: float = 0.1
) -> dict:
    keys = np.arange(len(data), dtype=np.uint64)
    split = int(len(data) * (1 - add_fraction))
    started = time.perf_counter()
    library.build(data[:split], keys[:split])
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    library.add(data[split:], keys[split:])
    add_s = time.perf_counter() - started
    latencies, hits = [], 0
    for row, query in enumerate(queries):
        started = time.perf_counter()
        found = library.query(query, K)
        latencies.append(time.perf_counter() - started)
        hits += len(set(int(k) for k in found) & set(int(k) for k in truth[row]))
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "index.bin")
        library.save(path)
        file_bytes = os.path.getsize(path)
    removable = library.remove(keys[:10])
    return {
        "library": library.name,
        "vectors": len(data),
        "recall_at_10": round(hits / (K * len(queries)), 4),
        "query_ms_p50": round(float(np.percentile(latencies, 50)) * 1000, 3),
        "query_ms_p95": round(float(np.percentile(latencies, 95)) * 1000, 3),
        "build_vectors_per_s": round(split / build_s),
        "incremental_add_vectors_per_s": round((len(data) - split) / add_s),
        "supports_delete": removable,
        "file_mb": round(file_bytes / 1e6, 2),
        "installed_mb": round(installed_size(*library.distributions) / 1e6, 1),
    }


def load_vectors(args) -> np.ndarray:
    if args.vectors:
        return np.load(args.vectors).astype(np.float32)
    from byline.tracing.store import SourceStore

    store = SourceStore(Path(args.index) / "sources.sqlite", read_only=True)
    return np.stack([vector for _, vector in store.article_vectors()]).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--index", help="a source index built by `byline index`")
    source.add_argument("--vectors", help="an .npy file of unit vectors")
    parser.add_argument("--pad-to", type=int, default=0, help="add jittered copies up to this many vectors")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "research" / "results" / "ann_compare.json"))
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    data = load_vectors(args)
    real = len(data)
    if args.pad_to > real:
        copies = data[rng.integers(0, real, args.pad_to - real)] + rng.normal(
            0, 0.02, (args.pad_to - real, data.shape[1])
        )
        data = np.vstack([data, copies]).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    # Queries: real vectors nudged off their stored copies, as a rewrite is near but not equal to its source.
    picks = rng.choice(real, min(args.queries, real), replace=False)
    queries = data[picks] + rng.normal(0, 0.03, (len(picks), data.shape[1]))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    truth = exact_top(data, queries, K)

    started = time.perf_counter()
    for query in queries[:200]:
        _ = np.argsort(-(data @ query))[:K]
    exact_ms = (time.perf_counter() - started) / min(200, len(queries)) * 1000

    rows = []
    for library in (Usearch("f16"), Usearch("f32"), Hnswlib(), FaissHnsw()):
        try:
            rows.append(measure(library, data, queries, truth))
        except ImportError as error:
            rows.append({"library": library.name, "error": f"not installed ({error})"})
        print(json.dumps(rows[-1]), flush=True)
    result = {
        "vectors": len(data),
        "real_vectors": real,
        "padding": "jittered copies of real vectors (Gaussian noise sd 0.02, renormalised)"
        if len(data) > real
        else None,
        "queries": len(queries),
        "threads": 1,
        "exact_numpy_query_ms": round(exact_ms, 3),
        "settings": "HNSW M/connectivity=16, ef_construction/expansion_add=128, ef_search/expansion_search=64; 90% built at once, 10% added incrementally",
        "libraries": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"exact numpy search: {exact_ms:.2f} ms per query over {len(data)} vectors")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
