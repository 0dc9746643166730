"""What Byline returns for one article: the verdict and the evidence behind it.

The same structure is returned by the Python API, printed by
``byline check --json`` and served by the REST API. ``SCHEMA_VERSION``
changes whenever a field is renamed or removed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1

#: ``too_short``, ``not_prose`` (a text that repeats itself, or numbers: see
#: :mod:`byline.input.prose`) and ``unsupported_language`` come without a probability;
#: ``reason`` says why.
Verdict = Literal["ai", "human", "too_short", "not_prose", "unsupported_language"]


@dataclass
class SentenceScore:
    """One sentence: ``text == article_text[start:end]``.

    ``evidence`` says what its probability rests on: ``language_model`` (token
    statistics plus style and wording) or ``text_only`` (style and wording, for
    sentences past the language model's token budget); ``None`` when there is
    no probability (a text too short to judge).
    """

    text: str
    start: int
    end: int
    ai_probability: float | None
    evidence: Literal["language_model", "text_only"] | None = None


@dataclass
class Signal:
    """One piece of evidence behind the verdict, in plain words.

    ``contribution`` is the feature's push on the log-odds (positive: towards
    machine-written).
    """

    name: str
    value: float
    contribution: float
    direction: Literal["ai", "human"]
    description: str


@dataclass
class DetectionResult:
    """Verdict and evidence for one article.

    ``threshold`` is the probability above which the verdict is ``ai``, chosen
    so that about ``fpr_target`` of human news is flagged. ``ai_share`` is the
    fraction of the text (by characters) in sentences that read as
    machine-written.
    """

    ai_probability: float | None
    verdict: Verdict
    threshold: float
    fpr_target: float
    model: str
    n_tokens: int
    n_scored_tokens: int
    n_words: int
    ai_share: float | None
    sentences: list[SentenceScore] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    reason: str | None = None
    #: ISO 639 code of the text's language when it was identified with confidence (else None).
    language: str | None = None
    # Spelling and capitalisation noise undone before scoring (byline/input/repair.py):
    # non-zero only when the noise was systematic, a sign that the text was tampered with;
    # and unpaired UTF-16 surrogates replaced with U+FFFD (byline/input/normalise.py).
    repairs: dict[str, int] = field(default_factory=lambda: {"spelling": 0, "case": 0, "surrogates": 0})
    source: str = "<text>"
    title: str | None = None
    text: str = ""
    version: str = ""
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DetectionResult":
        values = dict(data)
        values["sentences"] = [SentenceScore(**s) for s in data.get("sentences", [])]
        values["signals"] = [Signal(**s) for s in data.get("signals", [])]
        return cls(**values)
