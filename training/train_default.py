"""Train the detector that ships with Byline (``byline/decision/trained/default``).

    python -m training.train_default [--model smollm2-135m --model gemma3-270m] [--max-tokens 256]
                                     [--only-cached] [--statistics-dtype bfloat16] [--name NAME]

Reads ``../shared/data/news-train.jsonl`` only (dev is for measuring), and trains with
:func:`byline.decision.training.train_detector`:

1. a generator-balanced sample (``training/data.py``) gets language-model
   statistics (computed, or read from the statistics cache that
   ``training/extract_statistics.py`` fills) and style features;
2. the lexical n-gram models learn from every training article, and every
   sampled article gets their score out of fold (grouped by story);
3. the article and sentence classifiers are fitted and calibrated, the
   1%-FPR threshold set on out-of-fold human scores, and the detector written.

training/README.md gives the commands that made the shipped detector.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from byline.decision.trained_detector import DEFAULT_DETECTOR
from byline.decision.training import (
    OPTIONAL_LEXICAL_SPECS,
    lexical_specs,
    train_detector,
    vocabulary_subsets,
)
from byline.scoring.model_files import cache_dir
from byline.scoring.statistics_cache import STATISTICS_DTYPES, StatisticsCache
from training.data import DATA_DIR, load_records, scoring_texts, training_sample, with_cached_statistics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", action="append", help="scoring model(s); default smollm2-135m and gemma3-270m"
    )
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--ai-per-generator", type=int, default=200)
    parser.add_argument(
        "--only-cached", action="store_true", help="skip sampled records without cached statistics"
    )
    parser.add_argument(
        "--statistics-dtype",
        default="float32",
        choices=list(STATISTICS_DTYPES),
        help="precision of the training texts' language-model statistics (detection computes in float32)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_DETECTOR)
    parser.add_argument("--name", default="news-2026.12")
    parser.add_argument(
        "--with-lexical",
        action="append",
        default=[],
        choices=list(OPTIONAL_LEXICAL_SPECS),
        help="add an optional lexical model to the default ones",
    )
    args = parser.parse_args()
    models = args.model or ["smollm2-135m", "gemma3-270m"]

    train_path = DATA_DIR / "news-train.jsonl"
    everything = load_records(train_path)
    texts = dict(zip((r["id"] for r in everything), scoring_texts(everything)))
    vocabularies = vocabulary_subsets(models, list(texts.values()))
    records = training_sample(everything, args.ai_per_generator)
    cache = StatisticsCache(cache_dir() / "statistics.sqlite")
    if args.only_cached:
        records = with_cached_statistics(
            records, texts, models, cache, args.max_tokens, vocabularies, dtype=args.statistics_dtype
        )
        print(f"using {len(records)} sampled records with cached statistics")
    sampled = {r["id"] for r in records}
    extra = [r for r in everything if r["id"] not in sampled]
    detector = train_detector(
        records,
        models,
        cache,
        name=args.name,
        max_scored_tokens=args.max_tokens,
        lexical=lexical_specs(args.with_lexical),
        extra_texts=[texts[r["id"]] for r in extra],
        extra_labels=[int(r["label"] == "ai") for r in extra],
        extra_groups=[r["group"] for r in extra],
        vocabularies=vocabularies,
        statistics_dtype=args.statistics_dtype,
        metadata={
            "training_data": "news-train.jsonl: a generator-balanced sample for the classifiers, all of it for the lexical models",
            "training_data_sha256": hashlib.sha256(train_path.read_bytes()).hexdigest(),
            "ai_per_generator": args.ai_per_generator,
            "training_statistics_dtype": args.statistics_dtype,
        },
    )
    path = detector.save(args.out)
    info = detector.metadata
    print(
        f"wrote {path}: {info['n_articles']} articles ({info['n_ai']} ai) for the classifiers, "
        f"{info['lexical_training_articles']} for the lexical models"
    )
    for name, share in list(detector.metadata["feature_importance"].items())[:12]:
        print(f"  {name:45s} {share:.3f}")


if __name__ == "__main__":
    main()
