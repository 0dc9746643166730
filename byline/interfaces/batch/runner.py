"""Batch scanning on one machine: the engine behind ``byline scan``.

    from byline.interfaces.batch import scan
    summary = scan("wire/", "wire-results.parquet")      # resumable; see ScanSummary

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

import hashlib
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from byline.errors import BylineError, InputError, ModelError
from byline.interfaces.batch.job_store import JobStore, StateError
from byline.interfaces.batch.progress import ScanProgress
from byline.interfaces.batch.scoring import BatchDetector, DetectorSpec, error_row
from byline.interfaces.batch.sources import (
    PARQUET_SUFFIXES,
    PendingInput,
    ReadInput,
    Source,
    is_parquet_folder,
    open_source,
)
from byline.interfaces.batch.workers import Batch, InProcessPool, WorkerPool, split_batches
from byline.interfaces.batch.writers import check_writable, output_format, write_rows
from byline.scoring.statistics_cache import check_precision

STATE_SUFFIX = ".scan-state.sqlite"
#: Inputs enumerated (and looked up in the job store) at a time.
ENUMERATE_CHUNK = 256
#: Text held by one batch at most (characters); the language model bounds its own token batches.
MAX_BATCH_CHARS = 4_000_000
#: Articles read ahead and sorted by length before batching, per batch a worker can hold.
READ_AHEAD_BATCHES = 4
#: Error rows wait at most this long (seconds) for the next commit.
COMMIT_EVERY = 2.0


@dataclass
class ScanSummary:
    """What a scan did: ``total`` inputs (= output rows), ``scored`` of them, ``failed``
    (error rows), ``resumed`` (finished by an earlier run, not scored again)."""

    output: Path
    state: Path
    total: int
    scored: int
    failed: int
    resumed: int
    seconds: float
    engine: str = "local"
    #: rows per verdict (``ai``, ``human``, ``too_short``, ...), errors not included
    verdicts: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0: every input scored; 1: some inputs have error rows (see :data:`EXIT_CODES`)."""
        return 1 if self.failed else 0


#: Exit codes of ``byline scan``.
EXIT_CODES = {
    0: "every input has a result row",
    1: "the output is complete, but some inputs have error rows (see the 'error' column)",
    2: "the scan could not run (bad arguments, unreadable input, model or state file problem)",
    130: "interrupted (Ctrl-C or SIGTERM); committed rows are kept, run the same command to resume",
}


def default_state_path(output: str | Path) -> Path:
    return Path(f"{output}{STATE_SUFFIX}")


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


def detector_identity(detector: str | None) -> dict[str, Any]:
    """Which trained detector a scan uses, with a checksum: results of a retrained
    detector are never mixed with an older one's on resume."""
    from byline.decision.trained_detector import DEFAULT_DETECTOR, DETECTOR_FILE

    location = DEFAULT_DETECTOR if detector in (None, "default") else Path(str(detector))
    file = location / DETECTOR_FILE if location.is_dir() else location
    if not file.is_file():
        raise ModelError(f"{detector}: no trained detector here (expected {DETECTOR_FILE})")
    return {"detector": str(file.resolve()), "detector_sha256": hashlib.sha256(file.read_bytes()).hexdigest()[:16]}


def scoring_settings(spec: DetectorSpec) -> dict[str, Any]:
    """What a scan's scores depend on besides its input; a job store refuses to resume with others."""
    return {
        **detector_identity(spec.detector),
        "model": spec.model,
        "fpr": spec.fpr,
        # only when not the default, so job stores written before the option still resume
        **({"precision": spec.precision} if spec.precision != "float32" else {}),
        **({"any_language": True} if spec.any_language else {}),
    }


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
            rows.extend((item.key, item.fingerprint, row) for item, row in zip(batch.items, batch_rows, strict=True))
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


def check_output_is_not_input(input: str | Path, output: str | Path) -> None:
    """Refuse an output that would overwrite the input or be read back as part of it."""
    if str(input) == "-" or "://" in str(input):
        return
    source, target = Path(input).resolve(), Path(output).resolve()
    if target == source:
        raise InputError(str(output), "is the input itself; choose another output file")
    if source.is_dir() and source in target.parents and target.suffix.lower() in PARQUET_SUFFIXES and is_parquet_folder(source):
        raise InputError(str(output), f"is inside the Parquet folder {input} being scanned; write it elsewhere")


def check_state_is_apart(input: str | Path, output: str | Path, state: str | Path) -> None:
    """Refuse a state file that is the input or the output: --restart replaces the state file unread."""
    target = Path(state).resolve()
    for what, other in (("the output", output), ("the input", input)):
        if str(other) != "-" and "://" not in str(other) and Path(other).resolve() == target:
            raise StateError(f"{state}: is {what}; the scan state needs a file of its own (--state)")


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


@dataclass
class RowCounts:
    """The rows of a finished scan: ``total``, ``scored``, ``failed`` (error rows), and the
    scored ones per verdict."""

    total: int
    scored: int
    failed: int
    verdicts: dict[str, int]


def finish_scan(store: JobStore, output: str | Path) -> RowCounts:
    """Write the output from the job store and count its rows."""
    total, finished, failed = store.counts()
    if finished != total:
        raise BylineError(f"{store.path}: {total - finished} inputs have no row; run the scan again to finish them")
    verdicts: Counter[str] = Counter()

    def counted(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            if row.get("verdict"):
                verdicts[row["verdict"]] += 1
            yield row

    written = write_rows(output, counted(store.rows()))
    if written != total:  # pragma: no cover - a guard, the join above already checked
        raise BylineError(f"{output}: wrote {written} rows for {total} inputs")
    return RowCounts(total=total, scored=total - failed, failed=failed, verdicts=dict(verdicts))


def scan(
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
    precision: str = "float32",
    any_language: bool = False,
    state: str | Path | None = None,
    restart: bool = False,
    workers: int | None = None,
    threads: int | None = None,
    batch_size: int = 16,
    batch_tokens: int | None = None,
    quiet: bool = True,
    engine: Literal["local", "ray"] = "local",
    ray_address: str | None = None,
    scorer: BatchDetector | None = None,
) -> ScanSummary:
    """Score every input of ``input`` and write one row per input to ``output``.

    ``input``: a folder, a JSONL/CSV/Parquet file or ``-``; ``output``: a
    ``.jsonl``, ``.csv`` or ``.parquet`` path. Re-running the same call after
    an interruption resumes from ``state`` (default: next to the output).
    ``workers=0`` scores in this process; ``scorer`` replaces the detector
    (an object with ``detect_many``, scored in this process). ``engine="ray"``
    runs the scoring on a Ray cluster (see :mod:`byline.interfaces.cluster`).
    ``any_language`` scores texts in languages the detector was not trained on
    (see :class:`~byline.detector.Detector`).

    Raises :class:`~byline.errors.BylineError` when the scan cannot run;
    ``KeyboardInterrupt`` passes through after committed rows are saved.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    check_precision(precision)
    if engine == "ray":
        from byline.interfaces.cluster.ray_engine import scan_on_ray

        return scan_on_ray(
            input, output, text_field=text_field, id_field=id_field, encoding=encoding,
            spec=DetectorSpec(detector, fpr, model, device, batch_tokens, threads, precision, any_language),
            state=state, restart=restart, actors=workers, batch_size=batch_size, quiet=quiet, address=ray_address,
        )
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r} (local or ray)")
    started = time.monotonic()
    workers, threads = plan_workers(workers, threads, device)
    spec = DetectorSpec(detector, fpr, model, device, batch_tokens, threads, precision, any_language)
    source, store = prepare_scan(
        input, output, text_field=text_field, id_field=id_field, encoding=encoding, spec=spec, state=state, restart=restart
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
            output=Path(output), state=store.path, total=rows.total, scored=rows.scored, failed=rows.failed,
            resumed=progress.resumed, seconds=time.monotonic() - started, verdicts=rows.verdicts,
        )
    finally:
        if progress is not None:
            progress.close()
        store.close()


__all__ = ["EXIT_CODES", "ScanSummary", "scan"]
