"""Generalisation to unseen generators and outlets: leave-one-out training runs.

    python -m benchmarks.generalisation [--only families|attacks|sources ...] [--max-tokens 256] [--model M ...] [--name NAME]
                                        [--exclude-features PREFIX ...]

For every generator family, trains a detector on the training sample without
that family's machine-written texts (lexical models, language-model features,
calibration: everything) and measures it on the family's dev texts against all
human dev texts: AUROC, TPR at 1% FPR (threshold on the human dev texts) and
TPR at the detector's own 1%-FPR verdict threshold. TPR at 1% FPR and the
verdict's FPR come with exact (Clopper-Pearson) 95% intervals: some families
have under 20 dev texts. Likewise for every source
(dataset/outlet), leaving out both its human and its machine texts and testing
on that source's dev texts. Token statistics come from the statistics cache
(``training/extract_statistics.py`` fills it), so only the classifiers are
refitted (:func:`byline.decision.training.detector_from_table`). Writes
benchmarks/results/generalisation.json and prints the tables.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.scored_texts import ROOT, write_results
from byline.decision.training import (
    OPTIONAL_LEXICAL_SPECS,
    FeatureTable,
    build_feature_table,
    detector_from_table,
    lexical_specs,
    vocabulary_subsets,
)
from byline.reporting.evaluation import auroc, rate_interval, threshold_at_fpr, tpr_at
from byline.scoring.model_files import cache_dir
from byline.scoring.statistics_cache import STATISTICS_DTYPES, StatisticsCache
from training.data import (
    ATTACKS,
    DATA_DIR,
    FAMILIES,
    evaluation_sample,
    load_records,
    scoring_texts,
    training_sample,
    with_cached_statistics,
)


def subset(table: FeatureTable, keep: np.ndarray, sentences: bool = True) -> FeatureTable:
    """The rows in ``keep`` (and their sentences, unless ``sentences`` is false)."""
    rows = np.flatnonzero(keep)
    position = {old: new for new, old in enumerate(rows)}
    sentence_keep = np.array([sentences and r in position for r in table.sentence_rows], dtype=bool)
    return FeatureTable(
        names=list(table.names),
        X=table.X[rows],
        y=table.y[rows],
        groups=table.groups[rows],
        generators=[table.generators[i] for i in rows],
        sentence_names=list(table.sentence_names),
        sentence_X=table.sentence_X[sentence_keep],
        sentence_y=table.sentence_y[sentence_keep],
        sentence_groups=table.sentence_groups[sentence_keep],
        kept=[table.kept[i] for i in rows],
        texts=[table.texts[i] for i in rows],
        sentence_texts=[t for t, k in zip(table.sentence_texts, sentence_keep) if k],
        sentence_rows=[position[r] for r, k in zip(table.sentence_rows, sentence_keep) if k],
        outlets=[table.outlets[i] for i in rows] if table.outlets else [],
        word_counts=[table.word_counts[i] for i in rows] if table.word_counts else [],
    )


def run(train: FeatureTable, dev: FeatureTable, dev_mask: np.ndarray, args) -> dict:
    """Fit on ``train``; score the dev rows in ``dev_mask`` (machine) against the dev humans in it."""
    # a copy (lexical columns are added to it) without sentences: only the article verdict is measured
    train = subset(train, np.ones(len(train.y), bool), sentences=False)
    excluded = tuple(args.exclude_features or ())
    specs = {
        name: spec
        for name, spec in lexical_specs(args.with_lexical).items()
        if not f"lexical.{name}".startswith(excluded)
    }
    # the names the table will have once the lexical columns are added, less the excluded ones
    names = [n for n in train.names + [f"lexical.{name}" for name in specs] if not n.startswith(excluded)]
    detector = detector_from_table(
        train,
        name="leave-out",
        language_models=args.models,
        max_scored_tokens=args.max_tokens,
        lexical=specs,
        lexical_folds=args.folds,
        feature_names=names if excluded else None,
    )
    test = subset(dev, dev_mask, sentences=False)
    for name, model in detector.lexical_classifiers.items():
        test.add_columns(
            [f"lexical.{name}"],
            model.decision_function(test.texts),
            model.decision_function(test.sentence_texts),
        )
    classifier = detector.article_classifier
    columns = [test.names.index(n) for n in classifier.feature_names]
    p = classifier.predict_proba(test.X[:, columns])[:, 1]
    humans, machine = p[test.y == 0], p[test.y == 1]
    # the verdict: each text against the threshold for its length, as detection applies it
    verdict = (
        p > np.array([classifier.threshold_for_fpr(0.01, words) for words in test.word_counts])
        if test.word_counts
        else p > classifier.threshold_for_fpr(0.01)
    )
    threshold_1pct = threshold_at_fpr(humans, 0.01)  # NaN without humans
    return {
        "n_ai": int(machine.size),
        "n_human": int(humans.size),
        "auroc": auroc(test.y, p) if humans.size and machine.size else float("nan"),
        "tpr_at_1pct_fpr": tpr_at(machine, threshold_1pct) if humans.size else float("nan"),
        # 95% interval over the held-out machine texts (few for some families)
        "tpr_at_1pct_fpr_interval": rate_interval(int((machine > threshold_1pct).sum()), int(machine.size))
        if humans.size
        else (float("nan"),) * 2,
        "tpr_at_verdict": float(verdict[test.y == 1].mean()) if machine.size else float("nan"),
        "fpr_at_verdict": float(verdict[test.y == 0].mean()) if humans.size else float("nan"),
        "fpr_at_verdict_interval": rate_interval(int(verdict[test.y == 0].sum()), int(humans.size)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["families", "attacks", "sources"],
        help="run only these leave-one-out parts (repeatable; default all three)",
    )
    parser.add_argument("--model", action="append", dest="models")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--folds", type=int, default=3, help="folds for the out-of-fold lexical scores")
    parser.add_argument(
        "--ai-texts",
        type=int,
        default=800,
        help="AI dev texts (every human dev text is kept; 0: all of news-dev)",
    )
    parser.add_argument(
        "--statistics-dtype",
        default="float32",
        choices=list(STATISTICS_DTYPES),
        help="precision of the training texts' statistics",
    )
    parser.add_argument(
        "--dev-statistics-dtype",
        default="float32",
        choices=list(STATISTICS_DTYPES),
        help="precision of the dev texts' statistics (as detection computes them: float32, or bfloat16 "
        "where --precision auto chooses it)",
    )
    parser.add_argument(
        "--only-cached",
        action="store_true",
        help="train on the sampled training records whose statistics are cached",
    )
    parser.add_argument("--name", default="", help="suffix of the results file")
    parser.add_argument(
        "--with-lexical",
        action="append",
        default=[],
        choices=list(OPTIONAL_LEXICAL_SPECS),
        help="add an optional lexical model to the default ones",
    )
    parser.add_argument(
        "--exclude-features",
        action="append",
        metavar="PREFIX",
        help="leave out the features whose names start with PREFIX (e.g. lexical. or style.)",
    )
    args = parser.parse_args()
    args.models = args.models or ["smollm2-135m"]

    cache = StatisticsCache(cache_dir() / "statistics.sqlite")
    everything = load_records(DATA_DIR / "news-train.jsonl")
    texts = dict(zip((r["id"] for r in everything), scoring_texts(everything)))
    # the vocabulary subsets training computes (Gemma's 262k tokens), from every training text
    vocabularies = vocabulary_subsets(args.models, list(texts.values()))
    train_records = training_sample(everything)
    dev_records = evaluation_sample(load_records(DATA_DIR / "news-dev.jsonl"), args.ai_texts)
    if args.only_cached:
        train_records = with_cached_statistics(
            train_records,
            texts,
            args.models,
            cache,
            args.max_tokens,
            vocabularies,
            dtype=args.statistics_dtype,
        )
        print(f"training on {len(train_records)} sampled records with cached statistics", flush=True)
    options = dict(max_scored_tokens=args.max_tokens, vocabularies=vocabularies)
    train = build_feature_table(
        train_records, args.models, cache, statistics_dtype=args.statistics_dtype, **options
    )
    known = train.names + [f"lexical.{name}" for name in lexical_specs(args.with_lexical)]
    if unmatched := [p for p in args.exclude_features or () if not any(n.startswith(p) for n in known)]:
        parser.error(
            f"--exclude-features {', '.join(unmatched)}: no feature name starts with it "
            f"(they start with {', '.join(sorted({n.split('.')[0] + '.' for n in known}))})"
        )
    dev = build_feature_table(
        dev_records, args.models, cache, statistics_dtype=args.dev_statistics_dtype, **options
    )
    train_generators = np.array(train.generators)
    dev_generators = np.array(dev.generators)
    train_sources = np.array([train_records[i]["source"] for i in train.kept])
    dev_sources = np.array([dev_records[i]["source"] for i in dev.kept])
    train_attacks = np.array([train_records[i].get("attack") or "" for i in train.kept])
    dev_attacks = np.array([dev_records[i].get("attack") or "" for i in dev.kept])
    if unassigned := sorted(set(train.generators) - {"human"} - {g for m in FAMILIES.values() for g in m}):
        print(f"warning: generators in no family (training/data.py FAMILIES): {', '.join(unassigned)}")
    results: dict = {
        "max_scored_tokens": args.max_tokens,
        "models": args.models,
        "excluded_features": args.exclude_features or [],
        "training_statistics_dtype": args.statistics_dtype,
        "dev_statistics_dtype": args.dev_statistics_dtype,
        "n_train": len(train.y),
        "n_dev": len(dev.y),
        "dev": f"all human + {args.ai_texts} AI (stratified)" if args.ai_texts else "all",
        "families": {},
        "attacks": {},
        "sources": {},
    }
    started = time.time()

    if not args.only or "families" in args.only:
        for family, members in FAMILIES.items():
            held_out_train = np.isin(train_generators, members)
            held_out_dev = np.isin(dev_generators, members)
            row = run(subset(train, ~held_out_train), dev, held_out_dev | (dev.y == 0), args)
            results["families"][family] = {"generators": members, **row}
            print(
                f"without {family:14s} AUROC {row['auroc']:.4f}  TPR@1%FPR {row['tpr_at_1pct_fpr']:.3f} "
                f"({row['tpr_at_1pct_fpr_interval'][0]:.2f}-{row['tpr_at_1pct_fpr_interval'][1]:.2f})  "
                f"TPR@verdict {row['tpr_at_verdict']:.3f}  (n_ai {row['n_ai']}, {time.time() - started:.0f} s)",
                flush=True,
            )
        tprs = [r["tpr_at_1pct_fpr"] for r in results["families"].values()]
        results["families_mean_tpr_at_1pct_fpr"] = float(np.mean(tprs))
        results["families_min_tpr_at_1pct_fpr"] = float(np.min(tprs))
        print(f"mean TPR@1%FPR {np.mean(tprs):.3f}, lowest {np.min(tprs):.3f}")

    if not args.only or "attacks" in args.only:
        # trained without any attacked text, tested on the attacked dev texts against the dev humans
        for attack in ATTACKS:
            row = run(
                subset(train, train_attacks != attack), dev, (dev_attacks == attack) | (dev.y == 0), args
            )
            results["attacks"][attack] = row
            print(
                f"without attack {attack:10s} AUROC {row['auroc']:.4f}  TPR@1%FPR {row['tpr_at_1pct_fpr']:.3f}  "
                f"TPR@verdict {row['tpr_at_verdict']:.3f}  (n_ai {row['n_ai']}, {time.time() - started:.0f} s)",
                flush=True,
            )

    if not args.only or "sources" in args.only:
        for source in sorted(set(dev_sources)):
            row = run(subset(train, train_sources != source), dev, dev_sources == source, args)
            results["sources"][source] = row
            print(
                f"without {source:14s} AUROC {row['auroc']:.4f}  TPR@1%FPR {row['tpr_at_1pct_fpr']:.3f}  "
                f"TPR@verdict {row['tpr_at_verdict']:.3f}  FPR@verdict {row['fpr_at_verdict']:.3f} "
                f"(95% up to {row['fpr_at_verdict_interval'][1]:.3f})  "
                f"(n_ai {row['n_ai']}, n_human {row['n_human']}, {time.time() - started:.0f} s)",
                flush=True,
            )

    out = write_results(results, "generalisation", args.name)
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
