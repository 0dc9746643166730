"""Scoring a batch of read inputs into result rows; shared by the local and Ray engines.

Both engines call :func:`score_batch` with the same detector settings
(:class:`DetectorSpec`), so a scan gives the same rows whichever runs it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from byline.engines.sources import ReadInput
from byline.input import Article
from byline.wording import printable

#: The columns of a scan's output, in order. ``error`` is null for a scored input.
ROW_FIELDS = (
    "id",
    "path",
    "ai_probability",
    "verdict",
    "threshold",
    "n_tokens",
    "n_scored_tokens",
    "n_words",
    "ai_share",
    "title",
    "error",
)


class BatchDetector(Protocol):
    """What a scan needs from a detector (:class:`byline.detector.Detector` has it)."""

    def detect_many(
        self, texts: Sequence[Article], *, fpr: float | None = None, batch_size: int = 16
    ) -> list[Any]: ...


@dataclass(frozen=True)
class DetectorSpec:
    """How to build the detector in a worker process or a Ray actor.

    ``batch_tokens`` caps the tokens of one language-model forward pass (and so
    the memory of a batch); ``threads`` is the torch thread count per worker.
    """

    detector: str | None = None
    fpr: float = 0.01
    model: str | None = None
    device: str | None = None
    batch_tokens: int | None = None
    threads: int | None = None
    precision: str = "auto"
    any_language: bool = False

    def load(self) -> BatchDetector:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import warnings

        import torch

        if self.threads:
            torch.set_num_threads(self.threads)
        from byline.detector import Detector

        with warnings.catch_warnings():
            # The "not calibrated" warning for --model is shown once, by the command.
            warnings.simplefilter("ignore")
            detector = Detector(
                self.detector,
                fpr=self.fpr,
                model=self.model,
                device=self.device,
                precision=self.precision,
                any_language=self.any_language,
            )
        if self.batch_tokens:
            for language_model in detector.language_models.values():
                language_model.batch_tokens = self.batch_tokens
        return detector


def result_row(item: ReadInput, result: Any) -> dict[str, Any]:
    """The output row of a scored input."""
    return {
        "id": item.id,
        "path": item.path,
        "ai_probability": result.ai_probability,
        "verdict": result.verdict,
        "threshold": result.threshold,
        "n_tokens": result.n_tokens,
        "n_scored_tokens": result.n_scored_tokens,
        "n_words": result.n_words,
        "ai_share": result.ai_share,
        "title": result.title,
        "error": None,
    }


def error_row(item: ReadInput, message: str) -> dict[str, Any]:
    """The output row of an input that could not be read or scored.

    The message's control characters are escaped (it names files and ids, which may hold any),
    so that a CSV output shown in a terminal cannot drive it; ``id`` and ``path`` stay exact.
    """
    row: dict[str, Any] = dict.fromkeys(ROW_FIELDS)
    row.update(id=item.id, path=item.path, error=printable(message))
    return row


def score_batch(detector: BatchDetector, items: Sequence[ReadInput]) -> list[dict[str, Any]]:
    """One row per item, in order: scored inputs in one batched pass, errors as error rows.

    If the batched pass fails, each article is scored alone so that one bad
    input cannot take its neighbours down with it.
    """
    rows: list[dict[str, Any] | None] = [None] * len(items)
    todo = []
    for index, item in enumerate(items):
        if item.error is not None or item.article is None:
            rows[index] = error_row(item, item.error or f"{item.id}: no text to score")
        else:
            todo.append(index)
    if todo:
        articles = [items[i].article for i in todo]
        try:
            results = detector.detect_many(articles, batch_size=len(articles))  # type: ignore[arg-type]
            for index, result in zip(todo, results, strict=True):
                rows[index] = result_row(items[index], result)
        except Exception:  # noqa: BLE001 - isolate the input that failed, below
            for index in todo:
                rows[index] = _score_alone(detector, items[index])
    return rows  # type: ignore[return-value]


def _score_alone(detector: BatchDetector, item: ReadInput) -> dict[str, Any]:
    try:
        return result_row(item, detector.detect_many([item.article], batch_size=1)[0])  # type: ignore[list-item]
    except Exception as error:  # noqa: BLE001 - reported in the row; the scan goes on
        from byline.errors import BylineError

        where = item.article.source if item.article is not None else item.id
        if isinstance(error, BylineError):
            return error_row(item, str(error))
        return error_row(item, f"{where}: scoring failed ({type(error).__name__}: {error})")
