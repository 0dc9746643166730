"""The ``byline`` command line: every subcommand, registered on one typer app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from byline.engines.paths import cannot_write
from byline.errors import BylineError, InputError
from byline.extras import missing_extra
from byline.interfaces import tracing_cli
from byline.interfaces.console import (
    _quiet_libraries,
    fail,
    load_detector,
    print_each,
    read_inputs,
    stderr,
    warn,
    warn_slow_precision,
)
from byline.interfaces.options import (
    AnyLanguageOption,
    DetectorOption,
    DeviceOption,
    EncodingOption,
    FprOption,
    JsonOption,
    ModelOption,
    Precision,
    PrecisionOption,
    model_option,
    precision_option,
)
from byline.interfaces.scan_command import scan_command
from byline.interfaces.server.command import serve
from byline.wording import counted

app = typer.Typer(
    name="byline",
    help="Tell whether a news article was written by a person or a language model, and show why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="List and prepare the scoring language models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@app.command()
def check(
    inputs: Annotated[
        list[str], typer.Argument(help="Files (.txt, .md, .html), http(s) URLs, or - for standard input.")
    ],
    as_json: JsonOption = False,
    fpr: FprOption = 0.01,
    detector: DetectorOption = None,
    model: ModelOption = None,
    encoding: EncodingOption = None,
    device: DeviceOption = None,
    precision: PrecisionOption = Precision.auto,
    any_language: AnyLanguageOption = False,
) -> None:
    """Score articles and print the verdict with its evidence."""
    articles = read_inputs(inputs, encoding)
    loaded = load_detector(detector, fpr, model, device, precision.value, any_language)
    from byline.interfaces.report import render

    print_each(articles, loaded.detect, as_json, render)


@models_app.command("list")
def models_list() -> None:
    """Show the packaged language models and whether they are prepared."""
    from byline.scoring.model_files import PACKAGED_MODELS, is_prepared

    for name, model in PACKAGED_MODELS.items():
        prepared = is_prepared(model)
        typer.echo(f"{name:14} {'prepared' if prepared else 'not prepared':13} {model.description}")


@models_app.command("prepare")
def models_prepare(
    names: Annotated[
        Optional[list[str]], typer.Argument(help="Models to prepare (default: all packaged).")
    ] = None,
) -> None:
    """Convert the packaged GGUF weights once, so that later starts are fast (and work offline)."""
    _quiet_libraries()
    from byline.scoring.model_files import PACKAGED_MODELS, prepare_packaged_model

    for name in names or list(PACKAGED_MODELS):
        if name not in PACKAGED_MODELS:
            fail(f"{name}: not a packaged model (choose from {', '.join(PACKAGED_MODELS)})")
        try:
            path = prepare_packaged_model(PACKAGED_MODELS[name])
        except BylineError as error:
            fail(str(error))
        typer.echo(f"{name}: ready in {path}")


@app.command()
def train(
    data: Annotated[
        Path,
        typer.Argument(
            help="JSONL, CSV or Parquet file of labelled articles: 'text', 'label' (human/ai), optional 'group' and 'generator'."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the detector to.")],
    model: Annotated[
        Optional[list[str]],
        model_option("Scoring language model(s); repeat for several (default: smollm2-135m)."),
    ] = None,
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", help="Tokens scored per article (the window budget).")
    ] = 512,
    name: Annotated[
        Optional[str],
        typer.Option("--name", help="Name recorded in the detector (default: the output folder's name)."),
    ] = None,
    device: DeviceOption = None,
    precision: Annotated[
        Precision,
        precision_option(
            help="Precision of the language models while training: auto (bfloat16 on a CPU with AMX matrix units, where it is faster; float32 elsewhere), float32 or bfloat16; the detector then works in either precision."
        ),
    ] = Precision.auto,
) -> None:
    """Fit a detector on your own labelled articles; use it with `byline check --detector DIR`."""
    _quiet_libraries()
    from byline.decision.training import (
        LABELS,
        MIN_WORDS,
        check_records,
        check_trainable,
        train_detector,
        vocabulary_subsets,
    )
    from byline.input import scoring_text, word_count
    from byline.scoring.devices import resolve_precision
    from byline.scoring.model_files import cache_dir
    from byline.scoring.statistics_cache import StatisticsCache

    records, positions = read_labelled_records(data)
    try:
        articles = check_records(records, positions)
    except BylineError as error:
        fail(f"{data}: {error}")
    if problem := cannot_write(out, directory=True):
        fail(f"{out}: {problem}")
    models = model or ["smollm2-135m"]
    warn_slow_precision(precision.value, device)
    try:
        statistics_dtype = resolve_precision(precision.value, device)
    except BylineError as error:
        fail(str(error))
    cache = StatisticsCache(cache_dir() / "statistics.sqlite")
    from rich.progress import Progress

    with Progress(console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
        tasks: dict[str, int] = {}

        def report(model_name: str, done: int, total: int) -> None:
            if model_name not in tasks:
                tasks[model_name] = progress.add_task(f"scoring with {model_name}", total=total)
            progress.update(tasks[model_name], completed=done)

        try:
            # before the language models run: records too short to train on are left out
            check_trainable(
                [LABELS[r["label"]] for r, a in zip(records, articles) if word_count(a.text) >= MIN_WORDS],
                MIN_WORDS,
            )
        except BylineError as error:
            fail(f"{data}: {error}")
        try:
            texts = [scoring_text(a.text) for a in articles]
            vocabularies = vocabulary_subsets(models, texts)
            trained = train_detector(
                records,
                models,
                cache,
                name=name or out.name,
                max_scored_tokens=max_tokens,
                vocabularies=vocabularies,
                device=device,
                statistics_dtype=statistics_dtype,
                progress=report,
                metadata={"training_data": str(data), "training_statistics_dtype": statistics_dtype},
            )
        except InputError as error:
            fail(f"{data}: {error}")
        except BylineError as error:
            fail(str(error))
    path = trained.save(out)
    typer.echo(
        f"detector written to {path} ({trained.metadata['n_articles']} articles; {trained.metadata['n_ai']} ai)"
    )


@app.command("eval")
def evaluate(
    data: Annotated[
        Path,
        typer.Argument(
            help="JSONL, CSV or Parquet file of labelled articles ('text', 'label'; optional 'generator', 'source', 'task', 'origin')."
        ),
    ],
    detector: DetectorOption = None,
    fpr: FprOption = 0.01,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for report.json, roc.png and reliability.png (the plots need the 'plots' extra).",
        ),
    ] = Path("byline-eval"),
    precision: PrecisionOption = Precision.auto,
    any_language: AnyLanguageOption = False,
) -> None:
    """Measure a detector on labelled articles: AUROC, TPR at 1%/5% FPR, calibration, per group; ROC and reliability plots."""
    from rich.progress import Progress

    from byline.decision.training import check_records
    from byline.interfaces.evaluate import print_report, score_records, write_outputs

    records, positions = read_labelled_records(data)
    try:
        check_records(records, positions, min_per_label=1)
    except BylineError as error:
        fail(f"{data}: {error}")
    if problem := cannot_write(out, directory=True):
        fail(f"{out}: {problem}")
    from byline.scoring.model_files import cache_dir
    from byline.scoring.statistics_cache import StatisticsCache

    # Token statistics are cached as `byline train` caches them: an interrupted evaluation picks
    # up where it stopped, and evaluating another detector with the same models costs little.
    statistics_cache = StatisticsCache(cache_dir() / "statistics.sqlite")
    loaded = load_detector(
        detector, fpr, precision=precision.value, any_language=any_language, statistics_cache=statistics_cache
    )
    with Progress(console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
        task = progress.add_task("scoring", total=len(records))
        evaluation = score_records(loaded, records, lambda done: progress.update(task, completed=done))
    report = {
        "detector": loaded.trained.name,
        "precision": loaded.precision,
        "data": str(data),
        "n_records": len(records),
        "n_too_short": evaluation.no_verdict.get("too_short", 0),
        "n_not_prose": evaluation.no_verdict.get("not_prose", 0),
        "n_unsupported_language": evaluation.no_verdict.get("unsupported_language", 0),
        **evaluation.report(),
    }
    console = Console()
    # records without a verdict are left out of every figure: say how many
    counts = (
        f"{counted(len(records), 'record')}: {len(evaluation.labels)} scored, {report['n_too_short']} too short "
        f"(under {loaded.trained.min_words} words), {report['n_not_prose']} not prose (repetitive, or numbers), "
        f"{report['n_unsupported_language']} in a language "
        "the detector was not trained on"
    )
    scored_ai = int(evaluation.labels.sum())
    if not scored_ai or scored_ai == len(evaluation.labels):
        fail(
            f"{data}: the figures need both human and ai records with a verdict, got {len(evaluation.labels) - scored_ai} "
            f"human and {scored_ai} ai ({counts})"
        )
    console.print(counts, highlight=False)
    print_report(console, report)
    plots_missing = missing_extra("plots")
    for path in write_outputs(evaluation, report, out, loaded.trained.name, plots=plots_missing is None):
        console.print(f"written {path}")
    if plots_missing:
        warn(f"no plots written: {plots_missing}")


def read_labelled_records(path: Path) -> tuple[list[dict], list[str]]:
    """Read a JSONL, CSV or Parquet file (or a folder of Parquet files) of labelled records, as
    `byline scan` and `byline index` read theirs (:mod:`byline.input.records`), and each one's
    position (``"line 7"``, ``"row 3"``).

    Fails (exit code 2) naming every malformed line or row at once, so a file is fixed in one
    pass. Blank lines are skipped.
    """
    from byline.decision.training import listed
    from byline.input.reading import binary_problem, check_regular_path
    from byline.input.records import read_records, record_format, require_columns

    try:
        check_regular_path(path, str(path))
    except InputError as error:
        fail(str(error))
    # a file with another suffix is read as JSON Lines, as before CSV and Parquet were accepted
    format = record_format(path) or ("jsonl" if path.is_file() else None)
    if format is None:
        fail(f"{path}: is a directory, not a JSONL, CSV or Parquet file")
    try:
        if format != "parquet":
            with path.open("rb") as handle:
                if problem := binary_problem(handle.read(8192), "JSONL" if format == "jsonl" else "CSV"):
                    fail(f"{path}: {problem}")
        require_columns(path, format, ("text", "label"))
        rows = list(read_records(path, format))
    except BylineError as error:
        fail(str(error))
    except OSError as error:
        fail(f"{path}: cannot read the file ({error.strerror or error})")
    unit = "line" if format == "jsonl" else "row"
    records, positions, problems = [], [], []
    for row in rows:
        if row.problem is not None:
            problems.append(f"{unit} {row.number}: {row.problem}")
        else:
            records.append(row.record)
            positions.append(f"{unit} {row.number}")
    if problems:
        fail(f"{path}: {listed(problems)}")
    return records, positions


app.command()(serve)
app.command("scan")(scan_command)
tracing_cli.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
