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

No request may hold the scoring thread for long, so that none stalls the
others:

- a document's text is limited (``max_text_bytes``, as sent or as extracted
  from HTML), and each call of the scoring thread (a *slice*) scores at most
  ``slice_bytes`` of text (at least one document), and no more documents than
  it scores in about ``slice_seconds`` at the measured rate (at least one): on a
  CPU, where batching gains little, that is one or two; on a GPU, a full batch;
- slices are cut round-robin: when several requests wait, a slice takes one
  document from each in turn (only a request alone in the queue gets up to
  ``batch_documents`` at once), and a request with documents left goes to the
  back of the queue; so a small request waits for the slice running when it
  came and one round, never for the whole of a large batch;
- parsing (decoding, HTML extraction, normalisation) runs on a few parsing
  threads, never on the scoring thread; the queue's room is reserved before,
  so back-pressure (503) still comes first.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from byline.engines.scoring import BatchDetector
from byline.errors import InputError
from byline.input import Article, article_from_bytes, article_from_html, article_from_text
from byline.reporting.result import DetectionResult


class SupportsDetection(BatchDetector, Protocol):
    """What the server needs from a detector: a scan's, and its description (:class:`byline.detector.Detector` has both)."""

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
    """One document as the client sent it; parsed on a parsing thread.

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


@dataclass(eq=False)
class _Job:
    """One request waiting for the scoring thread: documents to score (``key`` set) or a call."""

    cost: int  # documents reserved in the queue and not yet released
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    key: tuple[str, float | None] | None = None  # (detector, fpr) for detections
    articles: list[Article] = field(default_factory=list)  # parsed documents, in order
    sizes: list[int] = field(default_factory=list)  # UTF-8 bytes of each article's text
    places: list[int] = field(default_factory=list)  # each article's position in the request
    outcomes: list[Outcome | None] = field(default_factory=list)  # one per document of the request
    taken: int = 0  # articles handed to the scoring thread so far
    scored: int = 0  # articles scored so far
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
        max_text_bytes: int | None = None,
        max_html_bytes: int | None = None,
        slice_bytes: int | None = None,
        slice_seconds: float | None = None,
        parse_threads: int = 2,
    ) -> None:
        if capacity < 1 or batch_documents < 1 or parse_threads < 1:
            raise ValueError("capacity, batch_documents and parse_threads must be at least 1")
        self.detectors = dict(detectors)
        self.capacity = capacity
        self.batch_documents = batch_documents
        self.max_text_bytes = max_text_bytes
        self.max_html_bytes = max_html_bytes
        #: Most text bytes one call of the scoring thread scores (beyond one document).
        self.slice_bytes = slice_bytes or max_text_bytes or 1_000_000
        #: About the longest one call of the scoring thread should take (None: no bound but
        #: ``batch_documents`` and ``slice_bytes``).
        self.slice_seconds = slice_seconds
        self._queue: deque[_Job] = deque()
        self._pending = 0  # documents accepted and not yet finished (parsing, queued or being scored)
        self._condition = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._parsers = ThreadPoolExecutor(max_workers=parse_threads, thread_name_prefix="byline-parsing")
        self.seconds_per_document = self.INITIAL_SECONDS_PER_DOCUMENT
        self.documents_scored = 0

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> ScoringPool:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="byline-scoring", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Stop taking work, fail what is still queued, and wait for the running slice."""
        with self._condition:
            self._closing = True
            abandoned = list(self._queue)
            self._queue.clear()
            self._condition.notify_all()
        for job in abandoned:
            _answer(job, None, PoolClosed("the server is shutting down"))
        self._parsers.shutdown(wait=False, cancel_futures=True)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- state --------------------------------------------------------------------------

    @property
    def pending_documents(self) -> int:
        return self._pending

    @property
    def queued_requests(self) -> int:
        """Requests waiting for the scoring thread (a request being scored in slices counts
        until its last slice is taken)."""
        return len(self._queue)

    def slice_documents(self) -> int:
        """Most documents the next slice may take: ``batch_documents``, or fewer when
        ``slice_seconds`` at the measured rate allows fewer (at least one)."""
        if self.slice_seconds is None:
            return self.batch_documents
        return max(1, min(self.batch_documents, int(self.slice_seconds / self.seconds_per_document)))

    def retry_after(self) -> int:
        """Seconds until a batch has likely been scored and room has been made (1-120)."""
        return max(1, min(120, math.ceil(self.batch_documents * self.seconds_per_document)))

    # -- submitting -----------------------------------------------------------------------

    def _reserve(self, cost: int) -> None:
        """Take room for ``cost`` documents, or raise QueueFull / PoolClosed at once."""
        with self._condition:
            if self._closing:
                raise PoolClosed("the server is shutting down")
            if self._pending + cost > self.capacity:
                raise QueueFull(self.retry_after(), self._pending, self.capacity)
            self._pending += cost

    def _release(self, cost: int) -> None:
        with self._condition:
            self._pending -= cost

    def _enqueue(self, job: _Job) -> None:
        """Queue a job whose room is already reserved."""
        with self._condition:
            if self._closing:
                self._pending -= job.cost
                raise PoolClosed("the server is shutting down")
            self._queue.append(job)
            self._condition.notify()

    async def _wait(self, job: _Job) -> Any:
        self._enqueue(job)
        try:
            return await job.future
        except asyncio.CancelledError:
            job.cancelled = True  # the scoring thread skips what it has not started
            raise

    async def detect(
        self, detector: str, fpr: float | None, documents: Sequence[DocumentInput]
    ) -> list[Outcome]:
        """Score documents with a loaded detector: one outcome per document, in order.

        Raises :class:`QueueFull` at once when the queue has no room for all of
        them, and :class:`KeyError` for a detector that is not loaded. The
        documents are parsed on a parsing thread, then scored in slices.
        """
        if detector not in self.detectors:
            raise KeyError(detector)
        if not documents:
            return []
        self._reserve(len(documents))
        queued = False
        try:
            parsed = await self.parse_many(documents)
            loop = asyncio.get_running_loop()
            job = _Job(cost=len(documents), loop=loop, future=loop.create_future(), key=(detector, fpr))
            job.outcomes = [None] * len(documents)
            for place, item in enumerate(parsed):
                if isinstance(item, Article):
                    job.articles.append(item)
                    job.sizes.append(_utf8_size(item.text))
                    job.places.append(place)
                else:
                    job.outcomes[place] = item
            if not job.articles:
                return job.outcomes  # type: ignore[return-value]
            # Documents that failed to parse leave the queue now.
            self._release(len(documents) - len(job.articles))
            job.cost = len(job.articles)
            queued = True
            return await self._wait(job)
        finally:
            if not queued:
                self._release(len(documents))

    async def run(self, function: Callable[[], Any], cost: int = 1) -> Any:
        """Run other CPU-bound work (e.g. another router's model) on the scoring thread.

        It shares the queue and its back-pressure with detections.
        """
        loop = asyncio.get_running_loop()
        job = _Job(cost=max(1, cost), loop=loop, future=loop.create_future(), call=function)
        self._reserve(job.cost)
        return await self._wait(job)

    # -- parsing (on the parsing threads) -------------------------------------------------

    async def parse_many(
        self, documents: Sequence[DocumentInput]
    ) -> list[Article | InputError | ScoringFailure]:
        """Parse documents on a parsing thread (never the scoring thread): for each, its
        article, the :class:`InputError` that makes it unusable, or a :class:`ScoringFailure`."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._parsers, self._parse_all, list(documents))
        except RuntimeError:
            if self._closing:  # the parsing threads have been shut down
                raise PoolClosed("the server is shutting down") from None
            raise

    def _parse_all(self, documents: list[DocumentInput]) -> list[Article | InputError | ScoringFailure]:
        parsed: list[Article | InputError | ScoringFailure] = []
        for document in documents:
            try:
                parsed.append(self.parse(document))
            except InputError as error:
                parsed.append(error)
            except Exception as error:  # noqa: BLE001 - one bad document must not sink the request
                parsed.append(ScoringFailure(f"{document.source}: could not read the document ({error})"))
        return parsed

    def parse(self, document: DocumentInput) -> Article:
        """The article in ``document`` (raises InputError when it is unusable or over a size limit:
        ``max_html_bytes`` for the page as sent, ``max_text_bytes`` for the text, as sent or as
        extracted). CPU-bound for HTML; thread-safe."""
        content = document.content
        size = len(content) if isinstance(content, bytes) else _utf8_size(content)
        limit = self.max_text_bytes if document.kind == "text" else self.max_html_bytes
        if limit is not None and size > limit:
            what = "text" if document.kind == "text" else "HTML page"
            raise InputError(
                document.source,
                f"the {what} is too large ({size:,} bytes; the limit is {limit:,} bytes)",
            )
        if document.kind == "text":
            return article_from_text(content, document.source)  # type: ignore[arg-type]
        if document.kind == "html":
            article = article_from_html(content, document.source)
        else:
            article = article_from_bytes(content, document.source, html=True)  # type: ignore[arg-type]
        extracted = _utf8_size(article.text)
        if self.max_text_bytes is not None and extracted > self.max_text_bytes:
            raise InputError(
                document.source,
                f"the text extracted from the HTML is too large ({extracted:,} bytes; "
                f"the limit is {self.max_text_bytes:,} bytes)",
            )
        return article

    # -- the scoring thread -----------------------------------------------------------

    def _take(self) -> _Job | list[tuple[_Job, list[int]]] | None:
        """The next call job, or the next slice: (job, article indices) pairs; None when closing."""
        with self._condition:
            while True:
                while not self._queue and not self._closing:
                    self._condition.wait()
                if not self._queue:
                    return None
                first = self._queue[0]
                if not first.cancelled:
                    break
                self._queue.popleft()
                untaken = first.cost - first.taken if first.key is not None else first.cost
                self._pending -= untaken
            if first.key is None:
                return self._queue.popleft()
            picks: dict[_Job, list[int]] = {}
            candidates = [job for job in self._queue if job.key == first.key and not job.cancelled]
            count = size = 0
            most = self.slice_documents()
            progress = True
            while progress and count < most:
                progress = False
                for job in candidates:  # one document from each request in turn
                    if count >= most:
                        break
                    if job.taken >= len(job.articles):
                        continue
                    article_size = job.sizes[job.taken]
                    if count and size + article_size > self.slice_bytes:
                        continue
                    picks.setdefault(job, []).append(job.taken)
                    job.taken += 1
                    count += 1
                    size += article_size
                    progress = True
                if len(picks) > 1:
                    # Several requests wait: one round only, so that none waits for the
                    # documents of another's batch; a request alone gets whole slices.
                    break
            for job in picks:
                self._queue.remove(job)
                if job.taken < len(job.articles):
                    self._queue.append(job)  # its next slice comes after the others' turns
            return list(picks.items())

    def _work(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            if isinstance(taken, _Job):
                job, value, error = self._run_call(taken)
                self._release(taken.cost)
                _answer(job, value, error)
                continue
            self._run_slice(taken)

    def _run_slice(self, picks: list[tuple[_Job, list[int]]]) -> None:
        detector_name, fpr = picks[0][0].key  # type: ignore[misc]
        articles = [job.articles[i] for job, indices in picks for i in indices]
        started = time.perf_counter()
        try:
            outcomes = self._score(self.detectors[detector_name], articles, fpr)
        except Exception as error:  # noqa: BLE001 - never let the scoring thread die
            outcomes = [_failure(article, error) for article in articles]
        elapsed = time.perf_counter() - started
        # Smoothed, so that one odd slice does not swing Retry-After.
        self.seconds_per_document = 0.7 * self.seconds_per_document + 0.3 * (elapsed / len(articles))
        self.documents_scored += len(articles)
        finished: list[_Job] = []
        position = 0
        for job, indices in picks:
            for i in indices:
                job.outcomes[job.places[i]] = outcomes[position]
                position += 1
            job.scored += len(indices)
            if job.scored == len(job.articles):
                finished.append(job)
        # Make room before answering, so that a client who sends again at once finds it.
        self._release(len(articles))
        for job in finished:
            _answer(job, job.outcomes, None)

    @staticmethod
    def _run_call(job: _Job) -> tuple[_Job, Any, BaseException | None]:
        try:
            return job, job.call(), None  # type: ignore[misc]
        except Exception as error:  # noqa: BLE001 - handed to the waiting request
            return job, None, error

    def _score(
        self, detector: SupportsDetection, articles: list[Article], fpr: float | None
    ) -> list[Outcome]:
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


def _utf8_size(text: str) -> int:
    # surrogatepass: a lone surrogate must be measured, not raise here
    return len(text.encode("utf-8", "surrogatepass"))


def _failure(article: Article, error: Exception) -> Outcome:
    if isinstance(error, InputError):
        return error
    return ScoringFailure(f"{article.source}: scoring failed ({type(error).__name__}: {error})")
