"""Accuracy of a detector on labelled news (default: all of ../shared/data/news-dev.jsonl).

    python -m benchmarks.accuracy [--detector DIR] [--data FILE] [--sample N | --ai-texts N] [--no-cache]
                                  [--precision bfloat16] [--name NAME]

--ai-texts N keeps every human text (the 1% FPR threshold rests on them) and N AI
texts stratified by generator and task (training/data.py:evaluation_sample);
the published figures use --ai-texts 800.

Prints AUROC, TPR at 1% and 5% FPR (thresholds set on the data's human texts),
expected calibration error, and the shipped verdict's true- and false-positive
rates, overall and per generator, source, task and origin; the false-positive rate
comes with its exact 95% interval (TPR at 1% FPR's is in the JSON). The TF-IDF + logistic
regression floor of the core issue is measured beside it. Writes everything as
JSON to benchmarks/results/accuracy[-NAME].json.

Token statistics are read from and written to the statistics cache
($BYLINE_CACHE_DIR/statistics.sqlite) unless --no-cache is given; the numbers
are the same either way, the cache only avoids running the language model twice.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from rich.console import Console

from benchmarks.scored_texts import RESULTS, ROOT
from byline.interfaces.evaluate import print_report, score_records, write_outputs
from byline.reporting.evaluation import Evaluation
from byline.scoring.statistics_cache import PRECISIONS
from training.data import DATA_DIR, load_records


def stratified_sample(records: list[dict], size: int, seed: int = 0) -> list[dict]:
    """``size`` records keeping the share of every (label, generator, source) stratum."""
    strata: dict[tuple, list[dict]] = defaultdict(list)
    for record in records:
        strata[(record["label"], record["generator"], record["source"])].append(record)
    rng = random.Random(seed)
    chosen = []
    for key in sorted(strata):
        items = strata[key]
        rng.shuffle(items)
        chosen += items[: max(1, round(size * len(items) / len(records)))]
    return chosen


def tfidf_baseline(train: list[dict], test: list[dict]) -> np.ndarray:
    """The floor named in the core issue: word 1-2-gram TF-IDF + logistic regression on raw text."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2))
    features = vectorizer.fit_transform([r["text"] for r in train])
    model = LogisticRegression(max_iter=2000, C=10)
    model.fit(features, [r["label"] == "ai" for r in train])
    return model.predict_proba(vectorizer.transform([r["text"] for r in test]))[:, 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", default=None, help="detector directory (default: the shipped one)")
    parser.add_argument("--data", type=Path, default=DATA_DIR / "news-dev.jsonl")
    parser.add_argument("--sample", type=int, default=0, help="stratified sample size (default: all records)")
    parser.add_argument(
        "--ai-texts",
        type=int,
        default=0,
        help="every human record plus N AI records stratified by generator and task",
    )
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--no-baseline", action="store_true", help="skip the TF-IDF floor")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=list(PRECISIONS),
        help="language-model precision (auto: bfloat16 on a CPU with AMX, float32 elsewhere)",
    )
    parser.add_argument("--name", default="", help="suffix of the results file")
    args = parser.parse_args()

    from byline import Detector
    from byline.scoring.model_files import cache_dir
    from byline.scoring.statistics_cache import StatisticsCache

    records = load_records(args.data)
    if args.sample:
        records = stratified_sample(records, args.sample)
    elif args.ai_texts:
        from training.data import evaluation_sample

        records = evaluation_sample(records, args.ai_texts)
    cache = None if args.no_cache else StatisticsCache(cache_dir() / "statistics.sqlite")
    detector = Detector(args.detector, statistics_cache=cache, precision=args.precision)
    start = time.time()
    evaluation = score_records(
        detector,
        records,
        lambda done: print(f"\r{done}/{len(records)} scored", end="", file=sys.stderr, flush=True),
    )
    print(file=sys.stderr)
    report = evaluation.report()
    output = {
        "detector": detector.trained.name,
        "model": detector.model_description,
        "precision": detector.precision,
        "data": str(args.data.name),
        "n_records": len(records),
        "n_too_short": evaluation.no_verdict.get("too_short", 0),
        "n_unsupported_language": evaluation.no_verdict.get("unsupported_language", 0),
        "sample": (
            f"stratified {args.sample}"
            if args.sample
            else f"all human + {args.ai_texts} AI (stratified)"
            if args.ai_texts
            else "all"
        ),
        "fpr_target_of_verdict": detector.fpr,
        "threshold_of_verdict": detector.threshold(),
        "seconds": round(time.time() - start, 1),
        **report,
    }
    extra = {}
    if not args.no_baseline:
        baseline = tfidf_baseline(load_records(DATA_DIR / "news-train.jsonl"), list(evaluation.records))
        output["tfidf_baseline"] = extra["tf-idf baseline"] = Evaluation(
            evaluation.labels, baseline, baseline > 0.5, evaluation.records
        ).summary()
    print(
        f"{detector.trained.name} ({detector.model_description}) on {args.data.name}: "
        f"{len(evaluation.labels)} articles scored, {output['n_too_short']} too short "
        f"(under {detector.trained.min_words} words), {output['n_unsupported_language']} in another language"
    )
    console = Console(width=140)
    print_report(console, report, extra)
    results_dir = RESULTS
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"accuracy{'-' + args.name if args.name else ''}.json"
    path.write_text(json.dumps(output, indent=2))
    suffix = "-" + args.name if args.name else ""
    plots = results_dir / f"accuracy{suffix}-plots"
    write_outputs(evaluation, output, plots, f"{detector.trained.name} on {args.data.name}")
    print(f"\nwritten to {path.relative_to(ROOT)} and {plots.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
