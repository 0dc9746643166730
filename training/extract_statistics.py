"""Compute and cache language-model token statistics for the corpus.

    python -m training.extract_statistics --model smollm2-135m [--split train|dev|both]
    python -m training.extract_statistics --split train --dtype bfloat16   # faster on CPUs with AMX

Statistics go to the SQLite cache (``$BYLINE_CACHE_DIR/statistics.sqlite``), so
that training and benchmarks read them instead of running the model again.

On a machine with a GPU but without the corpus, the work travels as a file:

    python -m training.extract_statistics --model gemma3-270m --max-tokens 256 --export texts.json
    # on the GPU machine (the model's weights prepared in its BYLINE_CACHE_DIR):
    python -m training.extract_statistics --texts texts.json --device cuda --cache out.sqlite
    # back here:
    python -m training.merge_statistics out.sqlite

``--export`` writes the exact texts that would be scored (normalised and reflowed,
as training and detection score them) with the model's vocabulary subset; ``--raw-texts``
adds articles from a JSONL file of ``{"text": ...}`` records (e.g. the attacked texts of
``python -m benchmarks.attacks --write-texts``), prepared the same way.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

# Only the scoring layer at the top: with --texts this runs where the corpus and training's
# dependencies are absent (a GPU machine with torch and transformers).
from byline.scoring.model_files import cache_dir
from byline.scoring.statistics_cache import STATISTICS_DTYPES, StatisticsCache, statistics_key


def raw_text_records(path: Path) -> list[dict]:
    """The records of a ``--raw-texts`` file; ValueError naming the file, the line and the problem.

    Read with Byline's own JSONL reader, so a bad line is worded as ``byline train`` words it.
    """
    from byline.input.records import json_lines

    try:
        with path.open("rb") as handle:
            lines = list(json_lines(handle))
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror})") from None
    records = []
    for line in lines:
        if line.record is None:
            raise ValueError(f"{path}: line {line.number}: {line.problem}")
        if not isinstance(line.record.get("text"), str):
            raise ValueError(f'{path}: line {line.number}: no "text" string')
        records.append(line.record)
    return records


def corpus_texts(args: argparse.Namespace, raw_records: list[dict]) -> list[str]:
    """The scoring texts of the chosen corpus split(s), the dev evaluation sample first, then ``raw_records``."""
    from training.data import DATA_DIR, evaluation_sample, load_records, scoring_texts, training_sample

    dev, train = [], []
    if args.split in ("dev", "both"):
        dev = evaluation_sample(load_records(DATA_DIR / "news-dev.jsonl"), args.dev_ai_texts)
    if args.split in ("train", "both"):
        train = training_sample(load_records(DATA_DIR / "news-train.jsonl"), args.ai_per_generator)
    random.Random(1).shuffle(dev)
    random.Random(1).shuffle(train)
    records = dev + train + raw_records
    if args.limit:
        records = records[: args.limit]
    return scoring_texts(records)


def training_vocabulary(model: str) -> list[int] | None:
    """The vocabulary subset training computes for ``model`` (from every training text)."""
    from byline.decision.training import has_large_vocabulary, vocabulary_subsets
    from training.data import DATA_DIR, load_records, scoring_texts

    if not has_large_vocabulary(model):  # spares preparing every training text
        return None
    return vocabulary_subsets([model], scoring_texts(load_records(DATA_DIR / "news-train.jsonl"))).get(model)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument(
        "--split",
        default="both",
        choices=["train", "dev", "both", "none"],
        help="corpus split(s) to score; none: only --raw-texts",
    )
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--ai-per-generator", type=int, default=200)
    parser.add_argument(
        "--dev-ai-texts",
        type=int,
        default=800,
        help="AI dev texts in the evaluation sample (0: all); every human dev text is kept",
    )
    parser.add_argument("--raw-texts", type=Path, help="JSONL of {'text': ...} articles to score as well")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument(
        "--dtype",
        default="float32",
        choices=list(STATISTICS_DTYPES),
        help="precision of the model; bfloat16 statistics are cached apart (train with"
        " --statistics-dtype bfloat16); keep dev in float32, the precision of detection",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: a GPU if there is one)")
    parser.add_argument(
        "--batch-tokens", type=int, default=512, help="tokens per forward pass (more on a GPU)"
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="statistics SQLite file (default: the cache's)"
    )
    parser.add_argument(
        "--export", type=Path, help="write the texts to score and the vocabulary to this file; score nothing"
    )
    parser.add_argument(
        "--texts", type=Path, help="score the texts of an --export file instead of the corpus"
    )
    args = parser.parse_args()

    if args.texts:
        try:
            job = json.loads(args.texts.read_text(encoding="utf-8"))
            missing = [k for k in ("model", "max_tokens", "vocabulary", "texts") if k not in job]
        except (OSError, ValueError, TypeError) as error:
            parser.error(f"{args.texts}: not a file written by --export ({error})")
        if missing:
            parser.error(f"{args.texts}: not a file written by --export (no {', '.join(missing)})")
        model_name, texts, vocabulary = job["model"], job["texts"], job["vocabulary"]
        max_tokens = job["max_tokens"]
    else:
        model_name, max_tokens = args.model, args.max_tokens
        try:
            raw_records = raw_text_records(args.raw_texts) if args.raw_texts else []
        except ValueError as error:
            parser.error(str(error))
        texts = corpus_texts(args, raw_records)
        # the same vocabulary subset training computes (from all training texts)
        vocabulary = training_vocabulary(model_name)
    if args.export:
        job = {"model": model_name, "max_tokens": max_tokens, "vocabulary": vocabulary, "texts": texts}
        args.export.write_text(json.dumps(job), encoding="utf-8")
        print(f"{len(texts)} texts for {model_name} written to {args.export}")
        return

    import torch

    from byline.decision.training import CONTEXT_TOKENS, WINDOW_TOKENS
    from byline.scoring.language_model import LanguageModel

    model = LanguageModel(
        model_name,
        device=args.device,
        window_tokens=WINDOW_TOKENS,
        context_tokens=CONTEXT_TOKENS,
        max_scored_tokens=max_tokens,
        batch_tokens=args.batch_tokens,
        dtype=getattr(torch, args.dtype),
    )
    model.set_vocabulary(vocabulary)
    scheme = model.scheme
    print(f"{model_name} on {model.device}, scheme {scheme}", flush=True)
    cache = StatisticsCache(args.cache or cache_dir() / "statistics.sqlite")
    done = 0
    start = time.time()

    def progress(n: int) -> None:
        nonlocal done
        done += n
        rate = done / max(time.time() - start, 1e-9)
        print(f"{done}/{len(texts)} texts ({rate:.2f}/s)", flush=True)

    chunk = max(8, args.batch_tokens // 256)
    cache.compute_missing(
        statistics_key(model_name, args.dtype),
        scheme,
        texts,
        model.token_statistics,
        chunk_size=chunk,
        progress=progress,
    )
    cache.close()


if __name__ == "__main__":
    main()
