"""Human-readable rendering of a :class:`DetectionResult` with rich."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from byline.reporting.result import DetectionResult
from byline.wording import counted, printable

# Colour-blind-safe scale from human (blue) to machine (orange), by probability.
_SCALE = [
    (0.2, "on #dbe9f6", "very likely human"),
    (0.4, "on #eef3f8", "likely human"),
    (0.6, "on #f2f2f2", "uncertain"),
    (0.8, "on #fde3c8", "likely machine"),
    (1.01, "on #f9c08a", "very likely machine"),
]
_VERDICT_STYLE = {
    "ai": "bold white on #c2410c",
    "human": "bold white on #1d4ed8",
    "too_short": "bold black on #d4d4d4",
    "not_prose": "bold black on #d4d4d4",
    "unsupported_language": "bold black on #d4d4d4",
}
#: Each verdict as a phrase inside a sentence ("Byline verdict: machine-written", "3 machine-written"),
#: for the trace report and the scan summary; the banner above the report uses _VERDICT_WORDS.
VERDICT_PHRASES = {
    "ai": "machine-written",
    "human": "human-written",
    "too_short": "too short to judge",
    "not_prose": "not prose Byline can judge",
    "unsupported_language": "in a language the detector was not trained on",
}
_VERDICT_WORDS = {
    "ai": "MACHINE-WRITTEN",
    "human": "HUMAN-WRITTEN",
    "too_short": "TOO SHORT TO JUDGE",
    "not_prose": "NOT PROSE TO JUDGE",
    "unsupported_language": "LANGUAGE NOT SUPPORTED",
}


def _style_for(probability: float | None) -> str:
    if probability is None:
        return "dim"
    for upper, style, _ in _SCALE:
        if probability < upper:
            return style
    return _SCALE[-1][1]


def render(result: DetectionResult, console: Console) -> None:
    verdict = Text(f" {_VERDICT_WORDS[result.verdict]} ", style=_VERDICT_STYLE[result.verdict])
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    # Text, not markup: a file name or title may hold brackets and control characters
    summary.add_row(
        "Source", Text(printable(result.source + (f"  ({result.title})" if result.title else "")))
    )
    summary.add_row("Verdict", verdict)
    if result.ai_probability is not None:
        summary.add_row("AI probability", f"{result.ai_probability:.1%}")
        summary.add_row(
            "Threshold",
            f"{result.threshold:.1%} (flags about {result.fpr_target:.1%} of human news)",
        )
    if result.ai_share is not None:
        summary.add_row("Machine-like share", f"{result.ai_share:.0%} of the text")
    if result.reason:
        summary.add_row("Reason", result.reason)
    length = counted(result.n_words, "word")
    if result.n_tokens:
        length += f"; {result.n_scored_tokens} of {result.n_tokens} tokens scored"
    summary.add_row("Length", length)
    summary.add_row("Model", result.model)
    parts: list = [summary]

    if result.sentences and result.ai_probability is not None:
        body = Text()
        cursor = 0
        for sentence in result.sentences:
            body.append(result.text[cursor : sentence.start])
            style = _style_for(sentence.ai_probability)
            body.append(sentence.text, style=style + (" italic" if sentence.evidence == "text_only" else ""))
            cursor = sentence.end
        body.append(result.text[cursor:])
        legend = Text("Legend: ")
        for _, style, words in _SCALE:
            legend.append(f" {words} ", style=style + " black")
            legend.append(" ")
        legend.append(" not scored ", style="dim")
        if any(s.evidence == "text_only" for s in result.sentences):
            legend.append(
                "  italic: past the language model's budget, judged on style and wording only", style="italic"
            )
        parts += [Text(""), Text("Sentences", style="bold"), body, legend]

    repairs = result.repairs
    if repairs["spelling"] or repairs["case"]:
        parts += [
            Text(""),
            Text(
                f"Repaired before scoring: {repairs['spelling']} misspelt words, "
                f"{repairs['case']} capitalisation flips. Noise this systematic is a sign "
                "that the text was tampered with to evade detection.",
                style="yellow",
            ),
        ]
    if repairs.get("surrogates"):
        parts += [
            Text(""),
            Text(
                f"Replaced before scoring: {counted(repairs['surrogates'], 'unpaired UTF-16 surrogate')} "
                "(not a character; shown as \ufffd).",
                style="yellow",
            ),
        ]

    if result.signals:
        parts += [Text(""), Text("Why", style="bold")]
        for signal in result.signals:
            marker = "[#c2410c]▲ machine[/]" if signal.direction == "ai" else "[#1d4ed8]▼ human[/]"
            parts.append(Text.from_markup(f"  {marker}  ") + Text(signal.description))
    console.print(Panel(Group(*parts), title="Byline", expand=True))
