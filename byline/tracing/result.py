"""What ``trace`` returns: the likely sources of an article and how it aligns with the best one.

The same structure is returned by ``SourceIndex.trace``, printed by
``byline trace --json`` and served as ``POST /v1/trace``.
``TRACE_SCHEMA_VERSION`` changes whenever a field is renamed or removed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

TRACE_SCHEMA_VERSION = 1


@dataclass
class SourceMatch:
    """A candidate source. ``score`` (0-1, higher is closer) ranks the matches;
    ``likely_source`` says whether it is high enough to call this article a
    version of that source (the threshold is ``LIKELY_SOURCE_SCORE`` in :mod:`byline.tracing.index`)."""

    id: str
    title: str | None
    url: str | None
    date: str | None
    score: float
    likely_source: bool
    article_similarity: float  # cosine of the two articles' mean sentence vectors
    supported_share: float  # share of the article's sentences (by characters) with support in this source
    shared_facts: float  # share of the article's numbers and names that also occur in this source


@dataclass
class SupportingSentence:
    """A source sentence that supports an article sentence: ``source_text[start:end] == text``."""

    text: str
    start: int
    end: int
    similarity: float


@dataclass
class AlignedSentence:
    """One sentence of the article (``article_text[start:end] == text``) and its support.

    ``supported`` is false for a sentence whose best source sentence is less
    similar than ``Alignment.support_threshold``: an added claim or a changed
    statement. ``new_numbers``/``new_names`` are numbers and capitalised names in
    this sentence that its supporting source sentences (or, for an unsupported
    sentence, the whole source) do not contain: changed or added facts.
    """

    text: str
    start: int
    end: int
    supported: bool
    similarity: float
    sources: list[SupportingSentence] = field(default_factory=list)
    new_numbers: list[str] = field(default_factory=list)
    new_names: list[str] = field(default_factory=list)


@dataclass
class Alignment:
    """The article sentence by sentence against its best-matching source."""

    source_id: str
    support_threshold: float
    sentences: list[AlignedSentence]
    supported_share: float  # of the article's characters, in supported sentences
    unsupported_sentences: int
    changed_facts: int  # sentences with a new number or name
    source_reused_share: float  # of the source's characters, in sentences that some article sentence matches
    source_sentences_reused: int
    source_sentences: int


@dataclass
class TraceResult:
    """Where an article most likely came from, what changed, and whether a machine wrote it."""

    matches: list[SourceMatch]
    alignment: Alignment | None
    verdict: dict[str, Any] | None  # DetectionResult.to_dict() of the article; None when not asked for
    source: str = "<text>"
    title: str | None = None
    text: str = ""
    index: dict[str, Any] = field(default_factory=dict)  # path, articles, encoder
    version: str = ""
    schema_version: int = TRACE_SCHEMA_VERSION

    @property
    def best(self) -> SourceMatch | None:
        return self.matches[0] if self.matches else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
