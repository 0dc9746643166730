"""How well `byline trace` finds the human source of a machine-written rewrite, and how fast.

Uses the story groups of ../shared/data: a human article and its LLM versions
share a ``group``. Every human article of news-dev and news-train is indexed
as a candidate source; every AI text of news-dev is traced. A trace is right
at top-1 when the best match is a human article of the same group (a few
groups hold two human copies of one story; either counts), right at top-5
when one is among the first five. AI texts whose group has no human article
in the index (task ``generate`` always, and some GossipCop restyles) cannot be
right: they are counted, excluded from accuracy, and used to measure how often
a text with no source in the index is still given a ``likely_source``.

The corpus also holds some human articles twice under different groups (the
same PolitiFact or GossipCop page scraped by two datasets, or one a cut copy
of the other). An index holding both cannot say which of two copies of one
text was "the" source, and either gives the user the right article, so a match
whose text is a copy of the true source (:func:`is_copy`: at least 80% of the
shorter text's word 5-grams are in the other) counts as right. Accuracy
counting only the story's own group is reported beside it (``*_same_group``).

Each task's ``misses_explained`` splits top-1 by what limits it: whether the
true source is stored whole or cut at the corpus's 4,000-character limit
(DATA.md: scraped PolitiFact and GossipCop pages "are often cut"; a rewrite of
the whole page may restate text the index never saw), and by the share of the
text's word pairs found in its source (a text that restates little of its
source is explained about as well by another article on the same story). Its
``top1_if_every_whole_source_miss_were_found`` bounds what better re-ranking
alone could reach.

Accuracy and speed are measured separately, so that accuracy can be measured
on a busy 2-core machine at all. Every sentence is embedded once with the real
encoder and kept in ``benchmarks/.trace-embeddings.npz`` (resumable: a rerun
embeds only what is missing); the accuracy run then builds the index and
traces every text through the real code (``SourceIndex.add``/``trace``) with an
encoder that looks sentences up there. Speed is measured with the real encoder:

- indexing throughput: ``--speed-articles`` human articles indexed from scratch,
  in a new Python process, as ``byline index`` runs: kernels warmed by the
  accuracy run's embedding must not count;
- latency: the whole ``SourceIndex.trace`` call without the verdict (splitting,
  embedding the query, vector and BM25 retrieval, re-ranking, alignment), one
  query at a time, on the full index (~4,000 articles) and on a copy padded to
  10,000 articles with copies of indexed articles under new ids (vectors
  jittered slightly), because the corpus has no 6,000 more human articles.

Wall-clock and process CPU time are both reported, with the load average: on a
shared machine wall-clock time includes waiting for a core.

    python -m benchmarks.source_tracing --data ../shared/data
    python -m benchmarks.source_tracing --limit 300     # trace only the first 300 AI texts
    python -m benchmarks.source_tracing --precision float32   # the float encoder: trace-float32.json

Writes benchmarks/results/trace.json (trace-PRECISION.json for an encoder precision other
than the default of a new index).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import describe_machine
from benchmarks.scored_texts import ROOT
from byline.tracing import SourceIndex
from byline.tracing.encoder import PRECISIONS, default_precision
from byline.tracing.sources import make_source
from training.data import DATA_DIR, load_records

TASKS = ["polish", "rewrite", "paraphrase", "restyle", "perturb", "expand", "continue", "generate"]
TARGETS = {
    "polish": 0.95,
    "rewrite": 0.95,
    "paraphrase": 0.95,
    "restyle": 0.95,
    "perturb": 0.95,
    "continue": 0.80,
    "generate": 0.80,
}


COPY_SHINGLE = 5
COPY_SHARE = 0.8
#: The corpus stores many scraped human articles cut at 4,000 characters (DATA.md, "Scraped human
#: text"); a rewrite made from the whole article may restate text the index never saw.
CORPUS_CUT_CHARS = 4000
#: Bands of the share of a text's distinct word pairs found in its true source (how much it restates).
RESTATED_BANDS = [(0.0, 0.10), (0.10, 0.20), (0.20, 1.01)]


def _shingles(text: str, size: int = COPY_SHINGLE) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def is_copy(a: str, b: str) -> bool:
    """Whether one text is a copy of the other: most of the shorter one's word 5-grams are in the longer."""
    x, y = _shingles(a), _shingles(b)
    if not x or not y:
        return False
    return len(x & y) / min(len(x), len(y)) >= COPY_SHARE


def restated_share(text: str, sources: list[str]) -> float:
    """The share of ``text``'s distinct word pairs found in the best of ``sources``: how much of it restates one."""
    pairs = _shingles(text, 2)
    if not pairs or not sources:
        return 0.0
    return max(len(pairs & _shingles(source, 2)) / len(pairs) for source in sources)


def source_cut(sources: list[str]) -> bool:
    """Whether every true source is stored cut at the corpus's 4,000-character limit (within 10 characters)."""
    return bool(sources) and all(CORPUS_CUT_CHARS - 10 <= len(s) <= CORPUS_CUT_CHARS for s in sources)


def misses_explained(rows: list[dict]) -> dict:
    """Top-1 of texts with a source, split by what limits it: a source stored cut, a text that restates little.

    ``top1_if_every_whole_source_miss_were_found`` is the most re-ranking could reach without finding
    any text whose source is stored cut: an upper bound, since it counts even texts that restate
    almost nothing of their source as found.
    """

    def part(selected: list[dict]) -> dict:
        return {
            "n": len(selected),
            "top1": round(float(np.mean([r["top1"] for r in selected])), 4) if selected else None,
        }

    whole = [r for r in rows if not r["source_cut"]]
    cut = [r for r in rows if r["source_cut"]]
    bands = {
        f"{low:.0%}-{min(high, 1.0):.0%}": part([r for r in rows if low <= r["restated_share"] < high])
        for low, high in RESTATED_BANDS
    }
    found = sum(r["top1"] for r in rows)
    return {
        "source_stored_whole": part(whole),
        "source_stored_cut_at_4000_chars": part(cut),
        "by_share_of_word_pairs_restated_from_source": bands,
        "misses_source_whole_restating_under_10pct": sum(
            not r["top1"] and r["restated_share"] < 0.10 for r in whole
        ),
        "top1_if_every_whole_source_miss_were_found": round(
            (found + sum(not r["top1"] for r in whole)) / len(rows), 4
        )
        if rows
        else None,
    }


class SourceJudge:
    """Is a matched id the source of a query: an article of its story group, or a copy of one."""

    def __init__(self, humans: list[dict]) -> None:
        self.text = {r["id"]: r["text"] for r in humans}
        self.groups: dict[str, set[str]] = collections.defaultdict(set)
        for r in humans:
            self.groups[r["group"]].add(r["id"])
        self._copies: dict[tuple[str, str], bool] = {}

    def truth(self, group: str) -> set[str]:
        return self.groups.get(group, set())

    def right(self, matched: str, truth: set[str]) -> bool:
        if matched in truth:
            return True
        for source in truth:
            key = (matched, source)
            if key not in self._copies:
                self._copies[key] = is_copy(self.text[matched], self.text[source])
            if self._copies[key]:
                return True
        return False


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


class CachedEncoder:
    """The real encoder's vectors, computed once per distinct sentence and kept on disk."""

    def __init__(self, path: Path, precision: str = "float32") -> None:
        from byline.tracing.encoder import encoder_name

        self.path = path
        self.precision = precision
        self.name = encoder_name(precision)  # what the index records: the real encoder's vectors
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            stored = np.load(path, allow_pickle=False)
            self.vectors = dict(zip(stored["sentences"].tolist(), stored["vectors"]))

    def fill(self, texts: list[str], chunk: int = 4096) -> None:
        from byline.input import normalise_text
        from byline.tracing.encoder import shared_encoder
        from byline.tracing.sentences import split_for_matching

        missing = sorted(
            {s.text for t in texts for s in split_for_matching(normalise_text(t))} - self.vectors.keys()
        )
        print(f"embedding {len(missing)} sentences not in {self.path} ...", flush=True)
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            for sentence, vector in zip(part, shared_encoder(self.precision).encode(part)):
                self.vectors[sentence] = vector.astype(np.float16)
            self.save()  # resumable
            print(f"  {min(start + chunk, len(missing))}/{len(missing)}", flush=True)

    def save(self) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(
            temporary, sentences=np.array(list(self.vectors)), vectors=np.stack(list(self.vectors.values()))
        )
        os.replace(temporary, self.path)

    def encode(self, sentences) -> np.ndarray:
        missing = [s for s in sentences if s not in self.vectors]
        if missing:  # never expected after fill(); correct either way
            from byline.tracing.encoder import shared_encoder

            for sentence, vector in zip(missing, shared_encoder(self.precision).encode(missing)):
                self.vectors[sentence] = vector
        return (
            np.stack([self.vectors[s] for s in sentences]).astype(np.float32)
            if sentences
            else np.zeros((0, 384), np.float32)
        )


def build_index(path: Path, humans: list[dict], encoder) -> dict:
    items = [make_source(r, f"{r['id']}") for r in humans]
    with SourceIndex.create(path, encoder=encoder) as index:
        report = index.add(items, batch_size=64)
    return {
        "added": report.added,
        "unchanged": report.unchanged,
        "problems": [str(p) for p in report.problems],
    }


def indexing_speed_in_new_process(data: Path, count: int, precision: str, threads: int) -> dict:
    """:func:`indexing_speed` in a new Python process, whose result is the last line it prints."""
    import subprocess

    command = [
        sys.executable,
        "-m",
        "benchmarks.source_tracing",
        "--indexing-speed-only",
        "--data",
        str(data),
        "--speed-articles",
        str(count),
        "--precision",
        precision,
        "--threads",
        str(threads),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def indexing_speed(humans: list[dict], count: int, precision: str, seed: int = 0) -> dict:
    """Index ``count`` random human articles from scratch with the real encoder."""
    import tempfile

    rng = np.random.default_rng(seed)
    sample = [humans[i] for i in rng.choice(len(humans), size=min(count, len(humans)), replace=False)]
    items = [make_source(r, r["id"]) for r in sample]
    with tempfile.TemporaryDirectory() as directory:
        with SourceIndex.create(Path(directory) / "index", precision=precision) as index:
            index.encoder.encode(["warm up"])  # loading the model is not indexing
            started, cpu_started = time.perf_counter(), time.process_time()
            report = index.add(items, batch_size=64)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    indexed = report.added
    return {
        "sample_articles": indexed,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "articles_per_s": round(indexed / seconds, 2),
        "articles_per_cpu_s": round(indexed / cpu, 2),
        "load_average": os.getloadavg(),
        "process": "new",
    }


def timed_traces(path: Path, sample: list[dict]) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    with SourceIndex.open(path) as index:
        index.encoder.encode(["warm up"])
        for record in sample:
            wall, cpu = time.perf_counter(), time.process_time()
            index.trace(record["text"], limit=5)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    return walls, cpus


def pad_index(source: Path, target: Path, total: int, seed: int = 0) -> int:
    """Copy ``source`` and add copies of its articles under new ids until it holds ``total``."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    rng = np.random.default_rng(seed)
    with SourceIndex.create(target, encoder=_NoEncoder()) as index:
        keys = sorted(index.store.keys())
        needed = total - len(keys)
        picks = rng.choice(keys, size=needed, replace=needed > len(keys))
        for start in range(0, needed, 500):
            chunk = picks[start : start + 500]
            stored = index.store.articles(list(set(int(k) for k in chunk)))
            rows = []
            for number, key in enumerate(chunk, start):
                article = stored[int(key)]
                vectors = article.vectors + rng.normal(0, 0.02, article.vectors.shape).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                rows.append(
                    {
                        "id": f"padding-{number}-{article.id}",
                        "title": article.title,
                        "url": None,
                        "date": None,
                        "text": article.text,
                        "digest": f"padding-{number}",
                        "spans": article.spans,
                        "vectors": vectors,
                    }
                )
            new_keys = index.store.write_batch(rows, [])
            from byline.tracing.store import article_vector

            index.vectors.add(new_keys, np.stack([article_vector(r["vectors"]) for r in rows]))
        return len(index)


class _NoEncoder:
    def encode(self, sentences):  # padding copies stored vectors; nothing is embedded
        raise AssertionError("padding does not embed")


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 1) if values else float("nan")


def main() -> None:
    machine_default = default_precision()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--precision",
        default=machine_default,
        choices=list(PRECISIONS),
        help="the sentence encoder's weights (each precision has its own index and vector cache)",
    )
    parser.add_argument(
        "--index", help="index directory (reused if present; default benchmarks/.trace-index[-PRECISION])"
    )
    parser.add_argument("--limit", type=int, default=0, help="trace only the first N AI texts of news-dev")
    parser.add_argument(
        "--embeddings", help="sentence vector cache (default benchmarks/.trace-embeddings[-PRECISION].npz)"
    )
    parser.add_argument(
        "--timed-queries", type=int, default=200, help="queries timed with the real encoder, per index size"
    )
    parser.add_argument(
        "--speed-articles", type=int, default=512, help="articles indexed from scratch to time indexing"
    )
    parser.add_argument(
        "--indexing-speed-only", action="store_true", help=argparse.SUPPRESS
    )  # the new process's job
    parser.add_argument("--pad-to", type=int, default=10_000)
    parser.add_argument("--skip-queries", action="store_true", help="only build the index")
    parser.add_argument(
        "--skip-speed",
        action="store_true",
        help="accuracy only: no indexing throughput, no timed traces with the real encoder, no padded index",
    )
    parser.add_argument(
        "--data", default=str(DATA_DIR), help="folder with news-dev.jsonl and news-train.jsonl"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads for timing (the targets are for 2 cores; on a busy machine 1 shows the work"
        " without waiting for a second core)",
    )
    parser.add_argument("--out", help="results file (default benchmarks/results/trace[-PRECISION].json)")
    args = parser.parse_args()
    suffix = "" if args.precision == "float32" else f"-{args.precision}"
    args.index = args.index or str(ROOT / "benchmarks" / f".trace-index{suffix}")
    args.embeddings = args.embeddings or str(ROOT / "benchmarks" / f".trace-embeddings{suffix}.npz")
    default_out = "trace.json" if args.precision == machine_default else f"trace-{args.precision}.json"
    args.out = args.out or str(ROOT / "benchmarks" / "results" / default_out)
    import torch

    torch.set_num_threads(args.threads)

    data = Path(args.data)
    if not (data / "news-dev.jsonl").exists():
        sys.exit(f"{data}: the labelled data is not there (pass --data)")
    dev, train = load_records(data / "news-dev.jsonl"), load_records(data / "news-train.jsonl")
    humans = [r for r in dev + train if r["label"] == "human"]
    if args.indexing_speed_only:
        print(json.dumps(indexing_speed(humans, args.speed_articles, args.precision)))
        return
    judge = SourceJudge(humans)
    queries = [r for r in dev if r["label"] == "ai"]
    if args.limit:
        queries = queries[: args.limit]

    cached = CachedEncoder(Path(args.embeddings), args.precision)
    cached.fill([r["text"] for r in humans + queries])
    index_path = Path(args.index)
    print(f"indexing {len(humans)} human articles into {index_path} ...", flush=True)
    built = build_index(index_path, humans, cached)
    print(json.dumps(built), flush=True)
    indexing = (
        {}
        if args.skip_speed
        else indexing_speed_in_new_process(data, args.speed_articles, args.precision, args.threads)
    )
    indexing["index_bytes"] = directory_bytes(index_path)
    indexing["index_articles"] = len(humans)
    indexing["problems"] = built["problems"]
    print(json.dumps(indexing), flush=True)
    if args.skip_queries:
        return

    results = []
    with SourceIndex.open(index_path, encoder=cached) as index:
        started = time.perf_counter()
        for number, record in enumerate(queries, 1):
            truth = judge.truth(record["group"])
            wall, cpu = time.perf_counter(), time.process_time()
            traced = index.trace(record["text"], limit=5, source=record["id"])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            ids = [m.id for m in traced.matches]
            true_texts = [judge.text[i] for i in sorted(truth)]
            results.append(
                {
                    "source_cut": source_cut(true_texts),
                    "restated_share": restated_share(record["text"], true_texts),
                    "id": record["id"],
                    "task": record["task"],
                    "source": record["source"],
                    "has_source": bool(truth),
                    "top1": bool(truth) and judge.right(ids[0], truth),
                    "top5": bool(truth) and any(judge.right(i, truth) for i in ids),
                    "top1_same_group": bool(truth) and ids[0] in truth,
                    "top5_same_group": bool(truth) and bool(set(ids) & truth),
                    "likely": traced.matches[0].likely_source,
                    "score": traced.matches[0].score,
                    "true_score": next((m.score for m in traced.matches if judge.right(m.id, truth)), None),
                    "wall": wall,
                    "cpu": cpu,
                }
            )
            if number % 100 == 0:
                done = [r for r in results if r["has_source"]]
                print(
                    f"  {number}/{len(queries)} traced, top-1 so far {np.mean([r['top1'] for r in done]):.3f},"
                    f" {(time.perf_counter() - started) / number * 1000:.0f} ms/query",
                    flush=True,
                )

    per_task = {}
    for task in TASKS:
        rows = [r for r in results if r["task"] == task]
        if not rows:
            continue
        scored = [r for r in rows if r["has_source"]]
        unsourced = [r for r in rows if not r["has_source"]]
        per_task[task] = {
            "texts": len(rows),
            "with_source_in_index": len(scored),
            "without_source_excluded": len(unsourced),
            "top1": round(float(np.mean([r["top1"] for r in scored])), 4) if scored else None,
            "top5": round(float(np.mean([r["top5"] for r in scored])), 4) if scored else None,
            "top1_same_group": round(float(np.mean([r["top1_same_group"] for r in scored])), 4)
            if scored
            else None,
            "top5_same_group": round(float(np.mean([r["top5_same_group"] for r in scored])), 4)
            if scored
            else None,
            "likely_source_when_right": round(float(np.mean([r["likely"] for r in scored if r["top1"]])), 4)
            if any(r["top1"] for r in scored)
            else None,
            "likely_source_without_source": round(float(np.mean([r["likely"] for r in unsourced])), 4)
            if unsourced
            else None,
            "target_top1": TARGETS.get(task),
            "misses_explained": misses_explained(scored),
        }
    per_source = {}
    for key in sorted({(r["task"], r["source"]) for r in results if r["has_source"]}):
        rows = [r for r in results if (r["task"], r["source"]) == key and r["has_source"]]
        per_source[f"{key[0]}/{key[1]}"] = {
            "n": len(rows),
            "top1": round(float(np.mean([r["top1"] for r in rows])), 4),
            "top5": round(float(np.mean([r["top5"] for r in rows])), 4),
        }
    scored = [r for r in results if r["has_source"]]
    unsourced = [r for r in results if not r["has_source"]]
    sample = queries[:: max(1, len(queries) // args.timed_queries)][: args.timed_queries]
    if args.skip_speed:
        sample = []
    print(f"timing {len(sample)} traces with the real encoder ...", flush=True)
    walls, cpus = timed_traces(index_path, sample) if sample else ([], [])
    latency = {
        "articles_in_index": len(humans),
        "queries": len(sample),
        "wall_ms_p50": percentile(walls, 50),
        "wall_ms_p95": percentile(walls, 95),
        "cpu_ms_p50": percentile(cpus, 50),
        "cpu_ms_p95": percentile(cpus, 95),
        "without_encoding_ms_p50": percentile([r["wall"] for r in results], 50),
        "without_encoding_ms_p95": percentile([r["wall"] for r in results], 95),
        "load_average": os.getloadavg(),
    }

    padded_path = index_path.with_name(index_path.name + "-padded")
    if args.skip_speed:
        padded_count, walls, cpus, padded_bytes = len(humans), [], [], 0
    else:
        print(f"padding a copy of the index to {args.pad_to} articles ...", flush=True)
        padded_count = pad_index(index_path, padded_path, args.pad_to)
        walls, cpus = timed_traces(padded_path, sample)
        padded_bytes = directory_bytes(padded_path)
        shutil.rmtree(padded_path)
    latency_padded = {
        "articles_in_index": padded_count,
        "padding": f"{padded_count - len(humans)} copies of indexed articles under new ids, sentence vectors jittered (sd 0.02)",
        "queries": len(sample),
        "wall_ms_p50": percentile(walls, 50),
        "wall_ms_p95": percentile(walls, 95),
        "cpu_ms_p50": percentile(cpus, 50),
        "cpu_ms_p95": percentile(cpus, 95),
        "index_bytes": padded_bytes,
    }

    output = {
        "data": "news-dev AI texts traced against every human article of news-dev + news-train",
        "encoder": cached.name,
        "queries": len(results),
        "queries_with_source_in_index": len(scored),
        "queries_without_source_in_index": len(unsourced),
        "top1_overall": round(float(np.mean([r["top1"] for r in scored])), 4),
        "top5_overall": round(float(np.mean([r["top5"] for r in scored])), 4),
        "top1_overall_same_group": round(float(np.mean([r["top1_same_group"] for r in scored])), 4),
        "right_answer": f"an article of the query's story group, or a copy of one (>= {COPY_SHARE:.0%} of the shorter"
        f" text's word {COPY_SHINGLE}-grams in the other); *_same_group: the story group only",
        "likely_source_rate_without_source": round(float(np.mean([r["likely"] for r in unsourced])), 4)
        if unsourced
        else None,
        "per_task": per_task,
        "per_task_and_dataset": per_source,
        "latency": latency,
        "latency_10k": latency_padded | {"load_average": os.getloadavg()},
        "indexing": indexing,
        "machine": {**describe_machine(), "load_average": os.getloadavg()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(output, indent=2) + "\n")

    def share(value: float | None) -> str:
        return f"{value:.3f}" if value is not None else "-"

    print(
        f"\n{'task':12} {'n':>5} {'excluded':>8} {'top-1':>7} {'top-5':>7} {'target':>7}  top-1/top-5 same group only"
    )
    for task, row in per_task.items():
        target = f"{row['target_top1']:.2f}" if row["target_top1"] else "-"
        print(
            f"{task:12} {row['with_source_in_index']:>5} {row['without_source_excluded']:>8} {share(row['top1']):>7}"
            f" {share(row['top5']):>7} {target:>7}  {share(row['top1_same_group'])} / {share(row['top5_same_group'])}"
        )
    print(
        f"\n{'task':12} {'source whole':>14} {'source cut':>12} {'restates <10%':>14} {'bound':>6}"
        "   (top-1 by stored source and by word pairs restated; bound: every whole-source miss found)"
    )
    for task, row in per_task.items():
        if not row["with_source_in_index"]:
            continue
        explained = row["misses_explained"]
        cells = [
            explained["source_stored_whole"],
            explained["source_stored_cut_at_4000_chars"],
            explained["by_share_of_word_pairs_restated_from_source"]["0%-10%"],
        ]
        text = [f"{share(c['top1'])} ({c['n']})" for c in cells]
        print(
            f"{task:12} {text[0]:>14} {text[1]:>12} {text[2]:>14} {share(explained['top1_if_every_whole_source_miss_were_found']):>6}"
        )
    print(
        f"overall top-1 {output['top1_overall']:.3f} ({output['top1_overall_same_group']:.3f} same group only),"
        f" top-5 {output['top5_overall']:.3f} over {len(scored)} texts with a source; {len(unsourced)} without one excluded"
    )
    if unsourced:
        print(
            f"texts without a source given likely_source: {output['likely_source_rate_without_source']:.1%}"
        )
    print(
        f"latency, {len(humans)} articles: p50 {latency['wall_ms_p50']} ms, p95 {latency['wall_ms_p95']} ms wall;"
        f" p50 {latency['cpu_ms_p50']} ms, p95 {latency['cpu_ms_p95']} ms CPU"
    )
    print(
        f"latency, {padded_count} articles: p50 {latency_padded['wall_ms_p50']} ms, p95 {latency_padded['wall_ms_p95']} ms wall;"
        f" p50 {latency_padded['cpu_ms_p50']} ms, p95 {latency_padded['cpu_ms_p95']} ms CPU"
    )
    print(
        f"trace without encoding (vectors cached), {len(humans)} articles: p50 {latency['without_encoding_ms_p50']} ms,"
        f" p95 {latency['without_encoding_ms_p95']} ms"
    )
    print(
        f"indexing: {indexing.get('articles_per_s')} articles/s wall, {indexing.get('articles_per_cpu_s')} per CPU-second;"
        f" index {indexing['index_bytes'] / 1e6:.1f} MB for {len(humans)} articles, {padded_bytes / 1e6:.1f} MB for {padded_count}"
    )
    print(f"load average {os.getloadavg()} on {os.cpu_count()} CPUs")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
