"""Numbers and names in a sentence: what a rewrite must keep, and what a perturbed rewrite changes.

Deliberately simple and explainable: a number is a run of digits (thousands
separators dropped, small number words mapped to digits); a name is a
capitalised word that is not merely the first word of its sentence.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")
# "one" is left out: far more often a pronoun ("one of them") than a count.
_NUMBER_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "hundred": "100",
}
# Capitalised words that are not names when they open a sentence or a quote.
_COMMON = frozenset(
    """a an the this that these those it its he she they we i you his her their our my your
    in on at of for to from by with as and but or if when while after before since because
    there here what who why how where which mr mrs ms dr however meanwhile also yet so then
    monday tuesday wednesday thursday friday saturday sunday""".split()
)


def normalise_number(raw: str) -> str:
    value = raw.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".") or "0"
    return value


def numbers_in(text: str) -> set[str]:
    """Numbers in ``text``, normalised ("1,200" -> "1200", "2.50" -> "2.5", "three" -> "3")."""
    return _numbers(text, set(_WORD.findall(text)))


def word_keys(text: str) -> set[str]:
    """Every word of ``text`` as a name key: a name written in lower case ("the senate") is still known."""
    return _keys(set(_WORD.findall(text)))


def known_facts(text: str) -> set[str]:
    """``numbers_in(text) | word_keys(text)``: every number or name ``text`` could share, in one pass."""
    words = set(_WORD.findall(text))
    return _numbers(text, words) | _keys(words)


def _numbers(text: str, words: set[str]) -> set[str]:
    found = {normalise_number(m.group()) for m in _NUMBER.finditer(text)}
    for word in words:
        digit = _NUMBER_WORDS.get(word.lower())
        if digit:
            found.add(digit)
    return found


def _keys(words: set[str]) -> set[str]:
    # Most words are plain letters, whose key is just the word in lower case.
    return {word.lower() if word.isalpha() else name_key(word) for word in words}


def name_key(word: str) -> str:
    word = word.replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return word.strip("'-").lower()


def names_in(text: str) -> set[str]:
    """Capitalised words (lower-cased keys) that are likely names, e.g. {"obama", "bbc"}."""
    found: set[str] = set()
    previous_end = None
    for match in _WORD.finditer(text):
        word = match.group()
        opens_sentence = previous_end is None or re.search(
            r"[.!?:\"(]\s*$", text[max(0, previous_end - 3) : match.start()]
        )
        previous_end = match.end()
        if not word[0].isupper():
            continue
        key = name_key(word)
        if len(key) < 2 or key in _COMMON or key in _NUMBER_WORDS:
            continue
        if opens_sentence and not (word.isupper() and len(word) > 1):
            # A capitalised first word is only a name if it is written capitalised elsewhere too.
            if not re.search(rf"(?<![.!?:\"(]\s)(?<=\s){re.escape(word)}\b", text[match.end() :]):
                continue
        found.add(key)
    return found
