"""Sentence splitting with pySBD (rule-based, handles abbreviations, quotes and numbers)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

#: pySBD's time grows with the square of the text it is given (its abbreviation
#: rules rescan the whole text for every match, and so does its search for each
#: sentence's offsets), so a paragraph longer than this is given to it in pieces
#: of at most this many characters (see :func:`_paragraph_sentences`). News
#: paragraphs are nearly all shorter, and those are split as before.
MAX_SEGMENT_CHARS = 5_000
#: A sentence that starts this close to a piece's cut is left to the next piece:
#: pySBD decides where it ends by the words after it (quotes, abbreviations).
CUT_MARGIN_CHARS = 1_000


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


def _segment(text: str) -> list[tuple[int, int]]:
    """pySBD's sentences of ``text`` as (start, end) offsets, trailing whitespace included."""
    return [(piece.start, piece.end) for piece in _segmenter().segment(text)]


_PARAGRAPH = re.compile(r"[^\n]+")
# A sentence-final mark, closing quotes or brackets, then the whitespace a piece may be cut at.
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s)")
_WHITESPACE = re.compile(r"\s")


def _cut(paragraph: str, start: int, limit: int) -> int:
    """Where a piece of ``paragraph`` from ``start`` of at most ``limit`` characters should end.

    In the second half of the allowed span: after the last sentence-final mark
    followed by whitespace, else at the last whitespace, else at the limit itself.
    """
    end = start + limit
    if end >= len(paragraph):
        return len(paragraph)
    window = start + limit // 2
    last_mark = None
    for last_mark in _SENTENCE_END.finditer(paragraph, window, end):
        pass
    if last_mark is not None:
        return last_mark.end()
    last_space = None
    for last_space in _WHITESPACE.finditer(paragraph, window, end):
        pass
    return last_space.start() if last_space is not None else end


def _paragraph_sentences(paragraph: str, limit: int = MAX_SEGMENT_CHARS) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of one paragraph, pySBD seeing at most ``limit`` characters at a time.

    Each piece is cut at a likely sentence end (:func:`_cut`). The sentences that
    start within :data:`CUT_MARGIN_CHARS` of the cut (and always the last one,
    which may run on past it) are not kept but start the next piece, where pySBD
    sees the words after them as in the whole paragraph. Only a sentence that
    starts in the first half of a piece is never left over, so every piece
    advances by at least half of ``limit`` and the work grows linearly with the
    paragraph's length; a sentence longer than that ends at the cut.
    """
    start = 0
    while start < len(paragraph):
        cut = _cut(paragraph, start, limit)
        sentences = _segment(paragraph[start:cut])
        advance = cut - start
        if cut < len(paragraph) and sentences:
            left_over_from = max(limit // 2, min(sentences[-1][0], advance - CUT_MARGIN_CHARS))
            keep = len(sentences)
            while keep > 0 and sentences[keep - 1][0] >= left_over_from:
                keep -= 1
            if 0 < keep < len(sentences):
                advance = sentences[keep][0]
                del sentences[keep:]
        for begin, end in sentences:
            yield start + begin, start + end
        start += advance


def split_sentences(text: str) -> list[SentenceSpan]:
    """Split a normalised text into sentences; a line break always ends a sentence.

    Spans exclude surrounding whitespace and cover every non-space character
    of ``text`` exactly once, in order.
    """
    spans: list[SentenceSpan] = []
    for paragraph in _PARAGRAPH.finditer(text):
        base = paragraph.start()
        for begin, end in _paragraph_sentences(paragraph.group()):
            raw = text[base + begin : base + end]
            stripped = raw.strip()
            if not stripped:
                continue
            start = base + begin + (len(raw) - len(raw.lstrip()))
            spans.append(SentenceSpan(start, start + len(stripped), stripped))
    return spans
