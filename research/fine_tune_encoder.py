"""Experiment, not shipped: fine-tune the packaged all-MiniLM-L6-v2 as a machine-text classifier.

    python -m research.fine_tune_encoder [--exclude-family FAMILY] [--epochs 1] [--max-len 192]
                                         [--frozen-layers 3] [--out RESULT.json]

Supervised detectors in the field (Pangram) fine-tune a transformer end to end rather than
boosting over language-model statistics. This trains the sentence encoder with a linear head on
its mean-pooled tokens, on the training sample of the shipped detector (optionally without one
generator family), and measures the raw score on the dev evaluation sample as
``python -m benchmarks.accuracy`` does: AUROC and TPR at the dev 1%-FPR threshold, overall and per
family against all human dev texts. The result is in research/README.md.

CPU budget: the embeddings and the lowest ``--frozen-layers`` layers keep their pretrained weights
(backward through them is most of the cost), and training runs in float32: on a CPU without
bfloat16 matrix units (no Intel AMX), bfloat16 autocast is emulated and slow.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent

from byline.decision.training import balanced_weights
from byline.reporting.evaluation import auroc, threshold_at_fpr, tpr_at
from byline.tracing.encoder import packaged_model_path
from training.data import (
    DATA_DIR,
    FAMILIES,
    evaluation_sample,
    load_records,
    scoring_texts,
    training_sample,
)


class EncoderClassifier(torch.nn.Module):
    """A transformer encoder with a linear head on its mean-pooled token vectors."""

    def __init__(self, path: str) -> None:
        super().__init__()
        from transformers import AutoModel

        self.encoder = AutoModel.from_pretrained(path)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(pooled).squeeze(-1)


def measured(dev: list[dict], scores: np.ndarray) -> dict:
    machine = np.array([r["label"] != "human" for r in dev])
    humans = scores[~machine]
    threshold = threshold_at_fpr(humans, 0.01)
    report = {
        "auroc": auroc(machine, scores),
        "tpr_at_1pct_fpr": tpr_at(scores[machine], threshold),
        "families": {},
    }
    for family, members in FAMILIES.items():
        ours = machine & np.array([r["generator"] in members for r in dev])
        if ours.any():
            keep = ~machine | ours
            report["families"][family] = {
                "n_ai": int(ours.sum()),
                "auroc": auroc(machine[keep], scores[keep]),
                "tpr_at_1pct_fpr": tpr_at(scores[ours], threshold),
            }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exclude-family", choices=sorted(FAMILIES), default=None)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-len", type=int, default=192, help="tokens per article")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--frozen-layers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="write the figures and dev scores here")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    from transformers import AutoTokenizer

    train = training_sample(load_records(DATA_DIR / "news-train.jsonl"))
    if args.exclude_family:
        train = [r for r in train if r["generator"] not in FAMILIES[args.exclude_family]]
    dev = evaluation_sample(load_records(DATA_DIR / "news-dev.jsonl"), ai_texts=800)
    machine = np.array([r["label"] != "human" for r in train])
    labels = torch.tensor(machine, dtype=torch.float32)
    # as the shipped recipe weighs them: balanced classes, generators by 1/sqrt(size)
    weights = torch.tensor(
        balanced_weights(machine.astype(int), [r["generator"] for r in train]), dtype=torch.float32
    )
    print(f"train {len(train)} ({int(labels.sum())} machine), dev {len(dev)}", flush=True)

    path = str(packaged_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = EncoderClassifier(path)
    frozen = [model.encoder.embeddings, *model.encoder.encoder.layer[: args.frozen_layers]]
    for module in frozen:
        module.requires_grad_(False)
    train_tokens = tokenizer(scoring_texts(train), truncation=True, max_length=args.max_len)
    dev_tokens = tokenizer(scoring_texts(dev), truncation=True, max_length=args.max_len)

    def batch(tokens, rows):
        return tokenizer.pad(
            [{key: tokens[key][i] for key in ("input_ids", "attention_mask")} for i in rows],
            return_tensors="pt",
        )

    steps = int(math.ceil(len(train) / args.batch_size) * args.epochs)
    optimiser = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=args.learning_rate, weight_decay=0.01
    )
    # linear warm-up over 6% of the steps, then linear decay
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / (0.06 * steps)) * max(0.0, (steps - step) / steps)
    )
    order: list[int] = []
    start = time.time()
    model.train()
    for step in range(steps):
        if not order:
            order = np.random.default_rng(step).permutation(len(train)).tolist()
        rows, order = order[: args.batch_size], order[args.batch_size :]
        inputs = batch(train_tokens, rows)
        logits = model(inputs["input_ids"], inputs["attention_mask"])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, labels[rows], weight=weights[rows]
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        if (step + 1) % 50 == 0 or step + 1 == steps:
            print(f"step {step + 1}/{steps} loss {loss.item():.4f} {time.time() - start:.0f} s", flush=True)

    model.eval()
    scores: list[float] = []
    with torch.no_grad():
        for first in range(0, len(dev), 64):
            inputs = batch(dev_tokens, range(first, min(first + 64, len(dev))))
            scores.extend(model(inputs["input_ids"], inputs["attention_mask"]).tolist())
    report = {
        "exclude_family": args.exclude_family,
        "epochs": args.epochs,
        "max_len": args.max_len,
        "frozen_layers": args.frozen_layers,
        "steps": steps,
        "seconds": time.time() - start,
        **measured(dev, np.array(scores)),
    }
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(
            json.dumps({**report, "dev_ids": [r.get("id") for r in dev], "dev_scores": scores})
        )


if __name__ == "__main__":
    main()
