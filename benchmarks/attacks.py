"""True-positive rate of the detector under RAID-style evasion attacks.

    python -m benchmarks.attacks [--detector DIR] [--sample 300] [--humans 0] [--seed 0] [--attacks a,b]
                                [--precision bfloat16] [--name NAME]

Takes a stratified sample of the machine-written dev articles (every
generator represented), applies each attack of ``benchmarks/evasion_attacks.py`` to every
one of them, and reports the share still flagged at two thresholds fixed on
clean text: the shipped verdict's (1% FPR on human training news, out of fold,
each text against the threshold of its own length) and the one giving 1% FPR on the clean human dev articles. With
``--humans N`` it also attacks N random human dev articles and reports the
share flagged at both thresholds: a defence must not turn a human writer's
typos or odd capitals into a false accusation. Writes
benchmarks/results/attacks[-NAME].json. Token statistics go through the
statistics cache, so a rerun only scores what it has not seen.
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

from benchmarks.evasion_attacks import ATTACKS
from benchmarks.scored_texts import ROOT, probabilities_and_thresholds, write_results
from byline.reporting.evaluation import threshold_at_fpr
from byline.scoring.statistics_cache import PRECISIONS
from training.data import DATA_DIR

DATA = DATA_DIR / "news-dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detector", default=None)
    parser.add_argument("--sample", type=int, default=300, help="machine-written dev articles to attack")
    parser.add_argument(
        "--humans", type=int, default=0, help="also attack this many human dev articles (false positives)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--precision",
        default="auto",
        choices=list(PRECISIONS),
        help="language-model precision (auto: bfloat16 on a CPU with AMX, float32 elsewhere)",
    )
    parser.add_argument("--name", default="")
    parser.add_argument(
        "--attacks", default=",".join(ATTACKS), help="comma-separated subset of: " + ", ".join(ATTACKS)
    )
    parser.add_argument(
        "--write-texts",
        type=Path,
        default=None,
        help="write every text this run would score to a JSONL file and stop (to compute their"
        " statistics elsewhere: training/extract_statistics.py --raw-texts)",
    )
    args = parser.parse_args()
    chosen = args.attacks.split(",")
    if args.sample < 1 or args.humans < 0:
        parser.error("--sample must be at least 1 and --humans at least 0")
    if unknown := [a for a in chosen if a not in ATTACKS]:
        parser.error(f"unknown attack(s) {unknown}; choose from {list(ATTACKS)}")

    from byline import Detector
    from byline.scoring.model_files import cache_dir
    from byline.scoring.statistics_cache import StatisticsCache

    records = [json.loads(line) for line in DATA.open()]
    humans = [r for r in records if r["label"] == "human"]
    by_generator = defaultdict(list)
    for r in records:
        if r["label"] == "ai":
            by_generator[r["generator"]].append(r)
    rng = random.Random(args.seed)
    machine = []
    per_generator = max(1, args.sample // len(by_generator))
    for generator in sorted(by_generator):
        items = by_generator[generator]
        rng.shuffle(items)
        machine += items[:per_generator]

    def attacked_texts(name: str, chosen_records: list[dict]) -> list[str]:
        # Seeded per attack and article, so an article gets the same attack in every run.
        return [
            ATTACKS[name](r["text"], random.Random(f"{args.seed}-{name}-{r['id']}")) for r in chosen_records
        ]

    # positions in ``humans``, so their clean scores come from scoring all humans once
    people_index = random.Random(f"{args.seed}-humans").sample(
        range(len(humans)), min(args.humans, len(humans))
    )
    people = [humans[i] for i in people_index]
    if args.write_texts:
        texts = [r["text"] for r in humans + machine]
        for name in chosen:
            texts += attacked_texts(name, machine) + attacked_texts(name, people)
        with args.write_texts.open("w", encoding="utf-8") as handle:
            for text in texts:
                handle.write(json.dumps({"text": text}) + "\n")
        print(f"{len(texts)} texts written to {args.write_texts}")
        return

    detector = Detector(
        args.detector,
        statistics_cache=StatisticsCache(cache_dir() / "statistics.sqlite"),
        precision=args.precision,
    )

    def probabilities(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return probabilities_and_thresholds(detector, texts)

    def flagged(scores: np.ndarray, verdict_thresholds: np.ndarray, key: str) -> np.ndarray:
        # the shipped verdict: each text against its own threshold; the dev one: one threshold for all
        return scores > (verdict_thresholds if key == "shipped_verdict" else thresholds[key])

    started = time.time()
    human_scores, human_thresholds = probabilities([r["text"] for r in humans])
    thresholds = {
        # the verdict's threshold for a text of typical length; a short text's is higher
        "shipped_verdict": detector.threshold(0.01),
        "dev_human_1pct_fpr": threshold_at_fpr(human_scores[~np.isnan(human_scores)], 0.01),
    }
    clean, clean_thresholds = probabilities([r["text"] for r in machine])
    keep = ~np.isnan(clean)
    rows = {"clean": (clean[keep], clean_thresholds[keep])}
    for name in chosen:
        scores, verdict_thresholds = probabilities(attacked_texts(name, machine))
        # a text the attack made too short counts as missed
        rows[name] = (np.nan_to_num(scores[keep], nan=0.0), verdict_thresholds[keep])
        print(f"{name}: done ({time.time() - started:.0f} s)", file=sys.stderr, flush=True)

    report = {
        "detector": detector.trained.name,
        "precision": detector.precision,
        "n_attacked": int(keep.sum()),
        "thresholds": thresholds,
        "attacks": {},
    }
    print(
        f"{detector.trained.name}: {int(keep.sum())} machine-written dev articles ({per_generator} per generator)"
    )
    print(
        f"{'attack':20s} {'TPR (verdict)':>14s} {'change':>8s} {'TPR (dev 1% FPR)':>17s} {'change':>8s} {'mean p':>7s}"
    )
    for name, (scores, verdict_thresholds) in rows.items():
        entry = {}
        for key in thresholds:
            entry[f"tpr_{key}"] = float(flagged(scores, verdict_thresholds, key).mean())
            entry[f"change_{key}"] = entry[f"tpr_{key}"] - float(flagged(*rows["clean"], key).mean())
        entry["mean_probability"] = float(scores.mean())
        report["attacks"][name] = entry
        print(
            f"{name:20s} {entry['tpr_shipped_verdict']:14.3f} {entry['change_shipped_verdict']:+8.3f} "
            f"{entry['tpr_dev_human_1pct_fpr']:17.3f} {entry['change_dev_human_1pct_fpr']:+8.3f} {entry['mean_probability']:7.3f}"
        )
    if args.humans:
        kept = ~np.isnan(human_scores[people_index])
        report["humans"] = {"n_attacked": int(kept.sum()), "flagged": {}}
        print(f"\n{int(kept.sum())} human dev articles: share flagged (false positives)")
        print(f"{'attack':20s} {'verdict':>8s} {'dev 1% FPR':>11s} {'mean p':>7s}")
        for name in ["clean"] + chosen:
            if name == "clean":
                scores, verdict_thresholds = human_scores[people_index], human_thresholds[people_index]
            else:
                scores, verdict_thresholds = probabilities(attacked_texts(name, people))
            scores, verdict_thresholds = scores[kept], verdict_thresholds[kept]
            scored_now = ~np.isnan(scores)  # a text the attack made too short gets no verdict
            entry = {
                f"fpr_{key}": float(flagged(scores[scored_now], verdict_thresholds[scored_now], key).mean())
                for key in thresholds
            }
            entry["mean_probability"] = float(scores[scored_now].mean())
            report["humans"]["flagged"][name] = entry
            print(
                f"{name:20s} {entry['fpr_shipped_verdict']:8.3f} {entry['fpr_dev_human_1pct_fpr']:11.3f} {entry['mean_probability']:7.3f}"
            )
    out = write_results(report, "attacks", args.name)
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
