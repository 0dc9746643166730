"""How fast the sentence encoder embeds, in each runtime and precision: one article at a time
(a trace query) and many articles at once (indexing).

    python -m benchmarks.encoder_speed --articles 60

Human articles of news-dev, split as tracing splits them. Each runtime is timed
twice in turn (ABAB) on the same texts; the vectors of each runtime are compared
with PyTorch's. bfloat16 is timed only on a CPU with bfloat16 instructions (AMX or AVX-512
BF16). Writes benchmarks/results/encoder_speed.json (``--out`` for another file); the machine
it ran on is recorded with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from benchmarks.machine import describe_machine
from benchmarks.scored_texts import RESULTS
from byline.scoring.devices import cpu_bfloat16_instructions
from byline.tracing.encoder import SentenceEncoder, default_precision
from byline.tracing.sentences import split_for_matching
from training.data import DATA_DIR


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "encoder_speed.json")
    args = parser.parse_args()

    with (args.data / "news-dev.jsonl").open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    texts = [r["text"] for r in records if r["label"] == "human"][: args.articles]
    articles = [[span.text for span in split_for_matching(text)] for text in texts]
    pieces = [piece for article in articles for piece in article]

    encoders = {}
    if cpu_bfloat16_instructions() is not None:
        # Elsewhere bfloat16 is emulated (many times slower than float32; benchmarks/README.md)
        # and never a new index's default: not timed there.
        encoders["torch bfloat16, batches of 64, tokens padded to 16"] = SentenceEncoder(precision="bfloat16")
    encoders |= {
        "onnx int8, batches of 8": SentenceEncoder(runtime="onnx", precision="int8"),
        "onnx float32, batches of 8": SentenceEncoder(runtime="onnx"),
        "torch, batches of 8": SentenceEncoder(runtime="torch"),
        "torch, batches of 64 (before)": SentenceEncoder(runtime="torch", batch_size=64),
    }
    reference = encoders["torch, batches of 8"].encode(pieces)
    timings: dict[str, dict[str, list[float]]] = {
        name: {"query_ms": [], "articles_per_s": []} for name in encoders
    }
    for _ in range(args.rounds):
        for name, encoder in encoders.items():
            encoder.encode(pieces[:16])  # warm
            started = time.perf_counter()
            for article in articles:
                encoder.encode(article)
            timings[name]["query_ms"].append((time.perf_counter() - started) / len(articles) * 1000)
            started = time.perf_counter()
            encoder.encode(pieces)
            timings[name]["articles_per_s"].append(len(articles) / (time.perf_counter() - started))
    results = {}
    for name, encoder in encoders.items():
        similarity = (encoder.encode(pieces) * reference).sum(axis=1)
        results[name] = {
            "query_ms": round(float(np.median(timings[name]["query_ms"])), 1),
            "articles_per_s": round(float(np.median(timings[name]["articles_per_s"])), 2),
            "min_cosine_to_torch": round(float(similarity.min()), 6),
            "mean_cosine_to_torch": round(float(similarity.mean()), 6),
        }
        print(
            f"{name:34s} one article {results[name]['query_ms']:6.1f} ms   many {results[name]['articles_per_s']:5.2f}"
            f" articles/s   cosine to torch: min {results[name]['min_cosine_to_torch']:.6f},"
            f" mean {results[name]['mean_cosine_to_torch']:.6f}"
        )
    output = {
        "default_precision_here": default_precision(),
        "articles": len(articles),
        "pieces": len(pieces),
        "words_per_article": round(sum(len(p.split()) for p in pieces) / len(articles), 1),
        "runtimes": results,
        "machine": describe_machine(),
        "load_average": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(output, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
