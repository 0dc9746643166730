"""Byline: tells whether a news article was written by a person or a language model, and shows why.

from byline import Detector
result = Detector().detect(text)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from byline.version import __version__

if TYPE_CHECKING:
    from byline.detector import Detector
    from byline.reporting.result import DetectionResult, SentenceScore, Signal

__all__ = ["DetectionResult", "Detector", "SentenceScore", "Signal", "__version__"]


def __getattr__(name: str):
    # Lazy, so that `import byline` stays fast and torch loads only when needed.
    if name == "Detector":
        from byline.detector import Detector

        return Detector
    if name in ("DetectionResult", "SentenceScore", "Signal"):
        from byline.reporting import result

        return getattr(result, name)
    raise AttributeError(f"module 'byline' has no attribute {name!r}")
