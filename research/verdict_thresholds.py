"""How to set the verdict's threshold: recall against every outlet's false-positive rate.

    python -m research.verdict_thresholds [--model M ...] [--statistics-dtype bfloat16] [--fpr 0.01]

Trains the article classifier on the training sample (as ``benchmarks/generalisation.py`` does,
from cached statistics) and keeps its out-of-fold margins of the human training texts. Each rule
below turns those margins into a threshold for a text of a given length; each is judged

- on news-dev: the verdict's TPR, the pooled FPR, and the highest FPR of an outlet with at least 40
  human dev texts;
- on the training humans held out of the rule: the human margins are split in five folds by story,
  the rule is set on four and its false-positive rates measured on the fifth (pooled, and the
  highest outlet's with at least 40 held-out texts), which says how much margin honest
  calibration needs.

Rules:

- ``outlet maximum``: the highest of the pooled quantile, every outlet's (100+ humans) and the
  text's length band's (the rule shipped up to news-2026.11b);
- ``pooled and band``: no outlet term;
- ``shrunk outlets (k)``: the lowest margin where every outlet's false-positive rate, shrunk
  towards the pooled rate with the weight of ``k`` texts ((FP + k * pooled) / (n + k)), and the
  pooled rate are at most the target, then raised to the length band's.

Writes research/results/verdict_thresholds[-NAME].json.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.generalisation import subset
from byline.decision.classifier import GradientBoostedClassifier, in_length_band
from byline.decision.training import build_feature_table, detector_from_table, vocabulary_subsets
from byline.scoring.model_files import cache_dir
from byline.scoring.statistics_cache import STATISTICS_DTYPES, StatisticsCache
from training.data import DATA_DIR, evaluation_sample, load_records, scoring_texts, training_sample

RESULTS = Path(__file__).resolve().parent / "results"
MIN_OUTLET = 100
MIN_MEASURED = 40

Rule = Callable[[np.ndarray, np.ndarray, np.ndarray], Callable[[int], float]]


def _exceeding(margins: np.ndarray, threshold: float) -> float:
    return float((margins > threshold).mean()) if margins.size else 0.0


def _quantile(margins: np.ndarray, fpr: float) -> float:
    return float(np.quantile(margins, 1.0 - fpr))


def _band_term(margins, words, fpr) -> Callable[[int], float]:
    # the classifier's own bands (short ones merged into the next longer one)
    bands = [
        (s, e, _quantile(margins[in_length_band(words, s, e)], fpr))
        for s, e in GradientBoostedClassifier()._length_bands(words)
    ]

    def term(n_words: int) -> float:
        for start, end, value in bands:
            if end is None or n_words < end:
                return value
        return bands[-1][2] if bands else -np.inf

    return term


def outlet_maximum(fpr: float) -> Rule:
    def rule(margins, outlets, words):
        base = max(
            [_quantile(margins, fpr)]
            + [
                _quantile(margins[outlets == o], fpr)
                for o in set(outlets)
                if (outlets == o).sum() >= MIN_OUTLET
            ]
        )
        band = _band_term(margins, words, fpr)
        return lambda n_words: max(base, band(n_words))

    return rule


def pooled_and_band(fpr: float) -> Rule:
    def rule(margins, outlets, words):
        base = _quantile(margins, fpr)
        band = _band_term(margins, words, fpr)
        return lambda n_words: max(base, band(n_words))

    return rule


def shrunk_outlets(fpr: float, k: float) -> Rule:
    def rule(margins, outlets, words):
        groups = [margins[outlets == o] for o in set(outlets) if (outlets == o).sum() >= MIN_OUTLET]
        candidates = np.unique(margins)
        candidates = candidates[candidates >= _quantile(margins, fpr)]
        chosen = candidates[-1]
        for threshold in candidates:  # ascending: the first that holds is the lowest
            pooled = _exceeding(margins, threshold)
            if pooled > fpr:
                continue
            worst = max(
                (((group > threshold).sum() + k * pooled) / (group.size + k) for group in groups),
                default=0.0,
            )
            if worst <= fpr:
                chosen = threshold
                break
        band = _band_term(margins, words, fpr)
        return lambda n_words: max(float(chosen), band(n_words))

    return rule


def judge(threshold: Callable[[int], float], margins, labels, outlets, words) -> dict:
    verdict = margins > np.array([threshold(int(w)) for w in words])
    humans = labels == 0
    by_outlet = {
        o: float(verdict[humans & (outlets == o)].mean())
        for o in sorted(set(outlets[humans]))
        if (humans & (outlets == o)).sum() >= MIN_MEASURED
    }
    return {
        "tpr": float(verdict[labels == 1].mean()) if (labels == 1).any() else None,
        "fpr": float(verdict[humans].mean()),
        "flagged": int(verdict[humans].sum()),
        "worst_outlet_fpr": max(by_outlet.values()) if by_outlet else None,
        "outlet_fpr": by_outlet,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", action="append", dest="models")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--statistics-dtype", default="bfloat16", choices=list(STATISTICS_DTYPES))
    parser.add_argument("--dev-statistics-dtype", default="float32", choices=list(STATISTICS_DTYPES))
    parser.add_argument("--fpr", type=float, default=0.01)
    parser.add_argument("--ai-texts", type=int, default=800)
    parser.add_argument("--name", default="")
    args = parser.parse_args()
    models = args.models or ["smollm2-135m", "gemma3-270m"]

    cache = StatisticsCache(cache_dir() / "statistics.sqlite")
    everything = load_records(DATA_DIR / "news-train.jsonl")
    vocabularies = vocabulary_subsets(models, scoring_texts(everything))
    options = dict(max_scored_tokens=args.max_tokens, vocabularies=vocabularies)
    train = build_feature_table(
        training_sample(everything), models, cache, statistics_dtype=args.statistics_dtype, **options
    )
    dev_records = evaluation_sample(load_records(DATA_DIR / "news-dev.jsonl"), args.ai_texts)
    dev = build_feature_table(
        dev_records, models, cache, statistics_dtype=args.dev_statistics_dtype, **options
    )
    detector = detector_from_table(
        subset(train, np.ones(len(train.y), bool), sentences=False),
        name="thresholds",
        language_models=models,
        max_scored_tokens=args.max_tokens,
    )
    classifier = detector.article_classifier
    test = subset(dev, np.ones(len(dev.y), bool), sentences=False)
    for name, model in detector.lexical_classifiers.items():
        test.add_columns(
            [f"lexical.{name}"], model.decision_function(test.texts), model.decision_function([])
        )
    dev_margins = classifier.decision_function(
        test.X[:, [test.names.index(n) for n in classifier.feature_names]]
    )
    dev_outlets = np.array([dev_records[i]["source"] for i in test.kept])
    dev_words = np.array(test.word_counts)

    humans = train.y == 0
    oof = classifier.oof_margins_[humans]
    outlets = np.array([o or "" for o in train.outlets])[humans]
    words = np.array(train.word_counts)[humans]
    groups = train.groups[humans]
    rules: dict[str, Rule] = {
        "outlet maximum": outlet_maximum(args.fpr),
        "pooled and band": pooled_and_band(args.fpr),
        **{f"shrunk outlets (k={k})": shrunk_outlets(args.fpr, k) for k in (25, 50, 100, 200)},
    }
    from sklearn.model_selection import GroupKFold

    folds = list(GroupKFold(n_splits=5).split(oof, groups=groups))
    report: dict = {"models": models, "fpr": args.fpr, "n_train_humans": int(humans.sum()), "rules": {}}
    print(
        f"{'rule':24s} {'dev TPR':>8s} {'dev FPR':>8s} {'worst outlet':>12s} | {'held-out FPR':>12s} {'worst outlet':>12s}"
    )
    for name, rule in rules.items():
        on_dev = judge(rule(oof, outlets, words), dev_margins, test.y, dev_outlets, dev_words)
        held = []
        for fit_index, test_index in folds:
            threshold = rule(oof[fit_index], outlets[fit_index], words[fit_index])
            held.append(
                judge(
                    threshold,
                    oof[test_index],
                    np.zeros(len(test_index), int),
                    outlets[test_index],
                    words[test_index],
                )
            )
        held_out = {
            "fpr": float(np.mean([h["fpr"] for h in held])),
            "worst_outlet_fpr": float(np.max([h["worst_outlet_fpr"] for h in held])),
        }
        report["rules"][name] = {"dev": on_dev, "held_out_train": held_out}
        print(
            f"{name:24s} {on_dev['tpr']:8.3f} {on_dev['fpr']:8.4f} {on_dev['worst_outlet_fpr']:12.4f} | "
            f"{held_out['fpr']:12.4f} {held_out['worst_outlet_fpr']:12.4f}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"verdict_thresholds{'-' + args.name if args.name else ''}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
