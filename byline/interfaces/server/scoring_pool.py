"""A bounded queue in front of one scoring thread, with back-pressure instead of growth.

Scoring is CPU-bound (the language model dominates) and a
:class:`~byline.detector.Detector` is not known to be thread-safe (fast
tokenizers, for one, refuse concurrent use), so each worker process scores on
exactly one thread; torch already spreads one forward pass over the cores it
is given. Requests wait in a queue that holds at most ``capacity`` documents;
a request that would overflow it is refused at once with :class:`QueueFull`
(the server turns that into 503 with ``Retry-After``), so memory and waiting
time stay bounded however many clients arrive.

Waiting requests that use the same detector and false-positive rate are
scored together in one :meth:`Detector.detect_many` call (up to
``batch_documents`` documents): the language model then runs one batched pass
instead of many small ones, which is several times faster on a CPU.

Input parsing (normalisation, HTML extraction) also runs on the scoring thread,
so that all CPU-heavy work is bounded by the same queue.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from byline.errors import InputError
from byline.input import Article, article_from_bytes, article_from_html, article_from_text
from byline.reporting.result import DetectionResult


class SupportsDetection(Protocol):
    """What the server needs from a detector (:class:`byline.detector.Detector` has it)."""

    def detect_many(
        self, texts: Sequence[str | Article], *, fpr: float | None = None, batch_size: int = 16
    ) -> list[DetectionResult]: ...

    def info(self) -> dict: ...


class QueueFull(Exception):
    """The queue cannot take the request now; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, queued: int, capacity: int) -> None:
        self.retry_after = retry_after
        self.queued = queued
        self.capacity = capacity
        super().__init__(
            f"the scoring queue is full ({queued} of {capacity} documents waiting); retry after {retry_after} s"
        )


class PoolClosed(Exception):
    """The server is shutting down and scores nothing more."""


@dataclass(frozen=True)
class DocumentInput:
    """One document as the client sent it; parsed on the scoring thread.

    ``kind``: ``text`` (a string), ``html`` (a string of HTML) or
    ``html_bytes`` (a fetched page). ``field`` names where it came from in the
    request (``text``, ``documents[3].html``) for error messages.
    """

    kind: Literal["text", "html", "html_bytes"]
    content: str | bytes
    source: str
    field: str


@dataclass
class ScoringFailure:
    """An unexpected error while scoring one document (a bug, not bad input)."""

    message: str


Outcome = DetectionResult | InputError | ScoringFailure


@dataclass
class _Job:
    cost: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    key: tuple[str, float | None] | None = None  # (detector, fpr) for detections
    documents: list[DocumentInput] = field(default_factory=list)
    call: Callable[[], Any] | None = None
    cancelled: bool = False


def _resolve(future: asyncio.Future, value: Any, error: BaseException | None) -> None:
    if future.done():  # the request was cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


def _answer(job: _Job, value: Any, error: BaseException | None) -> None:
    try:
        job.loop.call_soon_threadsafe(_resolve, job.future, value, error)
    except RuntimeError:  # the request's event loop has closed; nobody is waiting
        pass


class ScoringPool:
    """One scoring thread fed by a queue bounded in documents."""

    #: Assumed scoring time per document until the first batch has been timed.
    INITIAL_SECONDS_PER_DOCUMENT = 2.0

    def __init__(
        self,
        detectors: Mapping[str, SupportsDetection],
        *,
        capacity: int = 64,
        batch_documents: int = 16,
        max_document_bytes: int | None = None,
    ) -> None:
        if capacity < 1 or batch_documents < 1:
            raise ValueError("capacity and batch_documents must be at least 1")
        self.detectors = dict(detectors)
        self.capacity = capacity
        self.batch_documents = batch_documents
        self.max_document_bytes = max_document_bytes
        self._queue: deque[_Job] = deque()
        self._pending = 0  # documents accepted and not yet finished (queued or being scored)
        self._condition = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self.seconds_per_document = self.INITIAL_SECONDS_PER_DOCUMENT
        self.documents_scored = 0

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> ScoringPool:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="byline-scoring", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Stop taking work, fail what is still queued, and wait for the running batch."""
        with self._condition:
            self._closing = True
            abandoned = list(self._queue)
            self._queue.clear()
            self._condition.notify_all()
        for job in abandoned:
            _answer(job, None, PoolClosed("the server is shutting down"))
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- state --------------------------------------------------------------------------

    @property
    def pending_documents(self) -> int:
        return self._pending

    def retry_after(self) -> int:
        """Seconds until a batch has likely been scored and room has been made (1-120)."""
        return max(1, min(120, math.ceil(self.batch_documents * self.seconds_per_document)))

    # -- submitting -----------------------------------------------------------------------

    def _submit(self, job: _Job) -> None:
        with self._condition:
            if self._closing:
                raise PoolClosed("the server is shutting down")
            if self._pending + job.cost > self.capacity:
                raise QueueFull(self.retry_after(), self._pending, self.capacity)
            self._pending += job.cost
            self._queue.append(job)
            self._condition.notify()

    async def _wait(self, job: _Job) -> Any:
        self._submit(job)
        try:
            return await job.future
        except asyncio.CancelledError:
            job.cancelled = True  # the scoring thread skips it if it has not started
            raise

    async def detect(
        self, detector: str, fpr: float | None, documents: Sequence[DocumentInput]
    ) -> list[Outcome]:
        """Score documents with a loaded detector: one outcome per document, in order.

        Raises :class:`QueueFull` at once when the queue has no room for all of
        them, and :class:`KeyError` for a detector that is not loaded.
        """
        if detector not in self.detectors:
            raise KeyError(detector)
        if not documents:
            return []
        loop = asyncio.get_running_loop()
        job = _Job(cost=len(documents), loop=loop, future=loop.create_future(), key=(detector, fpr), documents=list(documents))
        return await self._wait(job)

    async def run(self, function: Callable[[], Any], cost: int = 1) -> Any:
        """Run other CPU-bound work (e.g. another router's model) on the scoring thread.

        It shares the queue and its back-pressure with detections.
        """
        loop = asyncio.get_running_loop()
        job = _Job(cost=max(1, cost), loop=loop, future=loop.create_future(), call=function)
        return await self._wait(job)

    # -- the scoring thread -----------------------------------------------------------

    def _take(self) -> list[_Job] | None:
        with self._condition:
            while not self._queue and not self._closing:
                self._condition.wait()
            if not self._queue:
                return None
            first = self._queue.popleft()
            jobs = [first]
            if first.key is None:
                return jobs
            size = first.cost
            index = 0
            while index < len(self._queue) and size < self.batch_documents:
                job = self._queue[index]
                if job.key == first.key and size + job.cost <= self.batch_documents:
                    del self._queue[index]
                    jobs.append(job)
                    size += job.cost
                else:
                    index += 1
            return jobs

    def _work(self) -> None:
        while True:
            jobs = self._take()
            if jobs is None:
                return
            live = [job for job in jobs if not job.cancelled]
            started = time.perf_counter()
            answers: list[tuple[_Job, Any, BaseException | None]] = []
            try:
                if live and live[0].key is not None:
                    answers = self._run_detections(live)
                elif live:
                    answers = [self._run_call(live[0])]
            except Exception as error:  # noqa: BLE001 - never let the scoring thread die
                answers = [(job, None, error) for job in live]
            scored = sum(job.cost for job in live if job.key is not None)
            if scored:
                elapsed = time.perf_counter() - started
                # Smoothed, so that one odd batch does not swing Retry-After.
                self.seconds_per_document = 0.7 * self.seconds_per_document + 0.3 * (elapsed / scored)
                self.documents_scored += scored
            # Make room before answering, so that a client who sends again at once finds it.
            with self._condition:
                self._pending -= sum(job.cost for job in jobs)
            for job, value, error in answers:
                _answer(job, value, error)

    @staticmethod
    def _run_call(job: _Job) -> tuple[_Job, Any, BaseException | None]:
        try:
            return job, job.call(), None  # type: ignore[misc]
        except Exception as error:  # noqa: BLE001 - handed to the waiting request
            return job, None, error

    def parse(self, document: DocumentInput) -> Article:
        """The article in ``document`` (raises InputError when it is unusable or over the size limit).

        CPU-bound for HTML: call it on the scoring thread (inside :meth:`run`)."""
        content = document.content
        if self.max_document_bytes is not None:
            size = len(content) if isinstance(content, bytes) else len(content.encode("utf-8", "surrogatepass"))
            if size > self.max_document_bytes:
                raise InputError(
                    document.source,
                    f"the input is too large ({size:,} bytes; the limit is {self.max_document_bytes:,})",
                )
        if document.kind == "text":
            return article_from_text(content, document.source)  # type: ignore[arg-type]
        if document.kind == "html":
            return article_from_html(content, document.source)
        return article_from_bytes(content, document.source, html=True)  # type: ignore[arg-type]

    def _run_detections(self, jobs: list[_Job]) -> list[tuple[_Job, Any, BaseException | None]]:
        detector_name, fpr = jobs[0].key  # type: ignore[misc]
        detector = self.detectors[detector_name]
        outcomes: list[list[Outcome | None]] = []
        articles: list[Article] = []
        places: list[tuple[int, int]] = []
        for j, job in enumerate(jobs):
            row: list[Outcome | None] = []
            for d, document in enumerate(job.documents):
                try:
                    articles.append(self.parse(document))
                    places.append((j, d))
                    row.append(None)
                except InputError as error:
                    row.append(error)
                except Exception as error:  # noqa: BLE001 - one bad document must not sink the batch
                    row.append(ScoringFailure(f"{document.source}: could not read the document ({error})"))
            outcomes.append(row)
        for (j, d), outcome in zip(places, self._score(detector, articles, fpr)):
            outcomes[j][d] = outcome
        return [(job, row, None) for job, row in zip(jobs, outcomes)]

    def _score(self, detector: SupportsDetection, articles: list[Article], fpr: float | None) -> list[Outcome]:
        if not articles:
            return []
        try:
            return list(detector.detect_many(articles, fpr=fpr, batch_size=self.batch_documents))
        except Exception as error:  # noqa: BLE001 - retry one by one so that only the culprit fails
            if len(articles) == 1:
                return [_failure(articles[0], error)]
            return [self._score_one(detector, article, fpr) for article in articles]

    @staticmethod
    def _score_one(detector: SupportsDetection, article: Article, fpr: float | None) -> Outcome:
        try:
            return detector.detect_many([article], fpr=fpr, batch_size=1)[0]
        except Exception as error:  # noqa: BLE001 - reported as a failed document
            return _failure(article, error)


def _failure(article: Article, error: Exception) -> Outcome:
    if isinstance(error, InputError):
        return error
    return ScoringFailure(f"{article.source}: scoring failed ({type(error).__name__}: {error})")
