"""Evasion attacks in the style of the RAID benchmark (Dugan et al., ACL 2024).

Each attack takes a text and a seeded random generator and returns the
attacked text. Rates follow RAID's defaults (its ``attack.py``); where RAID
needs resources this machine does not have (a BERT fill-mask model and
fastText vectors for synonyms, a downloaded misspelling list), a small
word list written for this benchmark stands in, which makes those two attacks
milder than RAID's. Used only by ``benchmarks/attacks.py``; Byline never sees
these functions, and the detector was not trained on attacked text.
"""

from __future__ import annotations

import random
import re

HOMOGLYPHS = {
    "a": ["\u0430"],
    "A": ["\u0410", "\u0391"],
    "B": ["\u0412", "\u0392"],
    "e": ["\u0435"],
    "E": ["\u0415", "\u0395"],
    "c": ["\u0441"],
    "p": ["\u0440"],
    "K": ["\u041a", "\u039a"],
    "O": ["\u041e", "\u039f"],
    "P": ["\u0420", "\u03a1"],
    "M": ["\u041c", "\u039c"],
    "H": ["\u041d", "\u0397"],
    "T": ["\u0422", "\u03a4"],
    "X": ["\u0425", "\u03a7"],
    "C": ["\u0421"],
    "y": ["\u0443"],
    "o": ["\u043e"],
    "x": ["\u0445"],
    "I": ["\u0406", "\u0399"],
    "i": ["\u0456"],
    "N": ["\u039d"],
    "Z": ["\u0396"],
}

# Common English synonyms (news vocabulary), both directions where natural.
SYNONYMS = {
    "said": "stated",
    "says": "states",
    "big": "large",
    "large": "big",
    "small": "little",
    "important": "significant",
    "significant": "important",
    "show": "indicate",
    "shows": "indicates",
    "showed": "indicated",
    "help": "assist",
    "helped": "assisted",
    "start": "begin",
    "started": "began",
    "began": "started",
    "end": "finish",
    "ended": "finished",
    "buy": "purchase",
    "bought": "purchased",
    "need": "require",
    "needs": "requires",
    "needed": "required",
    "get": "obtain",
    "got": "obtained",
    "use": "utilise",
    "used": "utilised",
    "make": "create",
    "made": "created",
    "think": "believe",
    "thought": "believed",
    "people": "individuals",
    "children": "kids",
    "job": "position",
    "jobs": "positions",
    "money": "funds",
    "country": "nation",
    "city": "town",
    "town": "city",
    "main": "primary",
    "major": "key",
    "key": "major",
    "try": "attempt",
    "tried": "attempted",
    "quickly": "rapidly",
    "rapidly": "quickly",
    "often": "frequently",
    "also": "additionally",
    "however": "nevertheless",
    "about": "approximately",
    "many": "numerous",
    "several": "various",
    "problem": "issue",
    "problems": "issues",
    "issue": "matter",
    "issues": "matters",
    "answer": "reply",
    "ask": "request",
    "asked": "requested",
    "tell": "inform",
    "told": "informed",
    "build": "construct",
    "built": "constructed",
    "change": "alter",
    "changed": "altered",
    "rise": "increase",
    "rose": "increased",
    "fall": "decline",
    "fell": "declined",
    "win": "secure",
    "won": "secured",
    "lose": "forfeit",
    "lost": "forfeited",
    "leave": "depart",
    "left": "departed",
    "hard": "difficult",
    "difficult": "hard",
    "easy": "simple",
    "simple": "easy",
    "whole": "entire",
    "entire": "whole",
    "enough": "sufficient",
    "enormous": "huge",
    "huge": "enormous",
    "recent": "latest",
    "latest": "newest",
    "old": "former",
    "former": "previous",
    "previous": "prior",
    "area": "region",
    "region": "area",
    "meeting": "gathering",
    "claim": "assertion",
    "claims": "assertions",
    "warned": "cautioned",
    "warn": "caution",
    "added": "continued",
    "explained": "clarified",
    "police": "officers",
    "officials": "authorities",
    "authorities": "officials",
    "firm": "company",
    "company": "firm",
    "companies": "firms",
    "government": "administration",
    "plan": "proposal",
    "plans": "proposals",
    "report": "study",
    "reports": "studies",
    "study": "research",
    "increase": "rise",
    "decrease": "drop",
    "around": "roughly",
    "nearly": "almost",
    "almost": "nearly",
}

# Misspellings: RAID draws them from a list of common human misspellings; this
# stand-in applies typical typing and spelling slips to the chosen words.
_VOWELS = "aeiou"


def _misspell(word: str, rng: random.Random) -> str:
    lower = word.lower()
    options = []
    if "ie" in lower:
        options.append(lower.replace("ie", "ei", 1))
    if "ei" in lower:
        options.append(lower.replace("ei", "ie", 1))
    doubled = re.search(r"(\w)\1", lower)
    if doubled:
        options.append(lower[: doubled.start()] + lower[doubled.start() + 1 :])
    if len(lower) > 4:
        i = rng.randrange(1, len(lower) - 2)
        options.append(lower[:i] + lower[i + 1] + lower[i] + lower[i + 2 :])  # swapped letters
        vowel_positions = [k for k, c in enumerate(lower) if c in _VOWELS and 0 < k < len(lower) - 1]
        if vowel_positions:
            k = rng.choice(vowel_positions)
            options.append(lower[:k] + rng.choice([v for v in _VOWELS if v != lower[k]]) + lower[k + 1 :])
    if not options:
        return word
    choice = rng.choice(options)
    return choice.capitalize() if word[0].isupper() else choice


_WORD = re.compile(r"[A-Za-z]+")


def homoglyph(text: str, rng: random.Random) -> str:
    return "".join(rng.choice(HOMOGLYPHS[c]) if c in HOMOGLYPHS else c for c in text)


def zero_width_space(text: str, rng: random.Random) -> str:
    return "".join(c + "\u200b" for c in text)


def whitespace(text: str, rng: random.Random, rate: float = 0.2) -> str:
    words = text.split(" ")
    for i in rng.choices(range(len(words)), k=int(len(words) * rate)):
        words[i] += " "
    return " ".join(words)


def insert_paragraphs(text: str, rng: random.Random, rate: float = 0.5) -> str:
    boundaries = [m.end() for m in re.finditer(r"[.!?][\"']? (?=[A-Z])", text)]
    chosen = set(rng.sample(boundaries, int(len(boundaries) * rate)))
    out, last = [], 0
    for position in sorted(chosen):
        out.append(text[last : position - 1] + "\n\n")
        last = position
    out.append(text[last:])
    return "".join(out)


def upper_lower(text: str, rng: random.Random, rate: float = 0.05) -> str:
    starts = [m.start() for m in _WORD.finditer(text)]
    chars = list(text)
    for i in rng.sample(starts, int(len(starts) * rate)):
        chars[i] = chars[i].lower() if chars[i].isupper() else chars[i].upper()
    return "".join(chars)


def article_deletion(text: str, rng: random.Random, rate: float = 0.5) -> str:
    matches = [m for m in re.finditer(r" (a|an|the)(?= )", text)]
    drop = {m.start() for m in rng.sample(matches, int(len(matches) * rate))}
    out, last = [], 0
    for m in matches:
        if m.start() in drop:
            out.append(text[last : m.start()])
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def number_swap(text: str, rng: random.Random, rate: float = 0.5) -> str:
    matches = list(re.finditer(r"\d+\.?\d*", text))
    chars = list(text)
    for m in rng.sample(matches, int(len(matches) * rate)):
        for i in range(m.start(), m.end()):
            if chars[i].isdigit():
                chars[i] = str(rng.randrange(10))
    return "".join(chars)


def misspelling(text: str, rng: random.Random, rate: float = 0.2) -> str:
    words = [m for m in _WORD.finditer(text) if len(m.group()) >= 4]
    total = len(_WORD.findall(text))
    chosen = sorted(rng.sample(words, min(len(words), int(total * rate))), key=lambda m: m.start())
    out, last = [], 0
    for m in chosen:
        out.append(text[last : m.start()] + _misspell(m.group(), rng))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def synonym_swap(text: str, rng: random.Random, rate: float = 0.5) -> str:
    candidates = [m for m in _WORD.finditer(text) if m.group().lower() in SYNONYMS]
    total = len(_WORD.findall(text))
    chosen = sorted(rng.sample(candidates, min(len(candidates), int(total * rate))), key=lambda m: m.start())
    out, last = [], 0
    for m in chosen:
        replacement = SYNONYMS[m.group().lower()]
        out.append(
            text[last : m.start()] + (replacement.capitalize() if m.group()[0].isupper() else replacement)
        )
        last = m.end()
    out.append(text[last:])
    return "".join(out)


ATTACKS = {
    "homoglyph": homoglyph,
    "zero_width_space": zero_width_space,
    "whitespace": whitespace,
    "insert_paragraphs": insert_paragraphs,
    "upper_lower": upper_lower,
    "article_deletion": article_deletion,
    "number_swap": number_swap,
    "misspelling": misspelling,
    "synonym_swap": synonym_swap,
}
