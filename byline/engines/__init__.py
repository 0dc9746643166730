"""Batch scanning: folders and data files, on one machine or a Ray cluster (``byline scan``).

    from byline.engines import scan
    summary = scan("wire/", "results.parquet")
    summary.total, summary.failed, summary.exit_code

Modules, in the order data passes through them: ``sources`` (enumerate and
read inputs), ``workers`` and ``scoring`` (batched scoring in worker
processes), ``job_store`` (finished inputs, for resuming), ``writers``
(.jsonl, .csv, .parquet), ``common`` (what both engines share), ``runner``
(the local engine) and ``ray_engine`` (the Ray engine). The command is
:mod:`byline.interfaces.scan_command`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from byline.engines.common import EXIT_CODES, ScanSummary
from byline.engines.scoring import BatchDetector, DetectorSpec
from byline.scoring.statistics_cache import check_precision


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
    precision: str = "auto",
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

    ``engine="local"`` runs :func:`byline.engines.runner.scan_locally` (see it for the
    arguments); ``engine="ray"`` runs the scoring on a Ray cluster
    (:func:`byline.engines.ray_engine.scan_on_ray`, ``workers`` scoring actors).

    Raises :class:`~byline.errors.BylineError` when the scan cannot run;
    ``KeyboardInterrupt`` passes through after committed rows are saved.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    check_precision(precision)
    if engine == "ray":
        from byline.engines.ray_engine import scan_on_ray

        return scan_on_ray(
            input,
            output,
            text_field=text_field,
            id_field=id_field,
            encoding=encoding,
            spec=DetectorSpec(detector, fpr, model, device, batch_tokens, threads, precision, any_language),
            state=state,
            restart=restart,
            actors=workers,
            batch_size=batch_size,
            quiet=quiet,
            address=ray_address,
        )
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r} (local or ray)")
    from byline.engines.runner import scan_locally

    return scan_locally(
        input,
        output,
        text_field=text_field,
        id_field=id_field,
        encoding=encoding,
        detector=detector,
        fpr=fpr,
        model=model,
        device=device,
        precision=precision,
        any_language=any_language,
        state=state,
        restart=restart,
        workers=workers,
        threads=threads,
        batch_size=batch_size,
        batch_tokens=batch_tokens,
        quiet=quiet,
        scorer=scorer,
    )


__all__ = ["EXIT_CODES", "ScanSummary", "scan"]
