"""The ``byline`` command line."""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from byline.errors import BylineError, BylineWarning, InputError
from byline.interfaces.options import AnyLanguageOption, EncodingOption, Precision, PrecisionOption
from byline.interfaces.paths import cannot_write
from byline.wording import counted, printable

if TYPE_CHECKING:
    from byline.scoring.statistics_cache import StatisticsCache

app = typer.Typer(
    name="byline",
    help="Tell whether a news article was written by a person or a language model, and show why.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="List and prepare the scoring language models.", no_args_is_help=True)
app.add_typer(models_app, name="models")

stderr = Console(stderr=True)

FprOption = Annotated[
    float,
    typer.Option("--fpr", help="Target false-positive rate on human news for the verdict (0-1).", min=1e-4, max=0.5),
]
DetectorOption = Annotated[
    Optional[str],
    typer.Option("--detector", help="Directory of a detector made by `byline train` (default: the shipped one)."),
]


def print_notice(label: str, message: object) -> None:
    """``label`` (rich markup, e.g. ``[yellow]byline: warning:[/]``) and ``message`` as one line on
    standard error. The message is shown as it is, never as markup, with its control characters
    escaped: it may hold file names and ids, which can hold anything."""
    stderr.print(f"{label} {escape(printable(str(message)))}", highlight=False, soft_wrap=True)


def print_error(message: object) -> None:
    """One error line on standard error, naming the input and the problem."""
    print_notice("[bold red]byline: error:[/]", message)


def fail(message: str, code: int = 2) -> None:
    print_error(message)
    raise typer.Exit(code)


def read_inputs(sources: Sequence[str], encoding: str | None) -> list:
    """Read every input: an :class:`~byline.input.Article`, or the error that names what is
    wrong with it. Fails (exit code 2) only when no input could be read, before any model loads."""
    from byline.input import read_article

    items: list = []
    for source in sources:
        try:
            items.append(read_article(source, encoding=encoding))
        except BylineError as error:
            items.append(error)
    if all(isinstance(item, BylineError) for item in items):
        for error in items:
            print_error(error)
        raise typer.Exit(2)
    return items


def print_each(articles: Sequence, produce: Callable, as_json: bool, render: Callable) -> None:
    """Print ``produce(article)`` for every article, as JSON Lines or with ``render(result, console)``.

    An article that could not be read (an error in ``articles``) or that fails gets its error
    on standard error, in input order, and the others still print; the exit code is then 2.
    As JSON, every input gets one line on standard output: its document, or
    ``{"source": ..., "error": ...}``, so a program reading the lines can pair them with its inputs.
    """
    console = Console()
    failed = False
    for article in articles:
        try:
            if isinstance(article, BylineError):
                raise article
            result = produce(article)
        except BylineError as error:
            print_error(error)
            if as_json:
                row = {"source": getattr(error, "source", None), "error": str(error)}
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            failed = True
            continue
        if as_json:
            sys.stdout.write(result.to_json(indent=None) + "\n")
        else:
            render(result, console)
    if failed:
        raise typer.Exit(2)


class _Notices(logging.Handler):
    """Byline's own log messages (e.g. a model being prepared on first use) as `byline: ...` lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"byline: {record.getMessage()}", err=True)


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    warnings.filterwarnings("ignore", module="transformers")
    # Commands show Byline's own warnings themselves, as `byline: warning:` lines (load_detector, warn_slow_precision).
    warnings.filterwarnings("ignore", category=BylineWarning)
    notices = logging.getLogger("byline")
    if not any(isinstance(handler, _Notices) for handler in notices.handlers):
        notices.addHandler(_Notices())
        notices.setLevel(logging.INFO)


def warn(message: str) -> None:
    """One `byline: warning: ...` line on stderr."""
    print_notice("[yellow]byline: warning:[/]", message)


def show_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Byline's own warnings among ``caught``, each message once (both language models may raise one)."""
    shown: set[str] = set()
    for warning in caught:
        message = str(warning.message)
        if issubclass(warning.category, BylineWarning) and message not in shown:
            shown.add(message)
            warn(message)


def warn_slow_precision(precision: str, device: str | None) -> None:
    """Warn when the language models would run in an emulated, slow precision on ``device``."""
    from byline.scoring.devices import slow_precision_warning

    try:
        message = slow_precision_warning(precision, device)
    except BylineError:
        return  # an unusable --device is reported by the command itself
    if message:
        warn(message)


def load_detector(
    detector: str | None,
    fpr: float,
    model: str | None = None,
    device: str | None = None,
    precision: str = "float32",
    any_language: bool = False,
    statistics_cache: StatisticsCache | None = None,
):
    """Load a Detector, turning library errors into one clear line."""
    _quiet_libraries()
    from byline.detector import Detector

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = Detector(
                detector, fpr=fpr, model=model, device=device, precision=precision, any_language=any_language,
                statistics_cache=statistics_cache,
            )
        show_warnings(caught)
        return loaded
    except BylineError as error:
        fail(str(error))
    except ValueError as error:
        fail(str(error))


@app.command()
def check(
    inputs: Annotated[list[str], typer.Argument(help="Files (.txt, .md, .html), http(s) URLs, or - for standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document per input, one per line (JSON Lines), instead of a report.")] = False,
    fpr: FprOption = 0.01,
    detector: DetectorOption = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Language model to score with instead of the detector's: packaged name, local directory, .gguf file or Hugging Face id.")] = None,
    encoding: EncodingOption = None,
    device: Annotated[Optional[str], typer.Option("--device", help="torch device: cpu, cuda, cuda:1, mps (default: best available).")] = None,
    precision: PrecisionOption = Precision.float32,
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
    names: Annotated[Optional[list[str]], typer.Argument(help="Models to prepare (default: all packaged).")] = None,
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="JSONL of labelled articles: 'text', 'label' (human/ai), optional 'group' and 'generator'.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the detector to.")],
    model: Annotated[Optional[list[str]], typer.Option("--model", help="Scoring language model(s); repeat for several (default: smollm2-135m).")] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Tokens scored per article (the window budget).")] = 512,
    name: Annotated[Optional[str], typer.Option("--name", help="Name recorded in the detector (default: the output folder's name).")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="torch device for the language models.")] = None,
    precision: Annotated[Precision, typer.Option("--precision", help="Precision of the language models while training: bfloat16 is about twice as fast on a CPU with AMX matrix units; the detector then works in either precision (the shipped one was trained so).")] = Precision.float32,
) -> None:
    """Fit a detector on your own labelled articles; use it with `byline check --detector DIR`."""
    _quiet_libraries()
    from byline.decision.training import (
        DEFAULT_LEXICAL_SPECS,
        LABELS,
        MIN_WORDS,
        add_lexical_features,
        build_feature_table,
        check_records,
        check_trainable,
        fit_detector,
        vocabulary_subsets,
    )
    from byline.input import scoring_text, word_count
    from byline.scoring.model_files import cache_dir
    from byline.scoring.statistics_cache import StatisticsCache

    records, positions = read_jsonl_records(data)
    try:
        articles = check_records(records, positions)
    except BylineError as error:
        fail(f"{data}: {error}")
    if problem := cannot_write(out, directory=True):
        fail(f"{out}: {problem}")
    models = model or ["smollm2-135m"]
    warn_slow_precision(precision.value, device)
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
            check_trainable([LABELS[r["label"]] for r, a in zip(records, articles) if word_count(a.text) >= MIN_WORDS], MIN_WORDS)
        except BylineError as error:
            fail(f"{data}: {error}")
        try:
            texts = [scoring_text(a.text) for a in articles]
            vocabularies = vocabulary_subsets(models, texts)
            table = build_feature_table(
                records, models, cache, max_scored_tokens=max_tokens, vocabularies=vocabularies, device=device,
                statistics_dtype=precision.value, progress=report,
            )
        except InputError as error:
            fail(f"{data}: {error}")
        except BylineError as error:
            fail(str(error))
    lexical = add_lexical_features(table, DEFAULT_LEXICAL_SPECS, n_folds=min(5, len(set(table.groups.tolist()))))
    trained = fit_detector(
        table,
        name=name or out.name,
        language_models=models,
        window_tokens=512,
        context_tokens=64,
        max_scored_tokens=max_tokens,
        min_words=MIN_WORDS,
        lexical_classifiers=lexical,
        vocabularies=vocabularies,
        metadata={"training_data": str(data), "training_statistics_dtype": precision.value},
    )
    path = trained.save(out)
    typer.echo(f"detector written to {path} ({len(table.y)} articles; {int(table.y.sum())} ai)")


@app.command("eval")
def evaluate(
    data: Annotated[Path, typer.Argument(help="JSONL of labelled articles ('text', 'label'; optional 'generator', 'source', 'task', 'origin').")],
    detector: DetectorOption = None,
    fpr: FprOption = 0.01,
    out: Annotated[Path, typer.Option("--out", help="Folder for report.json, roc.png and reliability.png.")] = Path("byline-eval"),
    precision: PrecisionOption = Precision.float32,
    any_language: AnyLanguageOption = False,
) -> None:
    """Measure a detector on labelled articles: AUROC, TPR at 1%/5% FPR, calibration, per group; ROC and reliability plots."""
    from rich.progress import Progress

    from byline.decision.training import check_records
    from byline.interfaces.evaluate import print_report, score_records, write_outputs

    records, positions = read_jsonl_records(data)
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
    loaded = load_detector(detector, fpr, precision=precision.value, any_language=any_language,
                           statistics_cache=statistics_cache)
    with Progress(console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
        task = progress.add_task("scoring", total=len(records))
        evaluation = score_records(loaded, records, lambda done: progress.update(task, completed=done))
    report = {"detector": loaded.trained.name, "precision": loaded.precision, "data": str(data), "n_records": len(records),
              "n_too_short": evaluation.no_verdict.get("too_short", 0),
              "n_unsupported_language": evaluation.no_verdict.get("unsupported_language", 0), **evaluation.report()}
    console = Console()
    # records without a verdict are left out of every figure: say how many
    counts = (
        f"{counted(len(records), 'record')}: {len(evaluation.labels)} scored, {report['n_too_short']} too short "
        f"(under {loaded.trained.min_words} words), {report['n_unsupported_language']} in a language "
        "the detector was not trained on"
    )
    scored_ai = int(evaluation.labels.sum())
    if not scored_ai or scored_ai == len(evaluation.labels):
        fail(f"{data}: the figures need both human and ai records with a verdict, got {len(evaluation.labels) - scored_ai} "
             f"human and {scored_ai} ai ({counts})")
    console.print(counts, highlight=False)
    print_report(console, report)
    for path in write_outputs(evaluation, report, out, loaded.trained.name):
        console.print(f"written {path}")


def read_jsonl_records(path: Path) -> tuple[list[dict], list[str]]:
    """Read a JSONL file of labelled records and each one's position (``"line 7"``).

    Fails (exit code 2) naming every malformed line at once, so a file is fixed in one pass.
    Blank lines are skipped.
    """
    from byline.decision.training import listed
    from byline.input.reading import binary_problem, not_regular_file
    from byline.input.records import json_lines

    if path.is_dir():
        fail(f"{path}: is a directory, not a JSONL file")
    if not path.exists():
        fail(f"{path}: no such file")
    if problem := not_regular_file(path.stat().st_mode):
        fail(f"{path}: {problem}")
    records, positions, problems = [], [], []
    with path.open("rb") as handle:
        if problem := binary_problem(handle.read(8192), "JSONL"):
            fail(f"{path}: {problem}")
        handle.seek(0)
        for line in json_lines(handle):
            if line.record is None:
                problems.append(f"line {line.number}: {line.problem}")
            else:
                records.append(line.record)
                positions.append(f"line {line.number}")
    if problems:
        fail(f"{path}: {listed(problems)}")
    return records, positions


from byline.interfaces.server.command import serve  # noqa: E402 - `byline serve` (byline/interfaces/server/)

app.command()(serve)

from byline.interfaces.batch.command import scan_command  # noqa: E402 - registered last to keep merges small

app.command("scan")(scan_command)

from byline.interfaces import tracing_cli  # noqa: E402  (after the helpers it uses are defined)

tracing_cli.register(app)
