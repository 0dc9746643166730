"""What the benchmarks that score raw texts with the detector share: scores and verdict thresholds, and the results file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: The repository's root, and the folder every benchmark writes its figures to.
ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def probabilities_and_thresholds(detector, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each text's machine-written probability (NaN when too short for a verdict) and its own
    verdict threshold, which depends on its length; the verdict flags a text where the first exceeds the second."""
    results = detector.detect_many(list(texts))
    return (
        np.array(
            [np.nan if r.ai_probability is None else r.ai_probability for r in results], dtype=np.float64
        ),
        np.array([r.threshold for r in results], dtype=np.float64),
    )


def write_results(report: dict, stem: str, name: str = "") -> Path:
    """Write ``report`` to benchmarks/results/STEM[-NAME].json and return the path."""
    path = RESULTS / f"{stem}{'-' + name if name else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    return path
