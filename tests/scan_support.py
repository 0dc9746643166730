"""Helpers for the scan tests: a small but real trained detector over the tiny test model.

The detector goes through the same code as the shipped one (token statistics,
features, LightGBM, calibration), only with a 2-layer random language model
and a few synthetic articles, so that plumbing tests run in seconds. Its
probabilities mean nothing; tests never look at their values, only that
every engine gives the same ones.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from conftest import CORPUS

EXTRA = [
    "Residents gathered outside the town hall to protest the closure of the library.",
    "The minister declined to comment on the report, citing an ongoing review.",
    "Heavy rain caused flooding across the region, and several roads were closed.",
    "Scientists said the findings could change how the disease is treated.",
    "The club confirmed the signing of the striker on a three-year contract.",
    "Prices rose faster than expected last month, according to official figures.",
]


def article(seed: int, sentences: int = 6) -> str:
    rng = random.Random(seed)
    pool = CORPUS + EXTRA
    return " ".join(rng.choice(pool) for _ in range(sentences))


def build_tiny_detector(model_dir: Path, directory: Path) -> Path:
    """Train a detector on the tiny model and save it in ``directory`` (once; reused after)."""
    target = directory / "detector"
    if (target / "detector.json").exists():
        return target
    from byline.decision.classifier import GradientBoostedClassifier
    from byline.decision.trained_detector import TrainedDetector
    from byline.decision.training import build_feature_table
    from byline.scoring.statistics_cache import StatisticsCache

    records = []
    for index in range(24):
        label = "ai" if index % 2 else "human"
        records.append({"text": article(index, 4 + index % 5), "label": label, "group": f"g{index}"})
    model = str(model_dir)
    scheme = {"window_tokens": 64, "context_tokens": 16, "max_scored_tokens": 96}
    table = build_feature_table(
        records, [model], StatisticsCache(directory / "statistics.sqlite"), min_words=5, **scheme
    )
    small = {"n_estimators": 10, "n_folds": 3, "min_child_samples": 2}
    article_classifier = GradientBoostedClassifier(feature_names=table.names, **small)
    article_classifier.fit(table.X, table.y, groups=table.groups)
    sentence_classifier = GradientBoostedClassifier(feature_names=table.sentence_names, **small)
    sentence_classifier.fit(table.sentence_X, table.sentence_y, groups=table.sentence_groups)
    TrainedDetector(
        name="tiny-test",
        language_models=[model],
        article_classifier=article_classifier,
        sentence_classifier=sentence_classifier,
        min_words=5,
        **scheme,
    ).save(target)
    return target


GOOD = [article(100 + i, 3 + i % 6) for i in range(10)]


def write_jsonl(path: Path, records: list) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(record if isinstance(record, str) else json.dumps(record))
            handle.write("\n")
    return path


class CrashingLoader:
    """Loads the detector in a worker process; scoring a text with ``CRASH`` in it kills
    that process (as the out-of-memory killer or a native crash would)."""

    def __init__(self, detector: str) -> None:
        self.detector = detector

    def __call__(self):
        from byline.engines.scoring import DetectorSpec

        return _Crashing(DetectorSpec(self.detector, threads=1).load())


class _Crashing:
    def __init__(self, detector) -> None:
        self.detector = detector

    def detect_many(self, articles, **options):
        import os

        if any("CRASH" in a.text for a in articles):
            os._exit(3)
        return self.detector.detect_many(articles, **options)


class ConstantScorer:
    """A stand-in detector that gives every article the same result: for tests of the scan's
    plumbing (state files, errors) that need no language model."""

    def detect_many(self, articles, **options):
        from types import SimpleNamespace

        return [
            SimpleNamespace(
                ai_probability=0.5,
                verdict="human",
                threshold=0.9,
                n_tokens=10,
                n_scored_tokens=10,
                n_words=10,
                ai_share=0.0,
                title=None,
            )
            for _ in articles
        ]
