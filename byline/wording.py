"""Small helpers for the words of messages and reports, used by every layer (like errors.py)."""

from __future__ import annotations

import re


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, in the plural unless it is one: ``counted(1, "word")`` is
    ``"1 word"``, ``counted(1200, "article")`` is ``"1,200 articles"``."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


# C0 and C1 controls and DEL, line and paragraph separators, bidirectional overrides and isolates
# (they reorder what follows on screen), and lone surrogates (bytes of a file name that were not UTF-8).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with control characters written as Python escapes (``\\x1b``, ``\\n``, ``\\u202e``),
    so a name taken from a file system or a data file cannot drive the terminal or split a
    message's line; every other character is kept as it is."""
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
