"""Hostile text through the whole article path: lone surrogates and texts that are not prose."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from scan_support import article, build_tiny_detector

from byline.input import article_from_text, normalise_text
from byline.input.normalise import replace_lone_surrogates
from byline.input.prose import not_prose_reason

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "news-dev.jsonl"
PROSE = (
    "Mr. Smith, 52, told the Senate on Tuesday that the plan would cost $1.5 billion. "
    '"We are not there yet," he said, and the committee disagreed. Officials said the vote would take place '
    "in January at the latest, after a review of the figures by the finance ministry and the auditors."
)
NOT_PROSE = {
    "one-word": "word " * 400,
    "one-sentence": "The cat sat on the mat. " * 100,
    "digits": " ".join(str(n) for n in range(400)),
    "cjk": "漢字 " * 300,
}


@pytest.fixture(scope="module")
def tiny_detector(tiny_model_dir, tmp_path_factory):
    from byline import Detector

    return Detector(build_tiny_detector(tiny_model_dir, tmp_path_factory.getbasetemp() / "tiny-detector"))


def test_lone_surrogates_become_replacement_characters_and_are_counted():
    assert replace_lone_surrogates("a\ud800b \udfffc") == ("a\ufffdb \ufffdc", 2)
    # A pair of surrogates is one character, not two errors.
    assert replace_lone_surrogates("smile \ud83d\ude00") == ("smile \U0001f600", 0)
    assert replace_lone_surrogates("clean text") == ("clean text", 0)
    assert normalise_text("Broken \udc80 text.") == "Broken \ufffd text."
    assert article_from_text("Broken \udc80 text \ud800.").replaced_surrogates == 2


def test_a_lone_surrogate_goes_through_the_detector(tiny_detector):
    text = article(7, 8).replace(" the ", " the \ud800 ", 1)
    result = tiny_detector.detect(text)
    assert result.verdict in ("ai", "human")
    assert result.repairs["surrogates"] == 1
    assert "\ufffd" in result.text and "\ud800" not in result.to_json()


@pytest.mark.parametrize("text", NOT_PROSE.values(), ids=NOT_PROSE.keys())
def test_texts_that_are_not_prose_get_no_verdict(text, tiny_detector):
    assert not_prose_reason(text)
    result = tiny_detector.detect(text)
    assert result.verdict == "not_prose"
    assert result.ai_probability is None and result.ai_share is None
    assert result.reason == not_prose_reason(normalise_text(text))
    assert result.sentences and all(s.ai_probability is None for s in result.sentences)


def test_ordinary_articles_are_prose(tiny_detector):
    texts = [PROSE, PROSE * 20, article(3, 9)]
    if DEV.exists():
        with DEV.open(encoding="utf-8") as lines:
            texts += [json.loads(line)["text"] for line in itertools.islice(lines, 100)]
    assert [not_prose_reason(normalise_text(text)) for text in texts] == [None] * len(texts)
    assert tiny_detector.detect(article(3, 9)).verdict in ("ai", "human")
