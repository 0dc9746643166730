"""Which language an article is written in.

A detector trained on English news has never seen French or Russian text: its
language models find such text unfamiliar in other ways than they find human
writing unfamiliar, and its spelling repair "corrects" every foreign word, so a
probability for it means nothing. The detector therefore gives no verdict for a
text that is confidently in a language it was not trained on.

The identifier is py3langid: langid.py's naive Bayes over byte n-grams, with the
model it bundles (trained across several domains, news among them); it is cheap
next to the language models (benchmarks/languages.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

#: A text is taken to be in another language only at this probability or more.
#: Degenerate English (lists of names, repeated captions) gets low-confidence
#: guesses such as Nigerian Pidgin at 0.03-0.54; genuinely Russian text gets 1.0.
CONFIDENT_PROBABILITY = 0.9

#: Codes that are not a language: no linguistic content, undetermined.
_NOT_A_LANGUAGE = {"zxx", "und"}


@dataclass(frozen=True)
class LanguageGuess:
    """The most likely language of a text: an ISO 639 code and its probability."""

    code: str
    probability: float

    @property
    def confident(self) -> bool:
        return self.code not in _NOT_A_LANGUAGE and self.probability >= CONFIDENT_PROBABILITY


@lru_cache(maxsize=1)
def _identifier():
    # Imported and loaded on first use: the model takes about a second to decompress.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify_language(text: str) -> LanguageGuess:
    """The most likely language of ``text`` with its probability (normalised over the identifier's languages)."""
    code, probability = _identifier().classify(text)
    return LanguageGuess(code=str(code), probability=float(probability))


def is_unsupported(guess: LanguageGuess, languages: Iterable[str] | None) -> bool:
    """True when the text is confidently in a language outside ``languages``
    (``None``: every language is accepted)."""
    if languages is None:
        return False
    return guess.confident and guess.code not in set(languages)


def dominant_languages(texts: Iterable[str], min_share: float = 0.05) -> list[str]:
    """The languages that make up at least ``min_share`` of ``texts`` (confident guesses
    only), most frequent first: what a detector trained on these texts knows."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        total += 1
        guess = identify_language(text)
        if guess.confident:
            counts[guess.code] += 1
    return [code for code, n in counts.most_common() if total and n / total >= min_share]
