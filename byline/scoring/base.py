"""The one interface every scorer implements: texts in, scores out.

Following the RAID benchmark's detector interface, a scorer maps a list of
texts to one number per text, higher meaning more likely machine-written.
Byline's full detector, its zero-shot language-model criteria and the
baselines in ``benchmarks/`` all implement it, so they can be compared by
the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Scorer(Protocol):
    """Maps texts to scores; higher means more likely machine-written."""

    name: str

    def score(self, texts: Sequence[str]) -> np.ndarray: ...
