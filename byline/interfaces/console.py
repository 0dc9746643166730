"""What every ``byline`` command shares on the console: error and warning lines on standard
error, quiet libraries, reading the inputs, loading the detector and printing each result.

The subcommand modules import these helpers from here; :mod:`byline.interfaces.cli` imports
the subcommands. Nothing here imports a command module.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from byline.errors import BylineError, BylineWarning
from byline.extras import missing_extra
from byline.wording import printable

if TYPE_CHECKING:
    from byline.scoring.statistics_cache import StatisticsCache

stderr = Console(stderr=True)


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
    precision: str = "auto",
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
                detector,
                fpr=fpr,
                model=model,
                device=device,
                precision=precision,
                any_language=any_language,
                statistics_cache=statistics_cache,
            )
        show_warnings(caught)
        return loaded
    except BylineError as error:
        fail(str(error))
    except ValueError as error:
        fail(str(error))


def require_extra(extra: str) -> None:
    """Fail (exit code 2, one line) when the optional dependencies of ``extra`` are not installed,
    naming the ``pip install`` that adds them."""
    if problem := missing_extra(extra):
        fail(problem)
