"""Re-ranking experiments for `byline trace`: features tried and not shipped, and why traces miss.

    python -m training.fit_trace_rerank embed                # the train sample's vectors (as for the shipped fit)
    python -m research.trace_rerank features --queries train # candidate pools, shipped + experimental features
    python -m research.trace_rerank features --queries dev
    python -m research.trace_rerank diagnose --queries dev   # retrieval vs re-rank misses, and what out-ranks the source
    python -m training.fit_trace_rerank fit --dry-run --features supported_share,...,vote_0.03   # fit a feature set
    python -m research.trace_rerank report --queries train,dev --weights '{"...": ...}'        # top-1/top-5 per task
    python -m research.trace_rerank trace --queries dev      # the real SourceIndex.trace, as a check on the offline ranking

The index and vector caches are those of ``python -m benchmarks.source_tracing``; the shared steps
(query samples, candidate pools, the offline ranking and fitting) are training/fit_trace_rerank.py's.
``features`` here also records the experimental features (character 4-grams, IDF-weighted shared
words, sentence order, and sentence votes and excess support among the candidates of the shipped
pool). What they gave is in research/README.md.
"""

from __future__ import annotations

import collections
import json
import time
from pathlib import Path

import numpy as np

from byline.tracing import SourceIndex
from byline.tracing import index as index_module
from byline.tracing.sentences import length_weights
from training import fit_trace_rerank
from training.fit_trace_rerank import (
    TASKS,
    corpus,
    evaluate,
    load_rows,
    print_table,
    query_sample,
    rank,
    two_caches,
)


def _grams(text: str, n: int = 4) -> set[str]:
    text = " ".join(text.lower().split())
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def ordered_share(similarity: np.ndarray) -> float:
    """Share of the query's sentences whose best-matching source sentences run in the source's order.

    The longest non-decreasing run of best-match positions, over the query's sentence count: a
    rewrite follows its source's order, another article on the same story matches here and there.
    """
    import bisect

    if not similarity.size:
        return 0.0
    tails: list[int] = []
    for position in similarity.argmax(axis=1).tolist():
        at = bisect.bisect_right(tails, position)
        if at == len(tails):
            tails.append(position)
        else:
            tails[at] = position
    return len(tails) / similarity.shape[0]


def sentence_votes(best: np.ndarray, weights: np.ndarray, temperature: float) -> np.ndarray:
    """Each query sentence's vote, shared among the candidates by how well each supports it.

    ``best`` holds, per candidate (rows) and query sentence (columns), the sentence's best similarity in
    that candidate. A softmax over candidates per sentence: sentences every candidate supports equally
    (the story's shared facts) split their vote, a sentence only the true source supports gives it all.
    """
    if not best.size:
        return np.zeros(best.shape[0])
    logits = best / temperature
    logits -= logits.max(axis=0, keepdims=True)
    shares = np.exp(logits)
    shares /= shares.sum(axis=0, keepdims=True)
    return shares @ weights


def experimental(index, text: str, spans, articles, scored, vectors: np.ndarray, pool: set[int]) -> None:
    """Features tried before putting them in the index code: character 4-grams, IDF-weighted shared words,
    sentence order, and sentence votes and excess support among the candidates of the shipped pool."""
    import re

    weights = length_weights(spans)
    keys = sorted(pool)
    best = (
        np.stack(
            [
                (vectors @ articles[k].vectors.T).max(axis=1)
                if len(articles[k].vectors)
                else np.zeros(len(vectors), np.float32)
                for k in keys
            ]
        )
        if keys
        else np.zeros((0, len(vectors)))
    )
    votes = {t: sentence_votes(best, weights, t) for t in (0.01, 0.03, 0.1)}
    # Support above the pool's median for the same sentence: what this candidate explains that the rest do not.
    excess = np.clip(best - np.median(best, axis=0, keepdims=True), 0, None) @ weights if keys else []
    winner = (best == best.max(axis=0, keepdims=True)) @ weights if keys else []
    for i, key in enumerate(keys):
        features = scored[key]
        for t, v in votes.items():
            features[f"vote_{t}"] = float(v[i])
        features["excess_support"] = float(excess[i])
        features["best_supported"] = float(winner[i])
    for key in set(scored) - pool:  # outside the shipped pool: never ranked there
        scored[key].update({f"vote_{t}": 0.0 for t in votes} | {"excess_support": 0.0, "best_supported": 0.0})

    query_grams = _grams(text)
    words = set(re.findall(r"[^\W_]+", text.lower()))
    df = index.store.document_frequencies(sorted(words))
    total = len(index)
    idf = {w: np.log((total + 1) / (df.get(w, 0) + 1)) for w in words}
    denominator = sum(idf.values()) or 1.0
    for key, features in scored.items():
        article_text = articles[key].text
        features["shared_grams"] = len(query_grams & _grams(article_text)) / max(len(query_grams), 1)
        source_words = set(re.findall(r"[^\W_]+", article_text.lower()))
        features["shared_idf"] = sum(idf[w] for w in words & source_words) / denominator
        source_vectors = articles[key].vectors
        features["ordered_share"] = ordered_share(vectors @ source_vectors.T) if len(source_vectors) else 0.0


def features(args) -> None:
    """The candidate pools with the shipped and the experimental features."""
    fit_trace_rerank.features(args, extra_features=experimental)


def diagnose(args) -> None:
    rows = load_rows(args, args.queries)
    dev, train, humans, groups = corpus(Path(args.data))
    by_id = {r["id"]: r for r in dev + train}
    weights = json.loads(args.weights) if args.weights else index_module.WEIGHTS
    vector, lexical = args.vector, args.lexical
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    examples: dict[str, list[str]] = collections.defaultdict(list)
    for row in rows:
        truth = set(row["truth"])
        ranked = rank(row, weights, vector, lexical)
        task = row["task"]
        counts[task]["queries"] += 1
        if ranked and ranked[0]["id"] in truth:
            continue
        counts[task]["miss"] += 1
        present = [c for c in ranked if c["id"] in truth]
        larger = [c for c in row["candidates"] if c["id"] in truth]
        if not present:
            counts[task]["retrieval_miss"] += 1
            counts[task]["retrieval_miss_found_by_larger_pool"] += bool(larger)
            kind = "retrieval miss" + (" (in larger pool)" if larger else "")
            winner = ranked[0]
        else:
            counts[task]["rerank_miss"] += 1
            winner = ranked[0]
            true = present[0]
            position = ranked.index(true)
            counts[task][f"rerank_true_at_{min(position + 1, 6)}"] += 1
            kind = f"re-rank miss (true at {position + 1})"
        # What took its place: a human copy of the same story in another group, or another article?
        winner_group = by_id[winner["id"]]["group"]
        source_text = " ".join(by_id[i]["text"] for i in truth)
        overlap = _word_jaccard(by_id[winner["id"]]["text"], source_text)
        same_story = overlap >= 0.5
        counts[task]["winner_near_duplicate_of_source" if same_story else "winner_other_article"] += 1
        # news-dev/train cut long articles at 4,000 characters; a rewrite of the full article may be of the lost part.
        truncated = any(len(by_id[i]["text"]) >= 4000 for i in truth)
        counts[task]["true_source_cut_at_4000_chars"] += truncated
        if present and not same_story:
            counts[task][
                "rerank_by_other_article_and_source_cut"
                if truncated
                else "rerank_by_other_article_source_whole"
            ] += 1
        if len(examples[task]) < args.examples:
            query = by_id[row["id"]]["text"]
            line = (
                f"[{kind}] {row['id']} ({row['source']}) -> {winner['id']} group {winner_group}, "
                f"word-jaccard with true source {overlap:.2f}; winner features "
                + _fmt(winner)
                + (f"; true {_fmt(present[0])}" if present else "")
                + f"\n      query: {query[:160]!r}\n      source: {source_text[:160]!r}\n      winner: {by_id[winner['id']]['text'][:160]!r}"
            )
            examples[task].append(line)
    for task in TASKS:
        if task in counts:
            print(f"{task}: {dict(counts[task])}")
    if args.examples:
        for task in args.tasks.split(","):
            print(f"\n== {task}")
            for line in examples[task]:
                print("  " + line)


def _fmt(c: dict) -> str:
    return ", ".join(f"{k} {c[k]:.2f}" for k in c if isinstance(c[k], float) and not k.startswith("_"))


def _word_jaccard(a: str, b: str) -> float:
    import re

    x, y = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return len(x & y) / max(1, len(x | y))


def report(args) -> None:
    weights = json.loads(args.weights) if args.weights else index_module.WEIGHTS
    for which in args.queries.split(","):
        rows = load_rows(args, which)
        print_table(
            f"{which}, weights {weights}, pool {args.vector}+{args.lexical}",
            evaluate(rows, weights, args.vector, args.lexical),
        )


def trace(args) -> None:
    """The real ``SourceIndex.trace`` with the shipped pool sizes and weights (a check on the offline ranking)."""
    dev, train, humans, groups = corpus(Path(args.data))
    queries = query_sample(dev if args.queries == "dev" else train, groups, args.queries)
    encoder = two_caches(args)
    per_task: dict[str, list[tuple[bool, bool]]] = collections.defaultdict(list)
    walls = []
    with SourceIndex.open(args.index, encoder=encoder) as index:
        for record in queries:
            started = time.perf_counter()
            ids = [m.id for m in index.trace(record["text"], limit=5).matches]
            walls.append(time.perf_counter() - started)
            truth = groups[record["group"]]
            per_task[record["task"]].append((ids[0] in truth, bool(set(ids) & truth)))
    table = {
        t: {
            "n": len(per_task[t]),
            "top1": round(float(np.mean([a for a, _ in per_task[t]])), 4),
            "top5": round(float(np.mean([b for _, b in per_task[t]])), 4),
        }
        for t in TASKS
        if t in per_task
    }
    print_table(f"{args.queries}, SourceIndex.trace with WEIGHTS {index_module.WEIGHTS}", table)
    print(
        f"trace without encoding: p50 {np.percentile(walls, 50) * 1000:.1f} ms, p95 {np.percentile(walls, 95) * 1000:.1f} ms"
        f" (load average {__import__('os').getloadavg()})"
    )


def main() -> None:
    parser = fit_trace_rerank.parser(__doc__, ("features", "diagnose", "report", "trace"))
    parser.set_defaults(queries="dev")
    parser.add_argument("--examples", type=int, default=0, help="diagnose: misses to print per task")
    parser.add_argument(
        "--weights", default="", help="JSON weights for diagnose and report (default: the shipped ones)"
    )
    args = fit_trace_rerank.with_default_paths(parser.parse_args())
    {"features": features, "diagnose": diagnose, "report": report, "trace": trace}[args.step](args)


if __name__ == "__main__":
    main()
