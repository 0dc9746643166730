"""Speed and memory of the detector on ~500-word news articles, on this machine's CPU, beside
the Fast-DetectGPT reference detector.

    python -m benchmarks.speed [--detector DIR] [--articles 30] [--words 500] [--precision bfloat16]
                               [--peer-precision float32] [--no-peer] [--name NAME]

Takes dev articles of at least 450 words, cut to ``--words`` words at a sentence
end, and scores them one at a time with ``Detector.detect`` (the path a user of
`byline check` waits on). Prints seconds per article (mean, median, p95),
articles per second, the start-up time and the process's peak memory (max RSS),
and writes them to benchmarks/results/speed[-NAME].json. Run it on an idle
machine: other processes on the 2 cores change the figures.

Unless ``--no-peer``, the same articles are also scored by the Fast-DetectGPT peer
(benchmarks/fast_detectgpt.py: SmolLM2-135M, 512 tokens, one model; in float32, the
reference's own precision, unless ``--peer-precision``), alternating article by article with the detector so that both see the
same load; the result gives the peer's seconds per article and the ratio
detector / peer (of the means, and the median of the per-article ratios). The detector's peak memory is read before the peer is loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time

from benchmarks.machine import describe_machine
from benchmarks.scored_texts import RESULTS, ROOT
from byline.scoring.statistics_cache import PRECISIONS
from training.data import DATA_DIR

DATA = DATA_DIR / "news-dev.jsonl"


def cut_article(text: str, words: int) -> str | None:
    """The first ``words`` words of ``text``, ended at a sentence end where one is near; None for a
    text of under 90% of ``words`` words."""
    tokens = text.split()
    if len(tokens) < words * 0.9:
        return None
    cut = " ".join(tokens[:words])
    end = max(cut.rfind(". "), cut.rfind('." '))
    return cut[: end + 1] if end > len(cut) // 2 else cut


def articles_of(words: int, count: int) -> list[str]:
    chosen = []
    with DATA.open() as handle:
        for line in handle:
            cut = cut_article(json.loads(line)["text"], words)
            if cut is None:
                continue
            chosen.append(cut)
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
        default="auto",
        choices=list(PRECISIONS),
        help="language-model precision (auto: bfloat16 on a CPU with AMX, float32 elsewhere)",
    )
    parser.add_argument(
        "--peer-precision",
        default="float32",
        choices=["float32", "bfloat16"],
        help="precision of the Fast-DetectGPT peer's language model",
    )
    parser.add_argument(
        "--no-peer", action="store_true", help="time the detector alone, without Fast-DetectGPT"
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
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peer = None
    if not args.no_peer:
        from benchmarks.fast_detectgpt import reference_peer

        peer = reference_peer(precision=args.peer_precision)
        peer.score(texts[:2])
    load_before = os.getloadavg()
    seconds = []
    peer_seconds = []
    tokens = []
    for text in texts[2:]:
        begin = time.perf_counter()
        result = detector.detect(text)
        seconds.append(time.perf_counter() - begin)
        tokens.append(result.n_tokens)
        if peer is not None:
            begin = time.perf_counter()
            peer.score([text])
            peer_seconds.append(time.perf_counter() - begin)
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
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    if peer is not None:
        output["peer"] = {
            "name": peer.name,
            "tokens_read": peer.language_model.window_tokens,
            "precision": args.peer_precision,
            "mean_seconds_per_article": round(statistics.mean(peer_seconds), 3),
            "median_seconds_per_article": round(statistics.median(peer_seconds), 3),
            "p95_seconds_per_article": round(sorted(peer_seconds)[int(0.95 * (len(peer_seconds) - 1))], 3),
        }
        output["detector_to_peer_ratio"] = round(statistics.mean(seconds) / statistics.mean(peer_seconds), 3)
        # Each article's two timings are taken back to back, so their ratio sees one load; its median
        # stays meaningful when other processes slow a part of the run.
        output["median_per_article_detector_to_peer_ratio"] = round(
            statistics.median(d / p for d, p in zip(seconds, peer_seconds)), 3
        )
    for key, value in output.items():
        print(f"{key:28s} {value}")
    results = RESULTS
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"speed{'-' + args.name if args.name else ''}.json"
    path.write_text(json.dumps(output, indent=2))
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
