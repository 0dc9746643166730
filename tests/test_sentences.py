"""Sentence splitting: exact offsets, and pySBD only ever sees bounded pieces of a long paragraph."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pysbd
import pytest

from byline.input.normalise import normalise_text
from byline.input.sentences import MAX_SEGMENT_CHARS, split_sentences

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "news-dev.jsonl"

PROSE = (
    "Mr. Smith, 52, told the U.S. Senate on Tuesday that the plan would cost $1.5 billion. "
    '"We are not there yet," he said (the committee disagreed). Dr. Jones left at 3 p.m. and did not comment! '
    "Was it too late? Officials in Washington, D.C. said the vote would take place on Jan. 5 at the latest. "
)


def whole_paragraph_sentences(text: str) -> list[tuple[int, str]]:
    """The splitting before pieces: pySBD over each whole paragraph."""
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    spans = []
    offset = 0
    for paragraph in text.split("\n"):
        for piece in segmenter.segment(paragraph) if paragraph else []:
            stripped = piece.sent.strip()
            if stripped:
                spans.append((offset + piece.start + len(piece.sent) - len(piece.sent.lstrip()), stripped))
        offset += len(paragraph) + 1
    return spans


def check_spans(text: str) -> None:
    spans = split_sentences(text)
    for span in spans:
        assert text[span.start : span.end] == span.text == span.text.strip()
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    # Every non-space character is in exactly one sentence.
    assert "".join("".join(s.text.split()) for s in spans) == "".join(text.split())


@pytest.fixture
def pysbd_inputs(monkeypatch) -> list[int]:
    """Records the length of every text pySBD is asked to split."""
    lengths: list[int] = []
    original = pysbd.Segmenter.segment

    def segment(self, text):
        lengths.append(len(text))
        return original(self, text)

    monkeypatch.setattr(pysbd.Segmenter, "segment", segment)
    return lengths


@pytest.mark.parametrize(
    "text",
    [
        (PROSE * 200).strip(),  # one paragraph of ordinary prose, no line breaks
        ("(This is a sentence.) " * 2500).strip(),
        "(" * 20_000 + "word" + ")" * 20_000,  # no whitespace at all: cut at the limit
        "\n\n".join([(PROSE * 60).strip(), "A short paragraph.", ("x" * 30 + " ") * 400]),
    ],
    ids=["one-line-prose", "sentences-in-brackets", "nested-brackets", "mixed"],
)
def test_long_paragraphs_reach_pysbd_in_bounded_pieces_with_exact_offsets(text, pysbd_inputs):
    check_spans(text)
    assert pysbd_inputs and max(pysbd_inputs) <= MAX_SEGMENT_CHARS
    # Pieces overlap by at most half of one: the work is linear in the text's length.
    assert sum(pysbd_inputs) <= 2 * len(text) + MAX_SEGMENT_CHARS


def test_a_long_paragraph_of_ordinary_sentences_splits_as_a_whole_one():
    text = normalise_text(PROSE * 150)
    assert len(text) > 4 * MAX_SEGMENT_CHARS
    assert [(s.start, s.text) for s in split_sentences(text)] == whole_paragraph_sentences(text)


def test_ordinary_articles_split_as_before():
    texts = [
        normalise_text(
            PROSE * 3 + '\n\nShe said: "No." Then she left.\n\n\nIt was 5 p.m. in St. Louis, Mo. on Friday.'
        ),
        normalise_text("Headline without a full stop\nFirst paragraph. Second sentence.\n\nLast one"),
    ]
    if DEV.exists():
        with DEV.open(encoding="utf-8") as lines:
            texts += [normalise_text(json.loads(line)["text"]) for line in itertools.islice(lines, 40)]
    for text in texts:
        assert [(s.start, s.text) for s in split_sentences(text)] == whole_paragraph_sentences(text)
        check_spans(text)
