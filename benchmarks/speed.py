"""Speed and memory of the detector on ~500-word news articles, on this machine's CPU.

    python -m benchmarks.speed [--detector DIR] [--articles 30] [--words 500] [--precision bfloat16] [--name NAME]

Takes dev articles of at least 450 words, cut to ``--words`` words at a sentence
end, and scores them one at a time with ``Detector.detect`` (the path a user of
`byline check` waits on). Prints seconds per article (mean, median, p95),
articles per second, the start-up time and the process's peak memory (max RSS),
and writes them to benchmarks/results/speed[-NAME].json. Run it on an idle
machine: other processes on the 2 cores change the figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

from benchmarks.machine import describe_machine
from benchmarks.scored_texts import RESULTS, ROOT
from training.data import DATA_DIR

DATA = DATA_DIR / "news-dev.jsonl"


def articles_of(words: int, count: int) -> list[str]:
    chosen = []
    with DATA.open() as handle:
        for line in handle:
            text = json.loads(line)["text"]
            tokens = text.split()
            if len(tokens) < words * 0.9:
                continue
            cut = " ".join(tokens[:words])
            end = max(cut.rfind(". "), cut.rfind('." '))
            chosen.append(cut[: end + 1] if end > len(cut) // 2 else cut)
            if len(chosen) == count:
                break
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", default=None)
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument(
        "--precision",
        default="float32",
        choices=["float32", "bfloat16"],
        help="language-model precision (bfloat16: faster on CPUs with AMX)",
    )
    parser.add_argument("--name", default="")
    args = parser.parse_args()

    texts = articles_of(args.words, args.articles + 2)
    start = time.perf_counter()
    from byline import Detector

    detector = Detector(args.detector, precision=args.precision)
    startup = time.perf_counter() - start
    for text in texts[:2]:  # warm-up: first calls allocate and initialise kernels
        detector.detect(text)
    seconds = []
    tokens = []
    for text in texts[2:]:
        begin = time.perf_counter()
        result = detector.detect(text)
        seconds.append(time.perf_counter() - begin)
        tokens.append(result.n_tokens)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds_sorted = sorted(seconds)
    output = {
        "detector": detector.trained.name,
        "model": detector.model_description,
        "precision": detector.precision,
        "articles": len(seconds),
        "words_per_article": args.words,
        "mean_tokens_per_article": round(statistics.mean(tokens), 1),
        "mean_seconds_per_article": round(statistics.mean(seconds), 3),
        "median_seconds_per_article": round(statistics.median(seconds), 3),
        "p95_seconds_per_article": round(seconds_sorted[int(0.95 * (len(seconds) - 1))], 3),
        "articles_per_second": round(len(seconds) / sum(seconds), 3),
        "startup_seconds": round(startup, 2),
        "peak_memory_mb": round(peak_mb, 1),
        "machine": describe_machine(),
    }
    for key, value in output.items():
        print(f"{key:28s} {value}")
    results = RESULTS
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"speed{'-' + args.name if args.name else ''}.json"
    path.write_text(json.dumps(output, indent=2))
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
