"""``byline index`` and ``byline trace``: build a source index, and trace an article to its source."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from byline.errors import BylineError
from byline.interfaces.console import (
    _quiet_libraries,
    fail,
    load_detector,
    print_each,
    print_notice,
    read_inputs,
    require_extra,
    stderr,
)
from byline.interfaces.options import (
    DetectorOption,
    EncodingOption,
    FprOption,
    JsonOption,
    Precision,
    device_option,
    encoding_option,
    json_option,
    precision_option,
)
from byline.interfaces.report import VERDICT_PHRASES
from byline.wording import counted


def index(
    sources: Annotated[
        Path,
        typer.Argument(
            help="A directory of .txt/.html files (id = relative path), or a .jsonl, .csv, .tsv or .parquet file with 'id' and 'text' (optional 'title', 'url', 'date')."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Index directory to create or add to.")],
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Articles encoded and committed together.", min=1, max=10_000)
    ] = 64,
    as_json: Annotated[bool, json_option("Print the run's summary as JSON.")] = False,
    device: Annotated[Optional[str], device_option("the sentence encoder", default="cpu")] = None,
    encoding: Annotated[Optional[str], encoding_option(".txt/.html files in SOURCES")] = None,
    precision: Annotated[
        Optional[str],
        precision_option(
            help="Sentence encoder weights of a new index: bfloat16 (the default on a CPU with AMX matrix units), int8 (the default on other CPUs; faster than float32) or float32 (the default with --device cuda). An existing index keeps its own."
        ),
    ] = None,
) -> None:
    """Build or extend an index of candidate source articles for `byline trace`.

    Adding to an existing index keeps what is there: an id indexed with the
    same text is skipped, one with new text replaced. Every batch is committed,
    so an interrupted run can simply be started again. Bad records are reported
    and skipped (exit code 1); a bad SOURCES or INDEX stops at once (exit code 2).
    The index records its encoder's precision, and `byline trace` uses the same.
    """
    require_extra("trace")
    _quiet_libraries()
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from byline.tracing import SourceIndex, read_sources

    try:
        items = read_sources(sources, encoding=encoding)
        source_index = SourceIndex.create(out, precision=precision, device=device)
    except BylineError as error:
        fail(str(error))
    problems_shown = 0

    def show_problems(report) -> None:
        nonlocal problems_shown
        for problem in report.problems[problems_shown:]:
            print_notice("[yellow]byline: skipped:[/]", problem)
        problems_shown = len(report.problems)

    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
            disable=not stderr.is_terminal,
        ) as progress:
            task = progress.add_task("indexing")

            def report_progress(report) -> None:
                show_problems(report)
                rate = (report.added + report.updated) / report.seconds if report.seconds else 0.0
                progress.update(
                    task,
                    description=f"indexing: {report.added} added, {report.updated} updated, "
                    f"{report.unchanged} unchanged, {len(report.problems)} skipped ({rate:.1f}/s)",
                )

            report = source_index.add(items, batch_size=batch_size, progress=report_progress)
    except BylineError as error:
        fail(str(error))
    except KeyboardInterrupt:
        stderr.print(
            "byline: interrupted; every finished batch is saved - run the same command to continue",
            highlight=False,
        )
        raise typer.Exit(130)
    finally:
        total = len(source_index)
        source_index.close()
    show_problems(report)
    summary = report.to_dict() | {"index": str(out), "articles": total}
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    else:
        typer.echo(
            f"{out}: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.problems)} skipped in {report.seconds:.1f} s; {counted(total, 'article')} in the index"
        )
    if report.problems:
        raise typer.Exit(1)


def trace(
    articles: Annotated[
        list[str], typer.Argument(help="Files (.txt, .md, .html), http(s) URLs, or - for standard input.")
    ],
    index_path: Annotated[Path, typer.Option("--index", help="Index built by `byline index`.")],
    as_json: JsonOption = False,
    limit: Annotated[
        int, typer.Option("--limit", help="How many candidate sources to list.", min=1, max=100)
    ] = 5,
    no_verdict: Annotated[
        bool,
        typer.Option(
            "--no-verdict", help="Skip Byline's machine-written verdict (no language model is loaded)."
        ),
    ] = False,
    fpr: FprOption = 0.01,
    detector: DetectorOption = None,
    encoding: EncodingOption = None,
    verdict_precision: Annotated[
        Precision,
        precision_option(
            "--verdict-precision",
            help="Precision of the verdict's language models: auto (bfloat16 on a CPU with AMX matrix units, float32 elsewhere), float32 or bfloat16.",
        ),
    ] = Precision.auto,
) -> None:
    """Find the source article a text was most likely made from, and show what changed."""
    require_extra("trace")
    _quiet_libraries()
    from byline.tracing import SourceIndex

    loaded = read_inputs(articles, encoding)
    try:
        source_index = SourceIndex.open(index_path)
    except BylineError as error:
        fail(str(error))
    verdicts = None if no_verdict else load_detector(detector, fpr, precision=verdict_precision.value)
    try:
        print_each(
            loaded,
            lambda article: source_index.trace(article, limit=limit, detector=verdicts),
            as_json,
            render_trace,
        )
    finally:
        source_index.close()


def render_trace(result, console: Console) -> None:
    """A readable report of a :class:`~byline.tracing.TraceResult`."""
    parts: list = []
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("Article", result.source + (f"  ({result.title})" if result.title else ""))
    articles = result.index.get("articles")
    head.add_row(
        "Index",
        f"{result.index.get('path')} ({counted(articles, 'article') if articles is not None else 'size unknown'})",
    )
    if result.verdict is not None:
        verdict = result.verdict
        probability = verdict.get("ai_probability")
        words = VERDICT_PHRASES.get(verdict.get("verdict"), verdict.get("verdict"))
        head.add_row(
            "Byline verdict",
            f"{words}" + (f" (AI probability {probability:.0%})" if probability is not None else ""),
        )
    parts.append(head)

    if not result.matches:
        parts += [Text(""), Text("The index is empty: no candidate sources.", style="bold")]
        console.print(Panel(Group(*parts), title="Byline trace", expand=True))
        return
    table = Table(title="Candidate sources, best first", title_justify="left", expand=True)
    table.add_column("#", justify="right")
    table.add_column("id", overflow="fold")
    table.add_column("title", overflow="fold")
    table.add_column("score", justify="right")
    table.add_column("supported", justify="right")
    for rank, match in enumerate(result.matches, 1):
        style = "bold green" if match.likely_source and rank == 1 else None
        table.add_row(
            str(rank),
            match.id,
            match.title or "",
            f"{match.score:.2f}",
            f"{match.supported_share:.0%}",
            style=style,
        )
    parts += [Text(""), table]

    best, alignment = result.matches[0], result.alignment
    if not best.likely_source:
        parts.append(
            Text(
                "No candidate scores high enough to be called this article's source; "
                "the alignment below is with the closest one.",
                style="yellow",
            )
        )
    if alignment is not None:
        summary = Text()
        summary.append(f"{alignment.supported_share:.0%}", style="bold")
        summary.append(" of the article has support in ")
        summary.append(best.id, style="bold")
        summary.append(
            f"; {alignment.unsupported_sentences} sentence(s) without support; "
            f"{alignment.changed_facts} with new numbers or names; "
        )
        summary.append(f"{alignment.source_reused_share:.0%}", style="bold")
        summary.append(
            f" of the source reused ({alignment.source_sentences_reused} of {alignment.source_sentences} sentences)."
        )
        parts += [Text(""), Text("Sentence by sentence", style="bold"), summary, Text("")]
        for sentence in alignment.sentences:
            line = Text()
            if sentence.supported:
                line.append(" ✓ ", style="bold green")
            else:
                line.append(" ✗ ", style="bold white on #c2410c")
            line.append(f" {sentence.similarity:.2f}  ", style="dim")
            line.append_text(_highlight(sentence.text, sentence.new_numbers + sentence.new_names))
            parts.append(line)
            for support in sentence.sources[:1]:
                parts.append(Text(f"        ← {support.text}", style="dim"))
            flagged = sentence.new_numbers + [n.title() for n in sentence.new_names]
            if flagged:
                label = "new" if not sentence.supported else "changed or added"
                parts.append(Text(f"        {label}: {', '.join(flagged)}", style="#c2410c"))
        parts.append(
            Text(
                "\n✓ supported by the source   ✗ no support (added or changed)   highlighted: numbers and names not in the source sentences",
                style="dim",
            )
        )
    console.print(Panel(Group(*parts), title="Byline trace", expand=True))


def _highlight(text: str, words: list[str]) -> Text:
    rendered = Text(text)
    for word in words:
        rendered.highlight_words([word], style="bold #c2410c", case_sensitive=False)
    return rendered


def register(app: typer.Typer) -> None:
    """Add ``index`` and ``trace`` to the ``byline`` command."""
    app.command("index")(index)
    app.command("trace")(trace)
