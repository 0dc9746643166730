"""Throughput of the batch scan engine against scoring one article at a time.

    python -m benchmarks.throughput                 # 1,000 dev articles
    python -m benchmarks.throughput --limit 100     # a quick look
    python -m benchmarks.throughput --limit 200 --precision bfloat16 --out benchmarks/results/throughput-bfloat16.json

What is measured, on a stratified sample of news-dev (``../shared/data``):

* one-by-one: a fresh process loads ``Detector()`` (torch's default threads)
  and calls ``Detector.detect(text)`` for each article in turn;
* batched: a fresh process runs the ``byline scan`` engine (the local runner:
  its default worker processes and threads, length-sorted batches, per-batch
  commits to the job store, the output file written at the end) on the same
  articles given as a JSONL file.

Both modes load their models before the clock starts (start-up is reported
separately), so the rates compare scoring, not start-up. To keep a changing
load on a shared machine from favouring one mode, the sample is split in two
halves run in the order one-by-one, batched, batched, one-by-one (ABBA).
Peak memory is the largest resident set of the mode's whole process tree
(parent and workers), sampled every 0.2 s. CPU seconds are those of the
process tree during the timed part. Scores are compared article by article:
``ai_probability`` (rounded to 4 decimals in every result) and ``verdict``
must be equal.

Figures are printed and written to ``benchmarks/results/throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

from benchmarks.scored_texts import RESULTS as RESULTS_DIR
from benchmarks.scored_texts import ROOT as REPO
from byline.scoring.devices import resolve_precision
from byline.scoring.statistics_cache import PRECISIONS
from training.data import DATA_DIR

DEV = DATA_DIR / "news-dev.jsonl"
RESULTS = RESULTS_DIR / "throughput.json"
WARM_UP = (REPO / "examples" / "machine-written.txt").read_text()


# -- the sample ------------------------------------------------------------------------------


def stratified_sample(path: Path, limit: int, seed: int) -> list[dict]:
    """``limit`` records, allocated to (source, label) strata in proportion to their size
    (largest remainders), drawn at random within each stratum with ``seed``."""
    strata: dict[tuple[str, str], list[dict]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            key = (record["source"], record["label"])
            strata[key].append(
                {"id": record["id"], "source": key[0], "label": key[1], "text": record["text"]}
            )
    total = sum(len(v) for v in strata.values())
    limit = min(limit, total)
    quotas = {key: limit * len(records) / total for key, records in strata.items()}
    counts = {key: int(q) for key, q in quotas.items()}
    for key in sorted(quotas, key=lambda k: quotas[k] - counts[k], reverse=True)[
        : limit - sum(counts.values())
    ]:
        counts[key] += 1
    rng = random.Random(seed)
    sample = []
    for key in sorted(strata):
        sample.extend(rng.sample(strata[key], counts[key]))
    rng.shuffle(sample)
    return sample


# -- process-tree measurements (Linux /proc) ------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        path = Path(f"/proc/{parent}/task/{parent}/children")
        try:
            children = [int(p) for p in path.read_text().split()]
        except OSError:
            children = []
        pids.extend(children)
        frontier.extend(children)
    return pids


def tree_rss_bytes(pid: int) -> int:
    total = 0
    for member in _tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def tree_cpu_seconds(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        except (OSError, IndexError):
            pass
    return total


class PeakMemory:
    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


# -- the two modes, each in its own process -------------------------------------------------------------


def child_one_by_one(data: Path, result: Path, precision: str) -> None:
    from byline import Detector

    started = time.monotonic()
    detector = Detector(precision=precision)
    detector.detect(WARM_UP)
    startup = time.monotonic() - started
    import torch

    records = [json.loads(line) for line in data.open(encoding="utf-8")]
    cpu0, t0 = tree_cpu_seconds(os.getpid()), time.monotonic()
    rows = {}
    for record in records:
        r = detector.detect(record["text"])
        rows[record["id"]] = [r.ai_probability, r.verdict, r.n_tokens]
    seconds, cpu = time.monotonic() - t0, tree_cpu_seconds(os.getpid()) - cpu0
    result.write_text(
        json.dumps(
            {
                "startup_seconds": startup,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rows": rows,
                "config": {"torch_threads": torch.get_num_threads()},
            }
        )
    )


def child_batched(
    data: Path, result: Path, workers: int | None, threads: int | None, batch_size: int, precision: str
) -> None:
    from byline.engines.job_store import JobStore
    from byline.engines.progress import ScanProgress
    from byline.engines.runner import (
        READ_AHEAD_BATCHES,
        finish_scan,
        plan_workers,
        prepare_scan,
        run_batches,
    )
    from byline.engines.scoring import DetectorSpec
    from byline.engines.workers import WorkerPool
    from byline.engines.writers import read_rows

    workers, threads = plan_workers(workers, threads, None)
    spec = DetectorSpec(threads=threads, precision=precision)
    out = result.with_suffix(".scan.jsonl")
    started = time.monotonic()
    source, store = prepare_scan(
        data, out, text_field="text", id_field="id", encoding=None, spec=spec, state=None, restart=True
    )
    pool = WorkerPool(spec.load, workers)
    pool.wait_ready()
    startup = time.monotonic() - started
    cpu0, t0 = tree_cpu_seconds(os.getpid()), time.monotonic()
    assert isinstance(store, JobStore)
    run_batches(
        source,
        store,
        pool,
        ScanProgress(None, quiet=True),
        batch_size=batch_size,
        read_ahead=max(64, pool.capacity * batch_size * READ_AHEAD_BATCHES),
    )
    cpu = tree_cpu_seconds(os.getpid()) - cpu0  # before the workers exit
    pool.close()
    finish_scan(store, out)
    seconds = time.monotonic() - t0
    store.close()
    rows = {r["id"]: [r["ai_probability"], r["verdict"], r["n_tokens"]] for r in read_rows(out)}
    errors = [r["error"] for r in read_rows(out) if r["error"]]
    result.write_text(
        json.dumps(
            {
                "startup_seconds": startup,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rows": rows,
                "errors": errors,
                "config": {"workers": workers, "threads_per_worker": threads, "batch_size": batch_size},
            }
        )
    )


def run_mode(mode: str, data: Path, args: argparse.Namespace, scratch: Path) -> dict:
    result = scratch / f"{mode}-{data.stem}.json"
    command = [
        sys.executable,
        "-m",
        "benchmarks.throughput",
        "--child",
        mode,
        "--data",
        str(data),
        "--result",
        str(result),
        "--batch-size",
        str(args.batch_size),
        "--precision",
        args.precision,
    ]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    load_before = os.getloadavg()
    process = subprocess.Popen(command, cwd=REPO, env=env)
    memory = PeakMemory(process.pid)
    code = process.wait()
    peak = memory.stop()
    if code != 0:
        raise SystemExit(f"{mode} run failed with exit code {code}")
    figures = json.loads(result.read_text())
    figures.update(peak_rss_bytes=peak, load_before=load_before, load_after=os.getloadavg())
    print(
        f"  {mode:10} {len(figures['rows']):5} articles  {figures['seconds']:8.1f} s  "
        f"{len(figures['rows']) / figures['seconds']:6.2f} /s  peak {peak / 2**20:7.0f} MiB  "
        f"load {load_before[0]:.1f}->{figures['load_after'][0]:.1f}",
        flush=True,
    )
    return figures


def combine(runs: list[dict]) -> dict:
    articles = sum(len(r["rows"]) for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    cpu = sum(r["cpu_seconds"] for r in runs)
    return {
        "articles": articles,
        "seconds": round(seconds, 1),
        "articles_per_second": round(articles / seconds, 3),
        "cpu_seconds_per_article": round(cpu / articles, 3),
        "startup_seconds": [round(r["startup_seconds"], 1) for r in runs],
        "peak_rss_mib": round(max(r["peak_rss_bytes"] for r in runs) / 2**20),
        "load_average_1min": [[round(r["load_before"][0], 2), round(r["load_after"][0], 2)] for r in runs],
        "config": runs[0]["config"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=1000, help="articles in the sample (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="scan workers (default: the engine's)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per scan worker")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--dev", type=Path, default=DEV, help=f"news-dev.jsonl (default: {DEV})")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=list(PRECISIONS),
        help="language-model precision of both modes (auto: bfloat16 on a CPU with AMX, float32 elsewhere)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", choices=["one-by-one", "batched"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.child == "one-by-one":
        return child_one_by_one(args.data, args.result, args.precision)
    if args.child == "batched":
        return child_batched(
            args.data, args.result, args.workers, args.threads, args.batch_size, args.precision
        )

    if not args.dev.exists():
        raise SystemExit(
            f"{args.dev} not found (the shared corpus sits beside the repository; or pass --dev)"
        )
    sample = stratified_sample(args.dev, args.limit, args.seed)
    print(
        f"{len(sample)} dev articles, stratified by (source, label), seed {args.seed}; "
        f"{os.cpu_count()} cores; order one-by-one, batched, batched, one-by-one",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="byline-throughput-") as scratch_dir:
        scratch = Path(scratch_dir)
        halves = [sample[: len(sample) // 2], sample[len(sample) // 2 :]]
        files = []
        for index, half in enumerate(halves):
            path = scratch / f"half{index + 1}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in half), encoding="utf-8")
            files.append(path)
        runs: dict[str, list[dict]] = {"one-by-one": [], "batched": []}
        for mode, data in (
            ("one-by-one", files[0]),
            ("batched", files[0]),
            ("batched", files[1]),
            ("one-by-one", files[1]),
        ):
            runs[mode].append(run_mode(mode, data, args, scratch))

    one, batched = combine(runs["one-by-one"]), combine(runs["batched"])
    reference = {k: v for r in runs["one-by-one"] for k, v in r["rows"].items()}
    scanned = {k: v for r in runs["batched"] for k, v in r["rows"].items()}
    same_probability = sum(reference[k][0] == scanned.get(k, [None])[0] for k in reference)
    same_verdict = sum(reference[k][1] == scanned.get(k, [None, None])[1] for k in reference)
    differences = [
        abs(reference[k][0] - scanned[k][0])
        for k in reference
        if reference[k][0] is not None and scanned.get(k, [None])[0] is not None
    ]
    import machine  # imports torch, which this parent process otherwise never loads (the scans run in children)

    report = {
        "benchmark": "throughput",
        "sample": {
            "file": "news-dev.jsonl",
            "articles": len(sample),
            "seed": args.seed,
            "how": "stratified by (source, label), proportional allocation, random within strata",
            "by_label": dict(sorted(Counter(r["label"] for r in sample).items())),
            "by_source_and_label": {
                f"{a}/{b}": n
                for (a, b), n in sorted(Counter((r["source"], r["label"]) for r in sample).items())
            },
        },
        "precision": resolve_precision(args.precision),
        "machine": {**machine.describe_machine(), "python": platform.python_version()},
        "one_by_one": one,
        "batched": batched,
        "speedup": round(batched["articles_per_second"] / one["articles_per_second"], 2),
        "cpu_per_article_ratio": round(
            one["cpu_seconds_per_article"] / batched["cpu_seconds_per_article"], 2
        ),
        "identical_scores": {
            "compared": len(reference),
            "ai_probability_equal": same_probability,
            "verdict_equal": same_verdict,
            "max_abs_difference": max(differences, default=0.0),
            "tolerance": "equal after the 4-decimal rounding of every result",
            "identical": same_probability == same_verdict == len(reference) == len(scanned),
        },
        "scan_errors": [e for r in runs["batched"] for e in r.get("errors", [])],
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"one-by-one: {one['articles_per_second']:.2f} articles/s, peak {one['peak_rss_mib']} MiB, "
        f"{one['cpu_seconds_per_article']:.2f} CPU s/article ({one['config']})"
    )
    print(
        f"batched:    {batched['articles_per_second']:.2f} articles/s, peak {batched['peak_rss_mib']} MiB, "
        f"{batched['cpu_seconds_per_article']:.2f} CPU s/article ({batched['config']})"
    )
    print(
        f"speed-up {report['speedup']:.2f}x; identical scores: {report['identical_scores']['identical']} "
        f"({same_probability}/{len(reference)} probabilities, {same_verdict} verdicts equal); written to {args.out}"
    )


if __name__ == "__main__":
    main()
