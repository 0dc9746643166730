"""Whether a text is prose that a language model's statistics can judge.

A text that repeats one word, or one sentence, over and over, or that is all
numbers, has token statistics unlike both human and machine news: the models
soon predict every token, and the classifier's answer for it means nothing (a
probe of "word word word ..." got the verdict human with every sentence
machine-like). Such a text gets no verdict, as a too-short one does.

Two measures, each far below what any real article has: the share of distinct
words among the first :data:`VARIETY_WINDOW_WORDS` words (lexical variety; over a
fixed window, as longer texts repeat more words), and the share of words that
have a letter. How far below the corpus's articles the bounds sit is in
benchmarks/README.md (Hostile input).
"""

from __future__ import annotations

import re

from byline.wording import counted

#: Lexical variety is measured over the first this many words.
VARIETY_WINDOW_WORDS = 1_000
#: Fewer distinct words than this share of the window's words: the text repeats itself.
MIN_DISTINCT_WORD_SHARE = 0.03
#: Fewer distinct words than this, whatever the text's length.
MIN_DISTINCT_WORDS = 10
#: Fewer words with a letter than this share: numbers or symbols, not prose.
MIN_LETTER_WORD_SHARE = 0.1

_EDGE_PUNCTUATION = re.compile(r"^\W+|\W+$")


def not_prose_reason(text: str) -> str | None:
    """Why ``text`` is not prose a detector can judge (a sentence for the result's ``reason``), or None.

    Words are whitespace-separated tokens with a letter or digit, as in
    :func:`~byline.input.normalise.word_count`; they are compared in lower case
    without the punctuation around them.
    """
    words = [token for token in text.split() if any(c.isalnum() for c in token)]
    if not words:
        return None  # no words at all: too short, which is decided elsewhere
    window = words[:VARIETY_WINDOW_WORDS]
    distinct = len({_EDGE_PUNCTUATION.sub("", word.lower()) for word in window})
    if distinct < MIN_DISTINCT_WORDS or distinct < MIN_DISTINCT_WORD_SHARE * len(window):
        return (
            f"the text repeats itself: its first {counted(len(window), 'word')} have only "
            f"{counted(distinct, 'distinct word')}, where prose has at least {MIN_DISTINCT_WORDS} and "
            f"{MIN_DISTINCT_WORD_SHARE:.0%} of its words; such a text is not prose that Byline can judge, "
            "so it gives no verdict"
        )
    with_letters = sum(1 for word in words if any(c.isalpha() for c in word))
    if with_letters < MIN_LETTER_WORD_SHARE * len(words):
        return (
            f"only {counted(with_letters, 'word')} of {len(words):,} have a letter (numbers or symbols, "
            f"where prose has at least {MIN_LETTER_WORD_SHARE:.0%}); such a text is not prose that Byline "
            "can judge, so it gives no verdict"
        )
    return None
