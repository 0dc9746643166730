"""Compute and cache language-model token statistics for the corpus.

    python training/extract_statistics.py --model smollm2-135m [--split train|dev|both]
    python training/extract_statistics.py --split train --dtype bfloat16   # faster on CPUs with AMX

Statistics go to the SQLite cache (``$BYLINE_CACHE_DIR/statistics.sqlite``), so
that training and benchmarks read them instead of running the model again.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from byline.input import article_from_text, scoring_text  # noqa: E402
from byline.scoring.language_model import LanguageModel  # noqa: E402
from byline.scoring.model_files import cache_dir  # noqa: E402
from byline.decision.training import STATISTICS_DTYPES, statistics_key, vocabulary_subsets  # noqa: E402
from byline.scoring.statistics_cache import StatisticsCache  # noqa: E402
from training.data import DATA_DIR, evaluation_sample, load_records, training_sample  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--split", default="both", choices=["train", "dev", "both"])
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--ai-per-generator", type=int, default=200)
    parser.add_argument("--dev-ai-texts", type=int, default=800,
                        help="AI dev texts in the evaluation sample (0: all); every human dev text is kept")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--dtype", default="float32", choices=list(STATISTICS_DTYPES),
                        help="precision of the model; bfloat16 statistics are cached apart (train with"
                             " --statistics-dtype bfloat16); keep dev in float32, the precision of detection")
    args = parser.parse_args()

    # the evaluation sample first: benchmarks need all of it, training can use what is cached
    dev, train = [], []
    if args.split in ("dev", "both"):
        dev = evaluation_sample(load_records(DATA_DIR / "news-dev.jsonl"), args.dev_ai_texts)
    if args.split in ("train", "both"):
        train = training_sample(load_records(DATA_DIR / "news-train.jsonl"), args.ai_per_generator)
    random.Random(1).shuffle(dev)
    random.Random(1).shuffle(train)
    records = dev + train
    if args.limit:
        records = records[: args.limit]
    texts = [scoring_text(article_from_text(r["text"]).text) for r in records]
    import torch

    model = LanguageModel(args.model, window_tokens=512, max_scored_tokens=args.max_tokens, batch_tokens=512,
                          dtype=getattr(torch, args.dtype))
    # the same vocabulary subset training computes (from all training texts)
    train_texts = [scoring_text(article_from_text(r["text"]).text) for r in load_records(DATA_DIR / "news-train.jsonl")]
    model.set_vocabulary(vocabulary_subsets([args.model], train_texts).get(args.model))
    scheme = model.scheme
    print(f"scheme {scheme}", flush=True)
    cache = StatisticsCache(cache_dir() / "statistics.sqlite")
    done = 0
    start = time.time()

    def progress(n: int) -> None:
        nonlocal done
        done += n
        rate = done / max(time.time() - start, 1e-9)
        print(f"{done}/{len(texts)} texts ({rate:.2f}/s)", flush=True)

    cache.compute_missing(statistics_key(args.model, args.dtype), scheme, texts, model.token_statistics, chunk_size=8, progress=progress)


if __name__ == "__main__":
    main()
