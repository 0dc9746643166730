"""Reporting layer: results, per-sentence scores and explanations."""

from byline.reporting.result import DetectionResult, SentenceScore, Signal

__all__ = ["DetectionResult", "SentenceScore", "Signal"]
