"""Text normalisation applied to every article before scoring.

Evasion tricks that change bytes but not what a reader sees (zero-width
characters, Cyrillic or Greek look-alike letters, odd Unicode spaces) must not
move the score, and layout that depends on where a text was scraped rather than
on who wrote it must not either. So every article goes through
:func:`normalise_text` and the scorers see :func:`reflow` of that.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that render (near-)identically to a Latin letter. Mapped only in
# texts that are mostly Latin script, so genuine Greek or Russian is untouched.
HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "А": "A",
    "В": "B",
    "Е": "E",
    "Ѕ": "S",
    "І": "I",
    "Ј": "J",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "Х": "X",
    "У": "Y",
    "Ԛ": "Q",
    "Ԝ": "W",
    "Ү": "Y",
    "Һ": "h",
    "а": "a",
    "с": "c",
    "е": "e",
    "ѕ": "s",
    "і": "i",
    "ј": "j",
    "о": "o",
    "р": "p",
    "х": "x",
    "у": "y",
    "ԁ": "d",
    "һ": "h",
    "ԛ": "q",
    "ԝ": "w",
    "ү": "y",
    "ӏ": "l",
    "ѵ": "v",
    "ɡ": "g",
    # Greek
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
    "ο": "o",
    "ν": "v",
    "α": "a",
    "ι": "i",
    "κ": "k",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ϲ": "c",
    "ϳ": "j",
    # Latin look-alikes outside ASCII that NFKC keeps
    "ı": "i",
    "ȷ": "j",
    "ℓ": "l",
}
_HOMOGLYPH_TABLE = str.maketrans(HOMOGLYPHS)

# Spaces NFKC does not already fold to U+0020.
_SPACE_CHARS = (
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t\v\f"
)
_LINE_BREAKS = "\u2028\u2029\u0085"

# Typographic quotes depend on the publishing system, not on the writer.
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)

# "word.Word": sentences glued together when a dataset or scraper dropped the space.
_GLUED_SENTENCE = re.compile(r"(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
_SPACES = re.compile(r"[ ]{2,}")
_MANY_NEWLINES = re.compile(r"\n{3,}")


# UTF-16 surrogates: a str can hold them (JSON "\\ud800", a file decoded with
# "surrogateescape"), but they are not characters, and the tokenizers refuse them.
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_lone_surrogates(text: str) -> tuple[str, int]:
    """Join each surrogate pair into the character it encodes and replace every
    unpaired surrogate with U+FFFD; return the text and how many were replaced."""
    if not _SURROGATE.search(text):
        return text, 0
    text = _SURROGATE_PAIR.sub(
        lambda pair: pair.group().encode("utf-16", "surrogatepass").decode("utf-16"), text
    )
    return _SURROGATE.subn("\ufffd", text)


def _is_invisible(char: str) -> bool:
    """Format and control characters that render as nothing (ZWSP, ZWJ, BOM, soft hyphen...)."""
    if char in "\n":
        return False
    category = unicodedata.category(char)
    return category in ("Cf", "Cc", "Co", "Cn")


def _mostly_latin(text: str) -> bool:
    latin = other = 0
    for char in text:
        if char.isalpha():
            if char.isascii():
                latin += 1
            elif char not in HOMOGLYPHS:
                other += 1
    return latin > 0 and latin >= 4 * other


def normalise_text(text: str) -> str:
    """Return the canonical form of an article.

    Steps: unpaired UTF-16 surrogates to U+FFFD (:func:`replace_lone_surrogates`);
    line endings to ``\\n``; Unicode NFKC; every Unicode space to a
    plain space; invisible characters removed; look-alike letters mapped to
    Latin (only in mostly-Latin texts); a space restored between glued
    sentences (``end.Next``); curly quotes straightened; runs of spaces collapsed, lines stripped, and
    paragraphs separated by exactly one blank line.
    """
    text, _ = replace_lone_surrogates(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text)
    for char in _LINE_BREAKS:
        text = text.replace(char, "\n")
    text = text.translate({ord(c): " " for c in _SPACE_CHARS})
    text = "".join(c for c in text if not _is_invisible(c))
    if _mostly_latin(text):
        text = text.translate(_HOMOGLYPH_TABLE)
    text = text.translate(_QUOTES)
    text = _GLUED_SENTENCE.sub(" ", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


def reflow(text: str) -> tuple[str, list[int]]:
    """Join a normalised text into one paragraph.

    Returns the reflowed text and, for each of its characters, the offset of
    the same character in ``text``, so that spans found in the reflowed text
    (sentences, tokens) can be reported against the text the user sees.
    Paragraph layout follows the outlet, not the author, and is hidden from the
    scorers this way.
    """
    chars: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        if char == "\n":
            if chars and chars[-1] == " ":
                continue
            char = " "
        chars.append(char)
        offsets.append(index)
    return "".join(chars), offsets


def word_count(text: str) -> int:
    """Number of whitespace-separated words that contain a letter or digit."""
    return sum(1 for token in text.split() if any(c.isalnum() for c in token))
