"""``byline eval``: accuracy of a detector on labelled articles, with plots.

Shared with ``benchmarks/accuracy.py``, which runs it on the dev corpus.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table

from byline.reporting.evaluation import GROUP_FIELDS, Evaluation, plot_reliability, plot_roc


def score_records(
    detector, records: Sequence[dict], progress: Callable[[int], None] | None = None, chunk: int = 64
) -> Evaluation:
    """Score labelled records (``text``, ``label``) and collect what evaluation needs.

    Records without a verdict (too short, or in a language the detector was
    not trained on) are left out and counted in ``no_verdict``.
    """
    results = []
    for offset in range(0, len(records), chunk):
        results += detector.detect_many([r["text"] for r in records[offset : offset + chunk]])
        if progress:
            progress(len(results))
    kept = [(r, res) for r, res in zip(records, results) if res.ai_probability is not None]
    return Evaluation(
        labels=np.array([r["label"] == "ai" for r, _ in kept], dtype=int),
        probabilities=np.array([res.ai_probability for _, res in kept], dtype=np.float64),
        verdict_ai=np.array([res.verdict == "ai" for _, res in kept], dtype=bool),
        records=[r for r, _ in kept],
        no_verdict=dict(Counter(res.verdict for res in results if res.ai_probability is None)),
    )


SUMMARY_CAPTION = "vTPR, vFPR: the verdict's true- and false-positive rates; vFPR 95%: vFPR's exact interval"


def _fmt(value: float, digits: int = 3) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def _interval(interval: Sequence[float] | None) -> str:
    return "-" if not interval or interval[0] != interval[0] else f"{interval[0]:.3f}-{interval[1]:.3f}"


def print_summary_table(console: Console, title: str, rows: dict[str, dict]) -> None:
    """One row per group. Numbers are never cut: in a narrow terminal only the group name folds."""
    table = Table(
        title=title,
        title_justify="left",
        caption=SUMMARY_CAPTION,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0),
    )
    table.add_column("", justify="left", overflow="fold", min_width=8, ratio=1)
    for header in ("human", "ai", "AUROC", "TPR@1%", "TPR@5%", "ECE", "vTPR", "vFPR", "vFPR 95%"):
        table.add_column(header, justify="right", no_wrap=True)
    for name, row in rows.items():
        table.add_row(
            name,
            str(row["n_human"]),
            str(row["n_ai"]),
            _fmt(row["auroc"], 4),
            _fmt(row["tpr_at_1pct_fpr"]),
            _fmt(row["tpr_at_5pct_fpr"]),
            _fmt(row["ece"]),
            _fmt(row["verdict_tpr"]),
            _fmt(row["verdict_fpr"]),
            _interval(row.get("verdict_fpr_interval")),
        )
    console.print(table)


def print_report(console: Console, report: dict, extra_overall: dict[str, dict] | None = None) -> None:
    print_summary_table(console, "Overall", {"byline": report["overall"], **(extra_overall or {})})
    for field in GROUP_FIELDS:
        if f"by_{field}" in report:
            console.print()
            print_summary_table(
                console,
                f"By {field} (AUROC/TPR: this group's machine texts vs all human texts; verdict FPR: this group's human texts)",
                report[f"by_{field}"],
            )


def write_outputs(
    evaluation: Evaluation, report: dict, out: Path, title: str, plots: bool = True
) -> list[Path]:
    """Write report.json and, with ``plots`` (needs matplotlib, the ``plots`` extra), roc.png and
    reliability.png to ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "report.json", out / "roc.png", out / "reliability.png"]
    paths[0].write_text(json.dumps(report, indent=2))
    if not plots:
        return paths[:1]
    plot_roc(evaluation.labels, evaluation.probabilities, str(paths[1]), title)
    plot_reliability(evaluation.labels, evaluation.probabilities, str(paths[2]), title)
    return paths
