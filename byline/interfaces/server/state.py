"""What a running app holds: settings, the loaded detectors, the scoring pool and the source index.

Routers reach it with :func:`server_state` (``request.app.state.byline``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

from byline.errors import InputError
from byline.input import Article
from byline.interfaces.server.errors import ApiError, field_error
from byline.interfaces.server.scoring_pool import (
    DocumentInput,
    Outcome,
    PoolClosed,
    QueueFull,
    ScoringFailure,
    ScoringPool,
    SupportsDetection,
)
from byline.interfaces.server.settings import DEFAULT_DETECTOR_ALIAS, ServerSettings

if TYPE_CHECKING:
    from byline.tracing import SourceIndex


class StartupError(RuntimeError):
    """The server cannot start as configured; the message names the setting and the problem."""


def detector_name(detector: SupportsDetection) -> str:
    return str(detector.info().get("detector") or type(detector).__name__)


def name_detectors(detectors: Sequence[SupportsDetection]) -> dict[str, SupportsDetection]:
    """Key detectors by the name they were trained under; names must differ."""
    named: dict[str, SupportsDetection] = {}
    for detector in detectors:
        name = detector_name(detector)
        if name in named or (named and name == DEFAULT_DETECTOR_ALIAS):
            # "default" always means the first detector, so a later one cannot be called that.
            raise ValueError(f"detectors: two detectors would both be reachable as {name!r}; rename one")
        named[name] = detector
    return named


def load_detectors(settings: ServerSettings) -> dict[str, SupportsDetection]:
    """Load every detector the settings list (slow: the language models load here)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    from byline.detector import Detector

    loaded = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in settings.detectors:
            loaded.append(
                Detector(
                    None if spec == DEFAULT_DETECTOR_ALIAS else spec,
                    fpr=settings.fpr,
                    device=settings.device,
                    precision=settings.precision,
                    any_language=settings.any_language,
                )
            )
    return name_detectors(loaded)


def open_trace_index(settings: ServerSettings) -> SourceIndex | None:
    """The source index for ``POST /v1/trace``, opened read-only with its sentence encoder loaded
    (``None`` without ``trace_index``). A missing or unreadable index stops the start-up."""
    if settings.trace_index is None:
        return None
    from byline.errors import BylineError
    from byline.tracing import SourceIndex

    try:
        index = SourceIndex.open(settings.trace_index)
    except BylineError as error:
        # InputError reads "PATH: problem".
        raise StartupError(f"--trace-index {error}") from None
    try:
        index.encoder  # noqa: B018 - load it now, not on the first request
    except BylineError as error:
        index.close()
        raise StartupError(f"--trace-index {settings.trace_index}: {error}") from None
    return index


@dataclass
class ServerState:
    settings: ServerSettings
    detectors: dict[str, SupportsDetection]
    pool: ScoringPool
    infos: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Opened once per worker process; read-only, so a server never changes it.
    trace_index: SourceIndex | None = None
    #: ``{"articles", "encoder"}`` of the source index, counted at start-up (for /v1/info).
    trace_index_info: dict[str, Any] | None = None

    @classmethod
    def start(cls, settings: ServerSettings, detectors: Mapping[str, SupportsDetection]) -> ServerState:
        trace_index = open_trace_index(settings)
        trace_index_info = None
        if trace_index is not None:
            trace_index_info = {"articles": len(trace_index), "encoder": trace_index.encoder.name}
        pool = ScoringPool(
            detectors,
            capacity=settings.queue_documents,
            batch_documents=settings.batch_documents,
            slice_seconds=settings.slice_seconds,
            max_text_bytes=settings.max_text_bytes,
            max_html_bytes=settings.max_html_bytes,
        ).start()
        # info() computes thresholds; do it once, not per request.
        infos = {name: detector.info() for name, detector in detectors.items()}
        return cls(
            settings=settings,
            detectors=dict(detectors),
            pool=pool,
            infos=infos,
            trace_index=trace_index,
            trace_index_info=trace_index_info,
        )

    def close(self) -> None:
        self.pool.close()  # waits for the running job, so the index is no longer in use
        if self.trace_index is not None:
            self.trace_index.close()

    @property
    def default_detector(self) -> str:
        return next(iter(self.detectors))

    def resolve_detector(self, name: str | None) -> str:
        """The loaded detector a request asks for (422 naming ``detector`` if it is not loaded)."""
        if name is None or name == DEFAULT_DETECTOR_ALIAS:
            return self.default_detector
        if name in self.detectors:
            return name
        available = ", ".join([DEFAULT_DETECTOR_ALIAS, *self.detectors])
        raise field_error(
            "detector", f"{name!r} is not loaded by this server (available: {available})", "invalid_request"
        )

    async def score(self, detector: str, fpr: float | None, documents: list[DocumentInput]) -> list[Outcome]:
        """Score on the pool; a full queue becomes 503 with ``Retry-After``."""
        with _back_pressure():
            return await self.pool.detect(detector, fpr, documents)

    async def run(self, function: Callable[[], Any], cost: int = 1) -> Any:
        """Run other CPU-bound work on the scoring thread; a full queue becomes 503 with ``Retry-After``."""
        with _back_pressure():
            return await self.pool.run(function, cost)

    async def parse(self, document: DocumentInput) -> Article:
        """The document's article, parsed on a parsing thread (422 naming its field when unusable)."""
        with _back_pressure():
            outcome = (await self.pool.parse_many([document]))[0]
        if isinstance(outcome, InputError):
            raise field_error(document.field, outcome.problem)
        if isinstance(outcome, ScoringFailure):
            raise ApiError(500, "internal_error", outcome.message)
        return outcome


@contextmanager
def _back_pressure() -> Iterator[None]:
    try:
        yield
    except QueueFull as full:
        raise ApiError(
            503,
            "queue_full",
            f"the server is busy: {full}",
            headers={"Retry-After": str(full.retry_after)},
        ) from None
    except PoolClosed:
        raise ApiError(
            503, "shutting_down", "the server is shutting down", headers={"Retry-After": "5"}
        ) from None


def server_state(request: Request) -> ServerState:
    return request.app.state.byline
