"""Reading the labelled news corpus (``../shared/data``) for training and evaluation."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

#: Generator families: models of one lineage share training data and habits. Llama 2 (with its
#: Vicuna fine-tunes) and Llama 3 are apart: a new generation is what a user meets next.
FAMILIES = {
    "openai-gpt": ["gpt-3.5-turbo", "gpt-4o", "gpt2-xl"],
    "anthropic-claude": ["claude-3.5-sonnet"],
    "google": ["palm-2-bison", "gemini-1.5-pro"],
    "eleutherai": ["gpt-j-6b", "gpt-neo-2.7b", "gpt-neox-20b"],
    "meta-llama-2": ["llama-2-7b", "llama-2-13b", "llama-2-70b", "vicuna-7b", "vicuna-13b", "vicuna-33b"],
    "meta-llama-3": ["llama-3-8b", "llama-3-70b"],
    "meta-opt": ["opt-2.7b"],
    "mistral": ["mistral-7b", "mistral-7b-instruct-v0.1"],
    "qwen": ["qwen2-7b"],
    "deepseek": ["deepseek-7b"],
    "microsoft-phi": ["phi-2"],
    "unknown": ["unknown-llm"],
}

#: Attacks applied to machine text after generation (the records' ``attack`` field).
ATTACKS = ("paraphrase",)


def load_records(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def scoring_texts(records: list[dict]) -> list[str]:
    """Each record's text as the language models score it: normalised and reflowed, as in detection."""
    from byline.input import article_from_text, scoring_text

    return [scoring_text(article_from_text(r["text"]).text) for r in records]


def training_sample(records: list[dict], ai_per_generator: int = 200, seed: int = 0) -> list[dict]:
    """Every human record plus a sample of AI records balanced across generators.

    Generators differ ten-fold in size (unknown-llm restyles: 4,000; each
    base model: 300), so an even share per generator, spread over tasks,
    keeps the detector from learning mostly one generator.
    """
    rng = random.Random(seed)
    by_generator: dict[str, list[dict]] = defaultdict(list)
    humans = []
    for record in records:
        (humans if record["label"] == "human" else by_generator[record["generator"]]).append(record)
    chosen = list(humans)
    for generator, items in sorted(by_generator.items()):
        by_task: dict[str, list[dict]] = defaultdict(list)
        for item in items:
            by_task[item["task"]].append(item)
        for task_items in by_task.values():
            rng.shuffle(task_items)
        # round-robin over tasks so every task of the generator is represented
        queues = [by_task[t] for t in sorted(by_task)]
        taken = 0
        while taken < ai_per_generator and any(queues):
            for queue in queues:
                if queue and taken < ai_per_generator:
                    chosen.append(queue.pop())
                    taken += 1
    return chosen


def evaluation_sample(records: list[dict], ai_texts: int = 800, seed: int = 0) -> list[dict]:
    """Every human record plus ``ai_texts`` AI records, stratified by generator and task.

    A sample spares scoring every AI dev text with every language model; every
    human is kept because the 1% false-positive threshold rests on them, and the AI share of each (generator, task) stratum keeps its
    proportion so overall figures still reflect the dev mix.
    """
    rng = random.Random(seed)
    humans = [r for r in records if r["label"] == "human"]
    strata: dict[tuple, list[dict]] = defaultdict(list)
    for record in records:
        if record["label"] != "human":
            strata[(record["generator"], record["task"])].append(record)
    total = sum(len(items) for items in strata.values())
    if ai_texts <= 0 or ai_texts >= total:
        return humans + [r for items in strata.values() for r in items]
    chosen = list(humans)
    for key in sorted(strata):
        items = list(strata[key])
        rng.shuffle(items)
        chosen += items[: max(1, round(ai_texts * len(items) / total))]
    return chosen


def with_cached_statistics(
    records: list[dict],
    texts: dict[str, str],
    models: list[str],
    cache,
    max_tokens: int,
    vocabularies: dict | None = None,
    dtype: str = "float32",
) -> list[dict]:
    """The records whose language-model statistics are all in the statistics cache.

    ``texts`` maps record ids to the reflowed text the statistics were computed on.
    """
    from byline.decision.training import CONTEXT_TOKENS, WINDOW_TOKENS
    from byline.scoring.language_model import vocabulary_tag
    from byline.scoring.statistics_cache import scheme_name, statistics_key

    present = []
    for model in models:
        tag = vocabulary_tag(vocabularies[model]) if vocabularies and model in vocabularies else ""
        present.append(
            cache.get_many(
                statistics_key(model, dtype),
                scheme_name(WINDOW_TOKENS, CONTEXT_TOKENS, max_tokens, tag),
                [texts[r["id"]] for r in records],
            )
        )
    return [r for i, r in enumerate(records) if all(p[i] is not None for p in present)]
