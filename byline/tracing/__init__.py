"""Tracing: find the human article a rewrite was made from, and show what changed.

    from byline.tracing import SourceIndex
    index = SourceIndex.create("my-index"); index.add_sources("articles.jsonl"); index.close()
    result = SourceIndex.open("my-index").trace(text)   # TraceResult, .to_dict() for JSON

This layer reads articles (input) and embeds sentences (a sentence encoder); it
never imports the interfaces. A server answers ``POST /v1/trace`` with
``index.trace(text, detector=detector).to_dict()``.
"""

from byline.tracing.index import IndexReport, SourceIndex
from byline.tracing.result import AlignedSentence, Alignment, SourceMatch, SupportingSentence, TraceResult
from byline.tracing.sources import SourceArticle, SourceProblem, read_sources

__all__ = [
    "AlignedSentence",
    "Alignment",
    "IndexReport",
    "SourceArticle",
    "SourceIndex",
    "SourceMatch",
    "SourceProblem",
    "SupportingSentence",
    "TraceResult",
    "read_sources",
]
