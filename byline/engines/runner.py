"""Batch scanning on one machine: the engine behind ``byline scan``.

    from byline.engines import scan
    summary = scan("wire/", "wire-results.parquet")      # resumable; see ScanSummary

(:func:`byline.engines.scan` runs :func:`scan_locally`, or the Ray engine.)

The parent process enumerates and reads inputs (so reading, decoding and
HTML extraction overlap with scoring), sorts the articles of a read-ahead
buffer by length and cuts them into batches, and hands the batches to
``workers`` scoring processes, each holding the detector once. Each finished
batch is committed to the job store in one transaction; the output file is
written from the store at the end, in input order, one row per input.

Call :func:`scan` under ``if __name__ == "__main__":`` in a script: the
workers are started with ``spawn`` and import the calling module.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from byline.engines.common import (
    ScanSummary,
    check_output_is_not_input,
    check_state_is_apart,
    default_state_path,
    finish_scan,
    scoring_settings,
)
from byline.engines.job_store import JobStore
from byline.engines.progress import ScanProgress
from byline.engines.scoring import BatchDetector, DetectorSpec, error_row
from byline.engines.sources import (
    PendingInput,
    ReadInput,
    Source,
    open_source,
)
from byline.engines.workers import Batch, InProcessPool, WorkerPool, split_batches
from byline.engines.writers import check_writable, output_format
from byline.scoring.statistics_cache import check_precision

#: Inputs enumerated (and looked up in the job store) at a time.
ENUMERATE_CHUNK = 256
#: Text held by one batch at most (characters); the language model bounds its own token batches.
MAX_BATCH_CHARS = 4_000_000
#: Articles read ahead and sorted by length before batching, per batch a worker can hold.
READ_AHEAD_BATCHES = 4
#: Error rows wait at most this long (seconds) for the next commit.
COMMIT_EVERY = 2.0


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


#: Cores per scoring worker on a CPU (see plan_workers).
CORES_PER_WORKER = 4


def plan_workers(workers: int | None, threads: int | None, device: str | None) -> tuple[int, int | None]:
    """``(workers, torch threads per worker)``.

    On a CPU the default is one worker per :data:`CORES_PER_WORKER` cores
    (at least one, at most 8), each with a share of the cores as torch
    threads. Scoring is matrix work that torch already spreads over a few
    threads, and every worker holds its own copy of the models: measured on 2
    cores (benchmarks/results/throughput.json), two one-thread workers scored
    no faster than one two-thread process and used 2.7 times the memory. On
    a GPU, one worker.
    """
    cores = available_cores()
    on_accelerator = _on_accelerator(device)
    if workers is None:
        workers = 1 if on_accelerator else max(1, min(cores // CORES_PER_WORKER, 8))
    if threads is None and not on_accelerator:
        threads = max(1, cores // max(1, workers))
    return workers, threads


def _on_accelerator(device: str | None) -> bool:
    """Whether the detector will run on a GPU (the parent imports torch only if one may exist)."""
    if device:
        return not str(device).startswith("cpu")
    if not (os.path.exists("/proc/driver/nvidia/version") or sys.platform == "darwin"):
        return False
    from byline.scoring.devices import default_device

    return default_device() != "cpu"


def _chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _Collector:
    """Stages error rows and enumerated inputs, and commits them with finished batches."""

    def __init__(self, store: JobStore, progress: ScanProgress) -> None:
        self.store = store
        self.progress = progress
        self.rows: list[tuple[str, str, dict[str, Any]]] = []
        self.inputs: list[tuple[int, str]] = []
        self.last_commit = time.monotonic()

    def add_error(self, item: ReadInput, message: str) -> None:
        self.rows.append((item.key, item.fingerprint, error_row(item, message)))

    def commit(self, finished: Iterable[tuple[Batch, list[dict[str, Any]]]] = ()) -> None:
        rows = list(self.rows)
        for batch, batch_rows in finished:
            rows.extend(
                (item.key, item.fingerprint, row) for item, row in zip(batch.items, batch_rows, strict=True)
            )
        if not rows and not self.inputs:
            return
        self.store.commit(rows, self.inputs)
        self.rows, self.inputs = [], []
        self.last_commit = time.monotonic()
        self.progress.advance(len(rows))

    def due(self) -> bool:
        # Also when a resumed scan skips many finished inputs: their keys are staged too.
        waited = time.monotonic() - self.last_commit > COMMIT_EVERY
        return (bool(self.rows) and waited) or len(self.inputs) >= 10 * ENUMERATE_CHUNK


def run_batches(
    source: Iterable[PendingInput],
    store: JobStore,
    pool: WorkerPool | InProcessPool,
    progress: ScanProgress,
    *,
    batch_size: int,
    read_ahead: int,
) -> None:
    """Score every input of ``source`` not yet finished in ``store``, committing per batch."""
    collector = _Collector(store, progress)
    seen: set[str] = set()
    ordinal = 0
    buffer: list[ReadInput] = []
    buffer_chars = 0
    batch_number = 0

    def dispatch(items: list[ReadInput]) -> None:
        nonlocal batch_number
        for chunk in split_batches(items, batch_size, MAX_BATCH_CHARS):
            while pool.in_flight >= pool.capacity:
                collector.commit(pool.collect(timeout=0.5))
            pool.submit(Batch(batch_number, chunk))
            batch_number += 1
        collector.commit(pool.collect(timeout=0.0))

    for entries in _chunks(source, ENUMERATE_CHUNK):
        fresh: list[PendingInput] = []
        duplicates: list[tuple[PendingInput, str]] = []
        for entry in entries:
            ordinal += 1
            if entry.id in seen:
                # A repeated id gets a key of its own and an error row: one row per input.
                entry.key = f"{entry.id}\x1f{ordinal}"
                duplicates.append((entry, entry.duplicate_error()))
            else:
                seen.add(entry.id)
                fresh.append(entry)
            collector.inputs.append((ordinal, entry.key))
        done = store.finished([(e.key, e.fingerprint) for e in entries])
        progress.skipped(len(done))
        for entry, message in duplicates:
            if entry.key not in done:
                collector.add_error(entry.failed(message), message)
        for entry in fresh:
            if entry.key in done:
                continue
            item = entry.read()
            if item.error is not None:
                collector.add_error(item, item.error)
                continue
            buffer.append(item)
            buffer_chars += len(item.article.text)  # type: ignore[union-attr]
        if len(buffer) >= read_ahead or buffer_chars >= MAX_BATCH_CHARS * 2:
            dispatch(buffer)
            buffer, buffer_chars = [], 0
        elif collector.due():
            collector.commit(pool.collect(timeout=0.0))
    if buffer:
        dispatch(buffer)
    while pool.in_flight:
        collector.commit(pool.collect(timeout=0.5))
    collector.commit()


def prepare_scan(
    input: str | Path,
    output: str | Path,
    *,
    text_field: str,
    id_field: str | None,
    encoding: str | None,
    spec: DetectorSpec,
    state: str | Path | None,
    restart: bool,
) -> tuple[Source, JobStore]:
    """Open the input and the job store; refuse bad settings before any scoring."""
    output_format(output)
    check_output_is_not_input(input, output)
    check_writable(output)
    source = open_source(str(input), text_field=text_field, id_field=id_field, encoding=encoding)
    settings = {**source.describe(), **scoring_settings(spec)}
    state = state or default_state_path(output)
    check_state_is_apart(input, output, state)
    store = JobStore(state, settings, restart=restart)
    return source, store


def scan_locally(
    input: str | Path,
    output: str | Path,
    *,
    text_field: str = "text",
    id_field: str | None = None,
    encoding: str | None = None,
    detector: str | None = None,
    fpr: float = 0.01,
    model: str | None = None,
    device: str | None = None,
    precision: str = "auto",
    any_language: bool = False,
    state: str | Path | None = None,
    restart: bool = False,
    workers: int | None = None,
    threads: int | None = None,
    batch_size: int = 16,
    batch_tokens: int | None = None,
    quiet: bool = True,
    scorer: BatchDetector | None = None,
) -> ScanSummary:
    """Score every input of ``input`` and write one row per input to ``output``.

    ``input``: a folder, a JSONL/CSV/Parquet file or ``-``; ``output``: a
    ``.jsonl``, ``.csv`` or ``.parquet`` path. Re-running the same call after
    an interruption resumes from ``state`` (default: next to the output).
    ``workers=0`` scores in this process; ``scorer`` replaces the detector
    (an object with ``detect_many``, scored in this process). ``any_language`` scores texts in languages the detector was not trained on
    (see :class:`~byline.detector.Detector`).

    Raises :class:`~byline.errors.BylineError` when the scan cannot run;
    ``KeyboardInterrupt`` passes through after committed rows are saved.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    check_precision(precision)
    started = time.monotonic()
    workers, threads = plan_workers(workers, threads, device)
    spec = DetectorSpec(detector, fpr, model, device, batch_tokens, threads, precision, any_language)
    source, store = prepare_scan(
        input,
        output,
        text_field=text_field,
        id_field=id_field,
        encoding=encoding,
        spec=spec,
        state=state,
        restart=restart,
    )
    pool: WorkerPool | InProcessPool | None = None
    progress: ScanProgress | None = None
    try:
        progress = ScanProgress.for_source(source, quiet=quiet)
        if scorer is not None:
            pool = InProcessPool(detector=scorer)
        elif workers == 0:
            pool = InProcessPool(load=spec.load)
        else:
            pool = WorkerPool(spec.load, workers)
        read_ahead = max(64, pool.capacity * batch_size * READ_AHEAD_BATCHES)
        try:
            run_batches(source, store, pool, progress, batch_size=batch_size, read_ahead=read_ahead)
        except BaseException:
            pool.terminate()
            raise
        pool.close()
        progress.close()
        rows = finish_scan(store, output)
        return ScanSummary(
            output=Path(output),
            state=store.path,
            total=rows.total,
            scored=rows.scored,
            failed=rows.failed,
            resumed=progress.resumed,
            seconds=time.monotonic() - started,
            verdicts=rows.verdicts,
        )
    finally:
        if progress is not None:
            progress.close()
        store.close()


__all__ = ["scan_locally"]
