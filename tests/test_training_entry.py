"""train_detector, the one training entry point, against the chain it owns.

Uses the tiny random language model: the numbers mean nothing, the detector file must match.
"""

import json
import random

from byline.decision.training import (
    CONTEXT_TOKENS,
    WINDOW_TOKENS,
    add_lexical_features,
    build_feature_table,
    fit_detector,
    lexical_specs,
    train_detector,
)
from byline.scoring.statistics_cache import StatisticsCache
from tests.test_train_command import _labelled


def test_train_detector_writes_the_detector_of_the_chain_it_owns(tmp_path, tiny_model_dir):
    path = _labelled(tmp_path / "labelled.jsonl", random.Random(3), n=36)
    everything = [json.loads(line) for line in path.open()]
    records, extra = everything[:26], everything[26:]
    extra_args = dict(
        extra_texts=[r["text"] for r in extra],
        extra_labels=[int(r["label"] == "ai") for r in extra],
        extra_groups=[r["group"] for r in extra],
    )
    models = [str(tiny_model_dir)]
    cache = StatisticsCache(tmp_path / "statistics.sqlite")
    specs = lexical_specs(["characters"])

    table = build_feature_table(
        records, models, cache, window_tokens=512, context_tokens=64, max_scored_tokens=64
    )
    lexical = add_lexical_features(table, specs, n_folds=5, **extra_args)
    chain = fit_detector(
        table,
        name="same",
        language_models=models,
        window_tokens=512,
        context_tokens=64,
        max_scored_tokens=64,
        min_words=50,
        lexical_classifiers=lexical,
        metadata={"note": "x", "lexical_training_articles": len(table.texts) + len(extra)},
    )
    entry = train_detector(
        records,
        models,
        cache,
        name="same",
        max_scored_tokens=64,
        lexical=specs,
        metadata={"note": "x"},
        **extra_args,
    )

    chain.save(tmp_path / "chain")
    entry.save(tmp_path / "entry")
    assert (tmp_path / "entry" / "detector.json").read_bytes() == (
        tmp_path / "chain" / "detector.json"
    ).read_bytes()
    assert (entry.window_tokens, entry.context_tokens) == (WINDOW_TOKENS, CONTEXT_TOKENS)
    assert entry.metadata["lexical_training_articles"] == 36
    # without extra articles (as `byline train` calls it) the metadata does not claim any
    assert (
        "lexical_training_articles"
        not in train_detector(records, models, cache, name="cli", max_scored_tokens=64).metadata
    )
