"""``byline scan``: score a folder or a data file, one output row per input, resumable."""

from __future__ import annotations

import signal
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from byline.errors import BylineError
from byline.interfaces.console import _quiet_libraries, fail, require_extra, warn, warn_slow_precision
from byline.interfaces.options import (
    AnyLanguageOption,
    DetectorOption,
    DeviceOption,
    FprOption,
    Precision,
    PrecisionOption,
    encoding_option,
    model_option,
)
from byline.interfaces.report import VERDICT_PHRASES
from byline.wording import counted, printable


class Engine(str, Enum):
    local = "local"
    ray = "ray"


def _terminate_like_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return (
        f"{hours}h{minutes:02d}m{seconds:02d}s"
        if hours
        else (f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s")
    )


def scan_command(
    input: Annotated[
        str,
        typer.Argument(
            help="A folder (recursive: .txt, .md, .html), a .jsonl, .csv, .tsv or .parquet file, or - for JSONL on standard input.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Output file; the format follows the extension: .jsonl, .csv or .parquet.",
            show_default=False,
        ),
    ],
    text_field: Annotated[
        str, typer.Option("--text-field", help="Field (JSONL) or column (CSV, Parquet) holding the text.")
    ] = "text",
    id_field: Annotated[
        Optional[str],
        typer.Option(
            "--id-field",
            help="Field or column holding each record's id (default: the line or row number; for folders, the relative path).",
        ),
    ] = None,
    state: Annotated[
        Optional[Path],
        typer.Option(
            "--state",
            help="Job store (SQLite) of finished inputs, for resuming (default: OUTPUT.scan-state.sqlite).",
        ),
    ] = None,
    restart: Annotated[
        bool,
        typer.Option("--restart", help="Discard the job store's finished inputs and score everything again."),
    ] = False,
    workers: Annotated[
        Optional[int],
        typer.Option(
            "--workers",
            help="Scoring processes (Ray: actors). Default: one per 4 CPU cores (at least 1, at most 8), or 1 on a GPU; 0 scores in this process.",
            min=0,
        ),
    ] = None,
    threads: Annotated[
        Optional[int],
        typer.Option("--threads", help="torch threads per worker (default: cores / workers).", min=1),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Articles per batch (sorted by length first).", min=1)
    ] = 16,
    batch_tokens: Annotated[
        Optional[int],
        typer.Option(
            "--batch-tokens",
            help="Most tokens in one language-model forward pass, which bounds a batch's memory (default: 4096).",
            min=64,
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="local: this machine; ray: a Ray cluster (RAY_ADDRESS or --ray-address; a local one if neither).",
        ),
    ] = Engine.local,
    ray_address: Annotated[
        Optional[str],
        typer.Option(
            "--ray-address",
            help="Ray cluster to join: auto (on a cluster node) or ray://head:10001 (default: $RAY_ADDRESS, else a local Ray).",
        ),
    ] = None,
    fpr: FprOption = 0.01,
    detector: DetectorOption = None,
    model: Annotated[
        Optional[str], model_option("Language model to score with instead of the detector's.")
    ] = None,
    encoding: Annotated[Optional[str], encoding_option("article files")] = None,
    device: DeviceOption = None,
    precision: PrecisionOption = Precision.auto,
    any_language: AnyLanguageOption = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary line.")
    ] = False,
) -> None:
    """Score every article of a folder or data file; one row per input, resumable.

    Rows hold id, path, ai_probability, verdict, threshold, n_tokens,
    n_scored_tokens, n_words, ai_share, title and error (null, or what was
    wrong with that input). Finished inputs are recorded in a job store; run
    the same command again after an interruption to resume. Exit code: 0 all
    inputs scored, 1 some inputs have error rows, 2 the scan could not run,
    130 interrupted.
    """
    if engine.value == "ray":
        require_extra("cluster")
    from byline.engines import scan

    _quiet_libraries()
    stderr = Console(stderr=True)
    _warn_uncalibrated(detector, model)
    if engine.value == "local":  # Ray workers may run on other machines' CPUs
        warn_slow_precision(precision.value, device)
    previous = signal.signal(signal.SIGTERM, _terminate_like_interrupt)
    try:
        summary = scan(
            input,
            out,
            text_field=text_field,
            id_field=id_field,
            encoding=encoding,
            detector=detector,
            fpr=fpr,
            model=model,
            device=device,
            precision=precision.value,
            any_language=any_language,
            state=state,
            restart=restart,
            workers=workers,
            threads=threads,
            batch_size=batch_size,
            batch_tokens=batch_tokens,
            quiet=quiet,
            engine=engine.value,
            ray_address=ray_address,
        )
    except BylineError as error:
        fail(str(error))
    except KeyboardInterrupt:
        from byline.engines.common import default_state_path

        where = state or default_state_path(out)
        stderr.print(
            f"[yellow]byline: interrupted.[/] Finished inputs are saved in {escape(printable(str(where)))}; "
            "run the same command again to resume.",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not quiet:
        rate = (summary.total - summary.resumed) / summary.seconds if summary.seconds > 0 else 0.0
        resumed = f", {summary.resumed:,} finished before" if summary.resumed else ""
        errors = f"[bold red]{counted(summary.failed, 'error')}[/]" if summary.failed else "0 errors"
        verdicts = _verdict_counts(summary.verdicts)
        stderr.print(
            f"byline: scanned {counted(summary.total, 'input')} in {_duration(summary.seconds)} "
            f"({rate:,.2f}/s{resumed}): {summary.scored:,} scored{verdicts}, {errors} -> {escape(printable(str(summary.output)))}",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(summary.exit_code)


def _verdict_counts(verdicts: dict[str, int]) -> str:
    """The scored rows by verdict for the summary line, as in " (3 machine-written, 1 human-written)"."""
    order = list(VERDICT_PHRASES) + sorted(set(verdicts) - set(VERDICT_PHRASES))
    parts = [f"{verdicts[v]:,} {VERDICT_PHRASES.get(v, v)}" for v in order if verdicts.get(v)]
    return f" ({', '.join(parts)})" if parts else ""


def _warn_uncalibrated(detector: str | None, model: str | None) -> None:
    if not model:
        return
    from byline.decision.trained_detector import TrainedDetector

    try:
        trained = TrainedDetector.load(detector)
    except BylineError:
        return  # reported when the scan starts
    if model != trained.language_models[0]:
        warn(
            f"detector {trained.name!r} was trained on {trained.language_models[0]} "
            f"statistics; with {model} its probabilities are not calibrated (train one with `byline train --model`)"
        )
