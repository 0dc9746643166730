"""Undo spelling and letter-case noise before scoring.

Two cheap evasion attacks (RAID: misspellings, upper/lower swaps) make a
machine-written text look like careless human typing to a language model:
every "goverment" or mid-sentence "The" is a surprising token. Published news
is copy-edited, so such noise says little about who wrote the words and a lot
about someone tampering with them. Byline therefore repairs it before scoring,
and reports how much it repaired (a signal of its own).

Repairs are deliberately conservative, so that clean text is left alone:

* spelling: a lower-case word missing from pyspellchecker's 160,000-word
  English frequency list that is one edit (insert, delete, swap, replace)
  away from a common word which clearly beats every other such word, and
  that does not recur in the article (a term the writer uses twice is their
  vocabulary, not a typo);
* case: a closed-class word capitalised in mid-sentence ("said The
  minister") and a lower-case letter opening a sentence. Nouns are left
  alone: "Police" and "police" are both good English, and telling them
  apart needs more than the article.

A copy-editor's slip or a lower-case "i" in a quoted tweet is not tampering,
and a repair is a change to what the scorers see, so nothing is repaired unless
the noise is systematic: at least :data:`MIN_REPAIRS` repairs, and at least
:data:`MIN_REPAIR_SHARE` of the words. Clean articles pass through unchanged.
A text past that bar was tampered with, and gets a second, bolder pass.

Every character of the repaired text keeps the offset of the character it came
from, so that sentence and token spans can be shown on the text as given.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

#: A suggested spelling must be at least this common in the frequency list
#: ("government" 130,955; "brokers" 1,138), so that rare and new words are
#: never "corrected" into other rare words, and must be this many times as
#: common as the runner-up.
MIN_SUGGESTION_COUNT = 5_000
MIN_SUGGESTION_LEAD = 3.0
#: A word at least this frequent in the word list is "common" (see unknown_words).
COMMON_WORD_COUNT = 20_000
#: The same, once the text has shown systematic noise (see repair_text).
TAMPERED_MIN_SUGGESTION_COUNT = 100
TAMPERED_MIN_SUGGESTION_LEAD = 1.5
MIN_WORD_LENGTH = 4
MIN_REPAIRS = 3
MIN_REPAIR_SHARE = 0.01

# Lower-case words that never start a name on their own; capitalised in mid-
# sentence and not followed by another capitalised word, they were flipped.
_COMMON_LOWER = frozenset(
    """
    an the and or nor of to in on at by for with from into onto about over under after
    is are was were be been being has have had do does did will would shall should can could might must
    these those its they them their his her our your
    said says not also than then there which who whom whose
    """.split()
)
# Small words inside names and titles: "Bank of England", "Department for Education".
_NAME_JOINERS = frozenset("of for and de la du von van the".split())
# Capitalised words that are also common lower-case words.
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr inc corp ltd co vs etc no gov sen rep gen lt col sgt capt prof dept est approx fig".split()
)
# Words with their apostrophes ("couldn't", "O'Neill"), so a contraction is never half-corrected.
# Not inside addresses, code or numbers ("usat.ly", "print(", "i,value").
_WORD = re.compile(r"(?<![\w'@./:`\\-])[A-Za-z]+(?:'[A-Za-z]+)*(?![\w'@/`(\\-]|[.:,]\w|:/)")
_CITATION = re.compile(r"(\[\d+\])+$")  # "said.[45]"
# British and American spellings are both right: never "correct" one into the other.
_SPELLING_VARIANTS = (
    ("our", "or"),
    ("isation", "ization"),
    ("ise", "ize"),
    ("yse", "yze"),
    ("tre", "ter"),
    ("ll", "l"),
    ("l", "ll"),
    ("ogue", "og"),
)


@dataclass(frozen=True)
class RepairedText:
    """A text after repair, with a map back to the text it came from."""

    text: str
    offsets: list[int]  # for each character of ``text``, its offset in the input
    spelling_fixes: int  # repairs made (0 when the noise was below the bar)
    case_fixes: int

    @property
    def repaired(self) -> bool:
        return self.spelling_fixes + self.case_fixes > 0


@lru_cache(maxsize=1)
def _spelling():
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


@lru_cache(maxsize=1)
def _british_words() -> frozenset[str]:
    """symspellpy's 82,000-word list, which has the British spellings pyspellchecker lacks."""
    from pathlib import Path

    import symspellpy

    path = Path(symspellpy.__file__).with_name("frequency_dictionary_en_82_765.txt")
    with open(path, encoding="utf-8") as lines:
        return frozenset(line.split(" ", 1)[0] for line in lines)


def _is_known(word: str) -> bool:
    """Whether either English word list has ``word`` (lower case)."""
    return word in _spelling().word_frequency or word in _british_words()


def _is_capitalised(word: str) -> bool:
    return word[0].isupper() and word[1:].islower()


def _corrected_spelling(word: str, counts_in_text: Counter, min_count: int, min_lead: float) -> str | None:
    if len(word) < MIN_WORD_LENGTH or not word.isalpha() or not word.islower() or counts_in_text[word] > 1:
        return None
    if _is_known(word):
        return None
    speller = _spelling()
    frequency = speller.word_frequency
    candidates = sorted(
        ((frequency[c], c) for c in speller.candidates(word) or () if c != word), reverse=True
    )
    if not candidates or candidates[0][0] < min_count:
        return None
    if len(candidates) > 1 and candidates[0][0] < min_lead * candidates[1][0]:
        return None
    if _spelling_variant(word, candidates[0][1]):
        return None
    return candidates[0][1]


def unknown_words(text: str, *, tampered: bool = False) -> list[tuple[int, int]]:
    """Spans of words a language model would find surprising whoever wrote the text.

    Lower-case words no English word list knows (typos, coinages, code), and
    common lower-case words capitalised in mid-sentence outside a name or
    title ("said the Council would"). Other capitalised words are names more
    often than not, and are kept.

    In a ``tampered`` text (one :func:`repair_text` repaired) the spelling of
    names cannot be trusted either, and a typo also garbles the model's view of
    the word after it: there, capitalised words no word list knows count too,
    and each span runs on to the end of the next word. This keeps a misspelt
    machine-written article about as detectable as its clean text, and keeps
    misspelt human articles from looking more human than they are
    (benchmarks/attacks.py; figures in benchmarks/README.md, "Evasion").
    """
    frequency = _spelling().word_frequency
    words = list(_WORD.finditer(text))
    flagged = []
    for index, m in enumerate(words):
        word = m.group()
        if word.islower():
            if not _is_known(word):
                flagged.append(index)
        elif (
            tampered
            and word[0].isupper()
            and not _is_known(word.lower().split("'")[0])
            and word.lower() not in _CALENDAR
        ):
            flagged.append(index)
        elif (
            _is_capitalised(word)
            and frequency[word.lower()] >= COMMON_WORD_COUNT
            and word.lower() not in _CALENDAR
            and _position(text, m.start()) == "mid"
            and not _in_title(text, words, index)
        ):
            flagged.append(index)
    if not tampered:
        return [words[i].span() for i in flagged]
    # Through the end of the following word ("the goverment said": "goverment said").
    spans: list[tuple[int, int]] = []
    for i in flagged:
        start, end = words[i].start(), words[min(i + 1, len(words) - 1)].end()
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _position(text: str, start: int) -> str:
    """Whether the word at ``start`` opens a sentence ("start"), surely does not ("mid"), or either ("unsure")."""
    before = text[max(0, start - 60) : start]
    if not before.strip() or "\n" in before[len(before.rstrip(" ")) - 1 :]:
        return "start"  # text or paragraph start (headlines have no full stop)
    if before[-1] != " ":
        return "unsure"  # after an opening quote or bracket: a quotation may open with a capital
    token = before.split()[-1]
    if token[-1] in ",;" or token[-1].isalpha():
        return "mid"
    core = _CITATION.sub("", token)
    if core.endswith(('?"', '!"', "?'", "!'")):
        return "unsure"  # '"Why?" she asked'
    core = core.rstrip("\"')]")
    if not core or core[-1] not in ".!?":
        return "unsure"  # colon, dash, bracket...
    word = core[:-1].rsplit(".", 1)[-1]
    if word.isdigit() or (
        len(word) > 1
        and word.isalpha()
        and (word.islower() or len(word) > 3)
        and word.lower() not in _ABBREVIATIONS
    ):
        return "start"
    return "unsure"  # "U.S.", "Va.", "Mr."


def _in_title(text: str, words: list[re.Match], index: int) -> bool:
    """Whether the word at ``index`` is part of a name or title: next to a
    capitalised word ("White House"), or joined to one by a small word ("Bank of England")."""

    def capitalised(i: int) -> bool:
        return 0 <= i < len(words) and words[i].group()[0].isupper()

    def adjacent(i: int, j: int) -> bool:
        first, second = sorted((words[i], words[j]), key=lambda m: m.start())
        return not text[first.end() : second.start()].strip()

    for step in (-1, 1):
        neighbour = index + step
        if not 0 <= neighbour < len(words) or not adjacent(index, neighbour):
            continue
        if capitalised(neighbour):
            return True
        if (
            words[neighbour].group() in _NAME_JOINERS
            and capitalised(neighbour + step)
            and adjacent(neighbour, neighbour + step)
        ):
            return True
    return False


def _spelling_variant(word: str, candidate: str) -> bool:
    return any(
        word.replace(a, b) == candidate or candidate.replace(a, b) == word for a, b in _SPELLING_VARIANTS
    )


def repair_text(text: str) -> RepairedText:
    """Repair spelling and letter-case noise (see the module notes)."""
    words = list(_WORD.finditer(text))
    in_text = Counter(m.group() for m in words)
    positions = [_position(text, m.start()) for m in words]
    _, _, spelling, case = _repairs(text, words, positions, in_text, tampered=False)
    if spelling + case < max(MIN_REPAIRS, MIN_REPAIR_SHARE * len(words)):
        return RepairedText(text, list(range(len(text))), 0, 0)
    # The noise is systematic, so the text was tampered with: a rarer suggestion, or a
    # misspelt capitalised word, is now more likely a slip than the writer's intent.
    return RepairedText(*_repairs(text, words, positions, in_text, tampered=True))


def _repairs(
    text: str, words: list[re.Match], positions: list[str], in_text: Counter, *, tampered: bool
) -> tuple[str, list[int], int, int]:
    min_count, min_lead = (
        (TAMPERED_MIN_SUGGESTION_COUNT, TAMPERED_MIN_SUGGESTION_LEAD)
        if tampered
        else (MIN_SUGGESTION_COUNT, MIN_SUGGESTION_LEAD)
    )
    pieces: list[str] = []
    offsets: list[int] = []
    last = 0
    spelling = case = 0
    for index, m in enumerate(words):
        word = m.group()
        lower = word.lower()
        replacement = None
        if word.islower():
            if positions[index] == "start" or word == "i":
                replacement = word[0].upper() + word[1:]
                case += 1
            else:
                replacement = _corrected_spelling(word, in_text, min_count, min_lead)
                spelling += replacement is not None
        elif positions[index] == "mid" and lower in _COMMON_LOWER and _is_capitalised(word):
            # "The Hague", "Dancing With the Stars": a capital inside a name or title stays.
            if not _in_title(text, words, index):
                replacement = lower
                case += 1
        elif tampered and positions[index] == "start" and _is_capitalised(word):
            # Only in a tampered text: elsewhere a capitalised word is taken for a name
            # ("Pearce" is not a misspelt "Peace").
            corrected = _corrected_spelling(lower, in_text, min_count, min_lead)
            if corrected:
                replacement = corrected[0].upper() + corrected[1:]
                spelling += 1
        if replacement is None:
            continue
        pieces.append(text[last : m.start()])
        offsets.extend(range(last, m.start()))
        pieces.append(replacement)
        # A replacement of another length maps its extra characters to the word's last one.
        offsets.extend(min(m.start() + k, m.end() - 1) for k in range(len(replacement)))
        last = m.end()
    pieces.append(text[last:])
    offsets.extend(range(last, len(text)))
    return "".join(pieces), offsets, spelling, case


def reflowed_for_scoring(text: str) -> RepairedText:
    """What the scorers read of a normalised article: repaired, then reflowed to one
    paragraph; ``offsets`` point into ``text``.

    Repair comes first because paragraph starts tell where sentences begin.
    """
    from byline.input.normalise import reflow

    repaired = repair_text(text)
    reflowed, reflow_offsets = reflow(repaired.text)
    return RepairedText(
        reflowed, [repaired.offsets[i] for i in reflow_offsets], repaired.spelling_fixes, repaired.case_fixes
    )


def scoring_text(text: str) -> str:
    """The text of :func:`reflowed_for_scoring`."""
    return reflowed_for_scoring(text).text
