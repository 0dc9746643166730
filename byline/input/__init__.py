"""Input layer: reading articles (files, stdin, URLs, HTML) and normalising their text."""

from byline.input.normalise import normalise_text, reflow, word_count
from byline.input.reading import (
    Article,
    article_from_bytes,
    article_from_html,
    article_from_text,
    read_article,
)
from byline.input.repair import repair_text, scoring_text

__all__ = [
    "Article",
    "article_from_bytes",
    "article_from_html",
    "article_from_text",
    "normalise_text",
    "read_article",
    "reflow",
    "repair_text",
    "scoring_text",
    "word_count",
]
