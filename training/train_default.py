"""Train the detector that ships with Byline (``byline/decision/trained/default``).

    python training/train_default.py [--only-cached] [--max-tokens 256]

Reads ``../shared/data/news-train.jsonl`` (a generator-balanced sample, see
``training/data.py``), computes or reuses cached token statistics, fits the
classifiers and writes the detector. Dev data is never used here.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from byline.decision.trained_detector import DEFAULT_DETECTOR  # noqa: E402
from byline.decision.training import build_feature_table, fit_detector  # noqa: E402
from byline.input import article_from_text, reflow  # noqa: E402
from byline.scoring.model_files import cache_dir  # noqa: E402
from byline.scoring.statistics_cache import StatisticsCache, scheme_name  # noqa: E402
from training.data import DATA_DIR, load_records, training_sample  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", action="append", help="scoring model(s); default smollm2-135m")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--ai-per-generator", type=int, default=200)
    parser.add_argument("--only-cached", action="store_true", help="skip records without cached statistics")
    parser.add_argument("--out", type=Path, default=DEFAULT_DETECTOR)
    parser.add_argument("--name", default="news-2026.11")
    args = parser.parse_args()
    models = args.model or ["smollm2-135m"]

    train_path = DATA_DIR / "news-train.jsonl"
    records = training_sample(load_records(train_path), args.ai_per_generator)
    cache = StatisticsCache(cache_dir() / "statistics.sqlite")
    if args.only_cached:
        scheme = scheme_name(512, 64, args.max_tokens)
        texts = [reflow(article_from_text(r["text"]).text)[0] for r in records]
        present = [cache.get_many(m, scheme, texts) for m in models]
        records = [r for i, r in enumerate(records) if all(p[i] is not None for p in present)]
        print(f"using {len(records)} records with cached statistics")
    table = build_feature_table(records, models, cache, max_scored_tokens=args.max_tokens)
    detector = fit_detector(
        table,
        name=args.name,
        language_models=models,
        window_tokens=512,
        context_tokens=64,
        max_scored_tokens=args.max_tokens,
        min_words=50,
        metadata={
            "training_data": "news-train.jsonl (generator-balanced sample)",
            "training_data_sha256": hashlib.sha256(train_path.read_bytes()).hexdigest(),
            "ai_per_generator": args.ai_per_generator,
        },
    )
    path = detector.save(args.out)
    print(f"wrote {path}: {len(table.y)} articles, {int(table.y.sum())} ai")
    top = list(detector.metadata["feature_importance"].items())[:10]
    for name, share in top:
        print(f"  {name:45s} {share:.3f}")


if __name__ == "__main__":
    main()
