"""Scoring processes for the local engine: each loads the detector once and scores batches.

The parent reads inputs and keeps the job store; workers only turn batches of
articles into rows. Each worker has its own inbox, so the parent always knows
which batches a worker held if it dies (the out-of-memory killer, a crash in
a native library): those batches are retried one input at a time, and an
input that kills a worker again gets an error row instead of stopping the
scan. Workers ignore Ctrl-C (the parent stops them) and exit when the parent
dies, even by ``kill -9``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from byline.engines.scoring import BatchDetector, error_row, score_batch
from byline.engines.sources import ReadInput
from byline.errors import BylineError

#: Batches queued per worker beyond the one it is scoring, so it never waits for the parent.
QUEUED_PER_WORKER = 1


@dataclass
class Batch:
    number: int
    items: list[ReadInput]
    retry: bool = False  # scored alone after a worker died on it


@dataclass
class _Worker:
    process: Any
    inbox: Any
    results: Any  # the reading end of the worker's result pipe
    ready: bool = False
    held: dict[int, Batch] = field(default_factory=dict)


class WorkerError(BylineError):
    """The scoring workers could not start (e.g. the model failed to load)."""


def _watch_parent(parent: int) -> None:
    # Belt and braces with PR_SET_PDEATHSIG: also covers macOS, and a parent
    # that died before the signal was armed.
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(1.0)


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _worker_main(load: Callable[[], BatchDetector], inbox: Any, results: Any, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    try:
        detector = load()
    except BaseException as error:  # noqa: BLE001 - reported to the parent as one line
        results.send(
            ("failed", str(error) if isinstance(error, BylineError) else f"{type(error).__name__}: {error}")
        )
        return
    # Results go through a pipe, written synchronously: whatever a worker sent
    # before dying reaches the parent (a queue's feeder thread could lose it).
    results.send(("ready", None))
    while True:
        message = inbox.get()
        if message is None:
            return
        number, items = message
        results.send(("done", (number, score_batch(detector, items))))


class WorkerPool:
    """``workers`` scoring processes (``spawn``ed: safe with torch and threads)."""

    def __init__(self, load: Callable[[], BatchDetector], workers: int) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.load = load
        self.workers: list[_Worker] = []
        self.closed = False
        self._retry_number = 0  # retries get negative batch numbers of their own
        for _ in range(workers):
            self.workers.append(self._start())

    def _start(self) -> _Worker:
        inbox = self.context.Queue()
        reader, writer = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_worker_main,
            args=(self.load, inbox, writer, os.getpid()),
            name="byline-scan-worker",
            daemon=True,
        )
        process.start()
        writer.close()  # the worker holds the only writing end: EOF when it dies
        return _Worker(process, inbox, reader)

    @property
    def capacity(self) -> int:
        return len(self.workers) * (1 + QUEUED_PER_WORKER)

    @property
    def in_flight(self) -> int:
        return sum(len(w.held) for w in self.workers)

    def submit(self, batch: Batch) -> None:
        worker = min(self.workers, key=lambda w: len(w.held))
        worker.held[batch.number] = batch
        worker.inbox.put((batch.number, batch.items))

    def collect(self, timeout: float) -> list[tuple[Batch, list[dict[str, Any]]]]:
        """Finished batches (waiting up to ``timeout`` seconds for the first)."""
        waitables = [w.results for w in self.workers] + [w.process.sentinel for w in self.workers]
        wait(waitables, timeout)
        finished = []
        for worker in self.workers:
            finished.extend(self._receive(worker))
        finished.extend(self._check_deaths())
        return finished

    def wait_ready(self, timeout: float = 600.0) -> None:
        """Block until every worker has loaded the detector (or raise if one cannot)."""
        deadline = time.monotonic() + timeout
        while not all(w.ready for w in self.workers):
            if time.monotonic() > deadline:
                raise WorkerError(f"the scoring workers were not ready after {timeout:.0f} s")
            finished = self.collect(timeout=0.2)
            assert not finished, "no batch was submitted"

    def _receive(self, worker: _Worker) -> list[tuple[Batch, list[dict[str, Any]]]]:
        finished = []
        try:
            while worker.results.poll():
                kind, payload = worker.results.recv()
                if kind == "failed":
                    raise WorkerError(f"a scoring worker could not start: {payload}")
                if kind == "ready":
                    worker.ready = True
                    continue
                number, rows = payload
                batch = worker.held.pop(number, None)
                if batch is not None:
                    finished.append((batch, rows))
        except (EOFError, OSError):
            pass  # the worker died; _check_deaths deals with what it held
        return finished

    def _check_deaths(self) -> list[tuple[Batch, list[dict[str, Any]]]]:
        finished = []
        for index, worker in enumerate(self.workers):
            if worker.process.is_alive():
                continue
            finished.extend(self._receive(worker))  # anything sent just before it died
            code = worker.process.exitcode
            if not worker.ready:
                raise WorkerError(f"a scoring worker died while loading the model (exit code {code})")
            held = list(worker.held.values())  # in the order the worker takes them
            worker.results.close()
            self.workers[index] = self._start()
            if not held:
                continue
            # The worker was scoring the first batch it held; the others only waited.
            culprit, waiting = held[0], held[1:]
            if culprit.retry or len(culprit.items) == 1:
                message = f"the scoring process died (exit code {code}) while scoring this input"
                finished.append(
                    (culprit, [error_row(item, f"{_name(item)}: {message}") for item in culprit.items])
                )
            else:
                for item in culprit.items:  # find the input that kills it: one at a time
                    self._retry_number -= 1
                    self.submit(Batch(self._retry_number, [item], retry=True))
            for batch in waiting:
                self.submit(batch)
        return finished

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for worker in self.workers:
            if worker.process.is_alive():
                try:
                    worker.inbox.put(None)
                except (OSError, ValueError):
                    pass
        deadline = time.monotonic() + 5.0
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(2.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        for worker in self.workers:
            worker.inbox.cancel_join_thread()
            worker.results.close()

    def terminate(self) -> None:
        """Stop now (Ctrl-C): batches in flight are dropped, a re-run redoes them."""
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.kill()
        self.close()


def _name(item: ReadInput) -> str:
    return item.article.source if item.article is not None else (item.path or item.id)


class InProcessPool:
    """Scores in the calling process (``--workers 0``): no overlap, no extra memory."""

    def __init__(
        self, load: Callable[[], BatchDetector] | None = None, detector: BatchDetector | None = None
    ) -> None:
        self.detector = detector if detector is not None else load()  # type: ignore[misc]
        self._done: list[tuple[Batch, list[dict[str, Any]]]] = []
        self.capacity = 1

    @property
    def in_flight(self) -> int:
        return len(self._done)

    def submit(self, batch: Batch) -> None:
        self._done.append((batch, score_batch(self.detector, batch.items)))

    def collect(self, timeout: float) -> list[tuple[Batch, list[dict[str, Any]]]]:
        done, self._done = self._done, []
        return done

    def close(self) -> None:
        pass

    def terminate(self) -> None:
        pass


def split_batches(items: Sequence[ReadInput], batch_size: int, max_chars: int) -> list[list[ReadInput]]:
    """Sort articles by length (longest first) and cut them into batches.

    Similar lengths pad little in a batched forward pass; ``max_chars`` bounds
    the text one batch holds (the language model bounds its own token batches).
    """
    ordered = sorted(items, key=lambda item: len(item.article.text) if item.article else 0, reverse=True)
    batches: list[list[ReadInput]] = []
    current: list[ReadInput] = []
    chars = 0
    for item in ordered:
        size = len(item.article.text) if item.article else 0
        if current and (len(current) >= batch_size or chars + size > max_chars):
            batches.append(current)
            current, chars = [], 0
        current.append(item)
        chars += size
    if current:
        batches.append(current)
    return batches
