"""Sentence spans for matching a rewrite against its source.

A fast rule-based splitter rather than pySBD (``byline.input.sentences``): indexing
splits every source article, and pySBD's cost per article is a noticeable share of
the sentence encoder's work. An odd split at an abbreviation it does
not know only shifts where a matched span starts; long sentences are cut into
pieces of at most ``MAX_WORDS`` words so that every piece fits the encoder's
input and one long run-on sentence cannot hide several claims.
"""

from __future__ import annotations

import re

import numpy as np

from byline.input.sentences import SentenceSpan

#: Pieces longer than this (in words) are cut, at a comma or semicolon where possible.
MAX_WORDS = 60

# A sentence ends at . ! ? (optionally followed by closing quotes or brackets)
# before whitespace and an opening quote, bracket, capital letter or digit.
_BOUNDARY = re.compile(r"""(?<=[.!?])["'\u201d\u2019)\]]*\s+(?=["'\u201c\u2018(\[]?[A-Z0-9])""")
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep rev hon pres
    no nos vs etc inc ltd co corp dept est fig jan feb mar apr jun jul aug sep sept oct nov dec
    u.s u.k u.n e.g i.e a.m p.m""".split()
)
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.\W*$")
_WORD = re.compile(r"\S+")


def _ends_with_abbreviation(text: str) -> bool:
    match = _LAST_WORD.search(text)
    if not match:
        return False
    word = match.group(1).lower()
    # Single initials ("J. K. Rowling") and known abbreviations do not end a sentence.
    return len(word) == 1 or word in _ABBREVIATIONS


def _cut_long(span: SentenceSpan) -> list[SentenceSpan]:
    words = list(_WORD.finditer(span.text))
    if len(words) <= MAX_WORDS:
        return [span]
    pieces: list[SentenceSpan] = []
    first = 0
    while first < len(words):
        last = min(first + MAX_WORDS, len(words)) - 1
        if last < len(words) - 1:
            # Prefer to cut after a comma or semicolon in the second half of the window.
            for candidate in range(last, first + MAX_WORDS // 2, -1):
                if words[candidate].group().endswith((",", ";", ":")):
                    last = candidate
                    break
        start, end = words[first].start(), words[last].end()
        pieces.append(SentenceSpan(span.start + start, span.start + end, span.text[start:end]))
        first = last + 1
    return pieces


def split_for_matching(text: str) -> list[SentenceSpan]:
    """Split text into sentence spans (``text[start:end] == span.text``), long ones cut."""
    spans: list[SentenceSpan] = []
    for line in re.finditer(r"[^\n]+", text):
        base = line.start()
        line_text = line.group()
        cursor = 0
        pending_start = None
        for boundary in _BOUNDARY.finditer(line_text):
            if pending_start is None:
                pending_start = cursor
            if _ends_with_abbreviation(line_text[pending_start : boundary.start()]):
                continue
            pieces_end = boundary.start() + len(boundary.group().rstrip())
            _add(spans, line_text, base, pending_start, pieces_end)
            cursor = boundary.end()
            pending_start = None
        _add(spans, line_text, base, cursor if pending_start is None else pending_start, len(line_text))
    return [piece for span in spans for piece in _cut_long(span)]


def length_weights(spans: list[SentenceSpan]) -> np.ndarray:
    """Each span's share of the text's characters (sums to 1): how much a sentence counts when
    support is averaged over an article, so that a fragment counts less than a long sentence."""
    weights = np.array([span.end - span.start for span in spans], dtype=np.float32)
    return weights / weights.sum()


def _add(spans: list[SentenceSpan], line: str, base: int, start: int, end: int) -> None:
    raw = line[start:end]
    stripped = raw.strip()
    if not stripped:
        return
    offset = start + (len(raw) - len(raw.lstrip()))
    spans.append(SentenceSpan(base + offset, base + offset + len(stripped), stripped))
