"""Sentence splitting with pySBD (rule-based, handles abbreviations, quotes and numbers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class SentenceSpan:
    """A sentence as ``text[start:end]`` of the normalised article text."""

    start: int
    end: int
    text: str


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


_PARAGRAPH = re.compile(r"[^\n]+")


def split_sentences(text: str) -> list[SentenceSpan]:
    """Split a normalised text into sentences; a line break always ends a sentence.

    Spans exclude surrounding whitespace and cover every non-space character
    of ``text`` exactly once, in order.
    """
    spans: list[SentenceSpan] = []
    for paragraph in _PARAGRAPH.finditer(text):
        base = paragraph.start()
        for piece in _segmenter().segment(paragraph.group()):
            raw = piece.sent
            stripped = raw.strip()
            if not stripped:
                continue
            start = base + piece.start + (len(raw) - len(raw.lstrip()))
            spans.append(SentenceSpan(start, start + len(stripped), stripped))
    return spans
