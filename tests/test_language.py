"""Language identification: which texts the detector declines to judge."""

import pytest

from byline.decision.trained_detector import TrainedDetector
from byline.input.language import (
    CONFIDENT_PROBABILITY,
    LanguageGuess,
    dominant_languages,
    identify_language,
    is_unsupported,
)

ENGLISH = (
    "The council approved the new budget on Tuesday after a long debate about bus routes, "
    "and officials said the first services would run next spring."
)
FRENCH = (
    "Le conseil municipal a approuvé mardi le nouveau budget après un long débat sur les lignes "
    "de bus, et les responsables ont indiqué que les premiers services circuleraient au printemps."
)
GERMAN = (
    "Der Stadtrat hat am Dienstag nach einer langen Debatte über die Buslinien den neuen Haushalt "
    "beschlossen, und die ersten Verbindungen sollen im Frühjahr fahren."
)


@pytest.mark.parametrize(("text", "code"), [(ENGLISH, "en"), (FRENCH, "fr"), (GERMAN, "de")])
def test_identifies_news_sentences(text, code):
    guess = identify_language(text)
    assert guess.code == code
    assert guess.confident and guess.probability >= CONFIDENT_PROBABILITY


def test_only_a_confident_guess_outside_the_trained_languages_is_unsupported():
    assert is_unsupported(LanguageGuess("fr", 0.99), ["en"])
    assert not is_unsupported(LanguageGuess("en", 0.99), ["en"])
    assert not is_unsupported(LanguageGuess("fr", 0.99), ["en", "fr"])
    # an unsure guess (degenerate English: lists of names, captions) is scored as usual
    assert not is_unsupported(LanguageGuess("pcm", 0.5), ["en"])
    # "no linguistic content" is not a language
    assert not is_unsupported(LanguageGuess("zxx", 0.95), ["en"])
    # a detector that does not record its languages scores everything
    assert not is_unsupported(LanguageGuess("fr", 0.99), None)


def test_dominant_languages_ignore_rare_ones():
    assert dominant_languages([ENGLISH] * 30 + [FRENCH]) == ["en"]
    assert dominant_languages([ENGLISH] * 10 + [GERMAN] * 5) == ["en", "de"]
    assert dominant_languages([]) == []


def test_shipped_detector_records_english():
    assert TrainedDetector.load().languages == ["en"]
