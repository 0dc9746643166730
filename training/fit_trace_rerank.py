"""Fit the re-ranking weights of `byline trace` on news-train, and write the shipped weights file.

    python -m benchmarks.source_tracing                   # builds the index and the dev vector cache
    python -m training.fit_trace_rerank embed             # the train sample's sentence vectors (resumable)
    python -m training.fit_trace_rerank features          # candidate pools and their features
    python -m training.fit_trace_rerank fit               # weights -> byline/tracing/rerank_weights.json

Every human article of news-dev and news-train is in the index the trace benchmark builds
(``--index``, default benchmarks/.trace-index; opened read-only), so AI texts of news-train have
their sources there too. ``features`` records, for a fixed per-task sample of those AI texts, the
whole candidate pool of each (larger than the shipped one, with each retriever's rank) and every
re-ranking feature of every candidate, so that weights are fitted without running the retrievers
again. ``fit`` maximises the probability of the true source among each query's shipped-size pool
(a conditional logit), scales the weights to sum 1, sets the ``likely_source`` threshold that
flags the true source as often as the weights it replaces do, and writes both to ``--out``.
news-dev is never used here: ``python -m benchmarks.source_tracing`` measures the result.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.scored_texts import ROOT
from benchmarks.source_tracing import CachedEncoder
from byline.input import normalise_text
from byline.tracing import SourceIndex
from byline.tracing import index as index_module
from byline.tracing.encoder import PRECISIONS, default_precision
from byline.tracing.sentences import split_for_matching
from training.data import DATA_DIR, load_records

#: Tasks where the AI text is a version of one human article (the ones re-ranking is for).
TASKS = ["polish", "rewrite", "paraphrase", "restyle", "perturb", "expand", "continue"]
#: Train queries sampled per task (news-train has 500-3,500 per task; the vectors are embedded on CPU).
TRAIN_PER_TASK = {
    "polish": 200,
    "rewrite": 500,
    "paraphrase": 500,
    "restyle": 300,
    "perturb": 500,
    "expand": 150,
    "continue": 400,
}
#: Pool sizes recorded (larger than the shipped ones, to see what more candidates would find).
POOL_VECTOR = 100
POOL_LEXICAL = 50


class TwoCaches:
    """Sentence vectors from the main cache, then from the train-sample cache."""

    def __init__(self, *caches: CachedEncoder) -> None:
        self.caches = caches
        self.name = caches[0].name  # the encoder the index must have been built with

    def encode(self, sentences) -> np.ndarray:
        rows = []
        for sentence in sentences:
            for cache in self.caches:
                if sentence in cache.vectors:
                    rows.append(cache.vectors[sentence])
                    break
            else:
                raise KeyError(f"no cached vector for {sentence[:60]!r}")
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 384), np.float32)


def two_caches(args) -> TwoCaches:
    """The query sentences' vectors: news-dev's cache, and for train queries the train sample's too."""
    caches = [CachedEncoder(Path(args.embeddings), args.precision)]
    if args.queries == "train":
        caches.append(CachedEncoder(Path(args.train_embeddings), args.precision))
    return TwoCaches(*caches)


def corpus(data: Path):
    """news-dev, news-train, their human articles, and the human article ids of each story group."""
    dev, train = load_records(data / "news-dev.jsonl"), load_records(data / "news-train.jsonl")
    humans = [r for r in dev + train if r["label"] == "human"]
    groups: dict[str, set[str]] = collections.defaultdict(set)
    for r in humans:
        groups[r["group"]].add(r["id"])
    return dev, train, humans, groups


def query_sample(records: list[dict], groups, which: str, seed: int = 0) -> list[dict]:
    """AI texts with a source in the index: all of news-dev, a fixed per-task sample of news-train."""
    rows = [r for r in records if r["label"] == "ai" and r["task"] in TASKS and r["group"] in groups]
    if which == "dev":
        return rows
    rng = np.random.default_rng(seed)
    sample = []
    for task in TASKS:
        of_task = [r for r in rows if r["task"] == task]
        picks = sorted(rng.choice(len(of_task), size=min(TRAIN_PER_TASK[task], len(of_task)), replace=False))
        sample += [of_task[i] for i in picks]
    return sample


def embed(args) -> None:
    """Embed the train sample's sentences that neither vector cache holds (saved every 4,096)."""
    dev, train, humans, groups = corpus(Path(args.data))
    queries = query_sample(train, groups, "train")
    main = CachedEncoder(Path(args.embeddings), args.precision)
    extra = CachedEncoder(Path(args.train_embeddings), args.precision)
    from byline.tracing.encoder import shared_encoder

    missing = sorted(
        {s.text for r in queries for s in split_for_matching(normalise_text(r["text"]))}
        - main.vectors.keys()
        - extra.vectors.keys()
    )
    print(f"{len(queries)} train queries; embedding {len(missing)} sentences in neither cache", flush=True)
    for start in range(0, len(missing), 4096):
        part = missing[start : start + 4096]
        for sentence, vector in zip(part, shared_encoder(args.precision).encode(part)):
            extra.vectors[sentence] = vector.astype(np.float16)
        extra.save()  # resumable
        print(f"  {min(start + 4096, len(missing))}/{len(missing)}", flush=True)


#: Adds features to a query's candidates: (index, text, spans, articles, scored, vectors, shipped pool keys).
ExtraFeatures = Callable[..., None]


def features(args, extra_features: ExtraFeatures | None = None) -> None:
    """Write every query's candidate pool, with retrieval ranks and re-ranking features, to
    ``CACHE_DIR/.trace-rerank-QUERIES.json``; ``extra_features`` adds features of its own."""
    dev, train, humans, groups = corpus(Path(args.data))
    queries = query_sample(dev if args.queries == "dev" else train, groups, args.queries)
    encoder = two_caches(args)
    rows = []
    index_module.VECTOR_CANDIDATES, index_module.LEXICAL_CANDIDATES = POOL_VECTOR, POOL_LEXICAL
    started = time.perf_counter()
    with SourceIndex.open(args.index, encoder=encoder) as index:
        for number, record in enumerate(queries, 1):
            text = normalise_text(record["text"])
            spans = split_for_matching(text)
            vectors = encoder.encode([s.text for s in spans])
            pool = index.candidates(text, vectors)
            vector_rank = {
                k: i
                for i, (k, _) in enumerate(
                    sorted(((k, v["vector"]) for k, v in pool.items() if "vector" in v), key=lambda p: -p[1])
                )
            }
            lexical_rank = {
                k: i
                for i, (k, _) in enumerate(
                    sorted(((k, v["bm25"]) for k, v in pool.items() if "bm25" in v), key=lambda p: -p[1])
                )
            }
            articles = index.store.articles(list(pool))
            scored = index.score_candidates(text, spans, vectors, articles, pool)
            if extra_features:
                shipped_pool = {
                    k
                    for k in scored
                    if vector_rank.get(k, POOL_VECTOR) < args.vector
                    or lexical_rank.get(k, POOL_LEXICAL) < args.lexical
                }
                extra_features(index, text, spans, articles, scored, vectors, shipped_pool)
            rows.append(
                {
                    "id": record["id"],
                    "task": record["task"],
                    "source": record["source"],
                    "group": record["group"],
                    "truth": sorted(groups[record["group"]]),
                    "candidates": [
                        {
                            "id": articles[key].id,
                            "vector_rank": vector_rank.get(key),
                            "lexical_rank": lexical_rank.get(key),
                            **candidate,
                        }
                        for key, candidate in scored.items()
                    ],
                }
            )
            if number % 200 == 0:
                print(
                    f"  {number}/{len(queries)}, {(time.perf_counter() - started) / number * 1000:.0f} ms/query",
                    flush=True,
                )
    out = Path(args.cache_dir) / f".trace-rerank-{args.queries}.json"
    out.write_text(json.dumps(rows, default=float))  # JSON, not pickle: a cache file is data, never code
    print(f"{len(rows)} queries written to {out}")


# -- offline ranking ----------------------------------------------------------------------------------------------
def in_pool(candidate: dict, vector: int, lexical: int) -> bool:
    return (candidate["vector_rank"] is not None and candidate["vector_rank"] < vector) or (
        candidate["lexical_rank"] is not None and candidate["lexical_rank"] < lexical
    )


def pool_of(row: dict, vector: int, lexical: int) -> list[dict]:
    return [c for c in row["candidates"] if in_pool(c, vector, lexical)]


def rank(row: dict, weights: dict[str, float], vector: int, lexical: int) -> list[dict]:
    pool = pool_of(row, vector, lexical)
    for c in pool:
        c["_score"] = sum(w * c[name] for name, w in weights.items())
    return sorted(pool, key=lambda c: (-c["_score"], c["id"]))


def evaluate(rows: list[dict], weights: dict[str, float], vector: int, lexical: int) -> dict[str, dict]:
    """Top-1 and top-5 per task: the share of queries whose true source ranks first, or in the first five."""
    per_task: dict[str, list[tuple[bool, bool]]] = collections.defaultdict(list)
    for row in rows:
        ids = [c["id"] for c in rank(row, weights, vector, lexical)]
        truth = set(row["truth"])
        per_task[row["task"]].append((bool(ids) and ids[0] in truth, bool(set(ids[:5]) & truth)))
    table = {
        task: {
            "n": len(v),
            "top1": round(float(np.mean([a for a, _ in v])), 4),
            "top5": round(float(np.mean([b for _, b in v])), 4),
        }
        for task, v in per_task.items()
    }
    return {task: table[task] for task in TASKS if task in table}


def print_table(title: str, table: dict[str, dict]) -> None:
    print(
        f"{title}\n  "
        + "  ".join(f"{t} {v['top1']:.3f}/{v['top5']:.3f} (n={v['n']})" for t, v in table.items())
    )


def load_rows(args, which: str) -> list[dict]:
    """The rows ``features`` wrote, with each retriever's reciprocal rank as a feature."""
    rows = json.loads((Path(args.cache_dir) / f".trace-rerank-{which}.json").read_text())
    for row in rows:  # retrieval ranks as features (reciprocal rank; 0 when the retriever did not return it)
        for c in row["candidates"]:
            c["vector_rr"] = 1.0 / (1 + c["vector_rank"]) if c["vector_rank"] is not None else 0.0
            c["lexical_rr"] = 1.0 / (1 + c["lexical_rank"]) if c["lexical_rank"] is not None else 0.0
    return rows


def fit_weights(
    rows: list[dict], names: list[str], vector: int, lexical: int, l2: float = 1e-3
) -> dict[str, float]:
    """Conditional logit: maximise log P(true source | candidate pool) = softmax(w . features)."""
    from scipy.optimize import minimize

    blocks = []
    for row in rows:
        pool = pool_of(row, vector, lexical)
        truth = set(row["truth"])
        label = np.array([c["id"] in truth for c in pool])
        if not label.any() or label.all():
            continue  # nothing to learn from a pool without the source (or with nothing else)
        blocks.append((np.array([[c[n] for n in names] for c in pool], dtype=np.float64), label))

    def loss(w):
        total, grad = 0.0, np.zeros_like(w)
        for x, label in blocks:
            s = x @ w
            s -= s.max()
            p = np.exp(s)
            p /= p.sum()
            p_true = p[label].sum()
            total -= np.log(p_true + 1e-12)
            # d/dw -log sum_true p = E_p[x] - E_{p | true}[x]
            grad += p @ x - (p[label] / (p_true + 1e-12)) @ x[label]
        total = total / len(blocks) + l2 * (w @ w)
        return total, grad / len(blocks) + 2 * l2 * w

    result = minimize(loss, np.zeros(len(names)), jac=True, method="L-BFGS-B")
    return {n: round(float(v), 3) for n, v in zip(names, result.x)}


def true_score(row: dict, weights: dict[str, float]) -> float | None:
    """The best score of the query's true source among its candidates (None when it is not one)."""
    scores = [
        sum(w * c[n] for n, w in weights.items()) for c in row["candidates"] if c["id"] in set(row["truth"])
    ]
    return max(scores) if scores else None


def fitted(
    rows: list[dict], names: list[str], vector: int, lexical: int, l2: float
) -> tuple[dict[str, float], float]:
    """Weights for ``names`` (scaled to sum 1 when all are positive) and the ``likely_source``
    threshold that flags the true source as often as the shipped weights and threshold do."""
    weights = fit_weights(rows, names, vector, lexical, l2)
    total = sum(weights.values())
    if min(weights.values()) >= 0 and total > 0:
        # Same ranking, scores in 0-1 (every feature is): the form index.WEIGHTS takes.
        weights = {n: round(w / total, 3) for n, w in weights.items()}
    shipped = [true_score(r, index_module.WEIGHTS) for r in rows]
    rate = np.mean([s is not None and s >= index_module.LIKELY_SOURCE_SCORE for s in shipped])
    scores = np.array([s if s is not None else -1.0 for s in (true_score(r, weights) for r in rows)])
    return weights, float(np.quantile(scores, 1 - rate))


def fit(args) -> None:
    """Fit on the train rows and write the weights file (``--dry-run``: print only)."""
    rows = [r for r in load_rows(args, "train") if r["task"] in args.tasks.split(",")]
    names = args.features.split(",")
    weights, threshold = fitted(rows, names, args.vector, args.lexical, args.l2)
    print(json.dumps(weights))
    print(
        f"likely_source from score {threshold:.3f} flags the true source as often as the shipped weights do"
    )
    print_table(
        "train, shipped weights and pool",
        evaluate(rows, index_module.WEIGHTS, index_module.VECTOR_CANDIDATES, index_module.LEXICAL_CANDIDATES),
    )
    print_table(
        f"train, fitted weights, pool {args.vector}+{args.lexical}",
        evaluate(rows, weights, args.vector, args.lexical),
    )
    if args.dry_run:
        return
    if min(weights.values()) < 0 or (args.vector, args.lexical) != (
        index_module.VECTOR_CANDIDATES,
        index_module.LEXICAL_CANDIDATES,
    ):
        raise SystemExit(
            "not written: a negative weight, or a pool size other than the shipped one, "
            "needs a change to byline/tracing/index.py as well"
        )
    document = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    document.update(weights=weights, likely_source_score=round(threshold, 2))
    Path(args.out).write_text(json.dumps(document, indent=2) + "\n")
    print(f"written to {args.out}")


def parser(
    description: str = __doc__, steps: tuple[str, ...] = ("embed", "features", "fit")
) -> argparse.ArgumentParser:
    """The command line of the re-ranking steps (research/trace_rerank.py adds its own steps)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=list(steps))
    parser.add_argument(
        "--queries", default="train", help="train or dev: the queries of features (fit uses train)"
    )
    parser.add_argument("--data", default=str(DATA_DIR))
    parser.add_argument(
        "--precision",
        default=default_precision(),
        choices=list(PRECISIONS),
        help="the sentence encoder's weights, as for benchmarks/source_tracing.py (its index and vector cache)",
    )
    parser.add_argument(
        "--index",
        help="default benchmarks/.trace-index[-PRECISION], as benchmarks/source_tracing.py builds it",
    )
    parser.add_argument("--embeddings", help="default benchmarks/.trace-embeddings[-PRECISION].npz")
    parser.add_argument(
        "--train-embeddings", help="default benchmarks/.trace-embeddings-train[-PRECISION].npz"
    )
    parser.add_argument(
        "--cache-dir", default=str(ROOT / "benchmarks"), help="folder of the .trace-rerank-*.json rows"
    )
    parser.add_argument("--tasks", default=",".join(TASKS), help="tasks whose train queries fit the weights")
    parser.add_argument(
        "--features",
        default=",".join(index_module.WEIGHTS),
        help="features to weigh (default: the shipped ones)",
    )
    parser.add_argument(
        "--vector", type=int, default=index_module.VECTOR_CANDIDATES, help="vector candidates per pool"
    )
    parser.add_argument(
        "--lexical", type=int, default=index_module.LEXICAL_CANDIDATES, help="BM25 candidates per pool"
    )
    parser.add_argument("--l2", type=float, default=1e-3)
    parser.add_argument(
        "--out", default=str(index_module.RERANK_WEIGHTS_FILE), help="the weights file fit writes"
    )
    parser.add_argument("--dry-run", action="store_true", help="fit and print, but write nothing")
    return parser


def with_default_paths(args: argparse.Namespace) -> argparse.Namespace:
    suffix = "" if args.precision == "float32" else f"-{args.precision}"
    args.index = args.index or str(ROOT / "benchmarks" / f".trace-index{suffix}")
    args.embeddings = args.embeddings or str(ROOT / "benchmarks" / f".trace-embeddings{suffix}.npz")
    args.train_embeddings = args.train_embeddings or str(
        ROOT / "benchmarks" / f".trace-embeddings-train{suffix}.npz"
    )
    return args


def main() -> None:
    args = with_default_paths(parser().parse_args())
    {"embed": embed, "features": features, "fit": fit}[args.step](args)


if __name__ == "__main__":
    main()
