"""Bounds on the HTML that Byline hands to trafilatura for extraction.

trafilatura's time (and that of lxml's parser under it) grows with the square
of the number of elements in a page, and with the square of the number of
attributes on one element: 128,000 ``<p>word</p>`` took a minute, 300,000
attributes on one element several. A page past either limit below is refused
before it is parsed. The limits are far above any news page (a few thousand
elements, and tens of attributes on the busiest element) and keep extraction
within seconds whatever the page.

The counts come from one pass of two regular expressions that follow how an
HTML5 parser reads a start tag (a quoted attribute value may hold ``>`` or
``<``), so a page cannot hide attributes from the count. Text that only looks
like a tag (``a<b`` in a script) counts too: the counts are upper bounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from byline.errors import InputError

#: Start tags a page may have.
MAX_HTML_ELEMENTS = 30_000
#: Attributes one element may have.
MAX_HTML_ATTRIBUTES_PER_ELEMENT = 1_000

# An attribute: a name, then optionally "=" and a quoted or unquoted value.
_ATTRIBUTE = r"""[^\s/>][^\s/>=]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]*))?"""
# A start tag's name, then its attributes (group 1) up to ">" or the end of the text.
_START_TAG = re.compile(rf"<[A-Za-z][^\s/>]*((?:[\s/]*{_ATTRIBUTE})*)")
_ATTRIBUTE_PATTERN = re.compile(_ATTRIBUTE)


@dataclass(frozen=True)
class HtmlCounts:
    """Upper bounds on a page's elements and on the attributes of its busiest element."""

    elements: int
    most_attributes: int


def count_html(html: str, stop_after_elements: int | None = None) -> HtmlCounts:
    """Count the start tags of ``html`` and the attributes of each, in time linear in its length.

    With ``stop_after_elements``, stops counting once there are more elements than that.
    """
    elements = most_attributes = 0
    for tag in _START_TAG.finditer(html):
        elements += 1
        attributes = sum(1 for _ in _ATTRIBUTE_PATTERN.finditer(html, tag.start(1), tag.end(1)))
        most_attributes = max(most_attributes, attributes)
        if stop_after_elements is not None and elements > stop_after_elements:
            break
    return HtmlCounts(elements, most_attributes)


def check_html_bounds(html: str, source: str) -> None:
    """Raise :class:`~byline.errors.InputError` naming ``source`` and the limit when ``html``
    has too many elements, or an element with too many attributes, to extract in bounded time."""
    counts = count_html(html, stop_after_elements=MAX_HTML_ELEMENTS)
    if counts.elements > MAX_HTML_ELEMENTS:
        raise InputError(
            source,
            f"the HTML has more than {MAX_HTML_ELEMENTS:,} elements, the most Byline extracts an article from "
            "(news pages have a few thousand)",
        )
    if counts.most_attributes > MAX_HTML_ATTRIBUTES_PER_ELEMENT:
        raise InputError(
            source,
            f"an HTML element has {counts.most_attributes:,} attributes; Byline extracts articles only from "
            f"pages with at most {MAX_HTML_ATTRIBUTES_PER_ELEMENT:,} on any element",
        )
