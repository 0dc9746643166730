"""Small helpers for the words of messages and reports, used by every layer (like errors.py)."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, in the plural unless it is one: ``counted(1, "word")`` is
    ``"1 word"``, ``counted(1200, "article")`` is ``"1,200 articles"``."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
