"""HTML extraction refuses pages whose element or attribute counts would make it slow, before parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura

from byline.errors import InputError
from byline.input import article_from_html
from byline.input.html_bounds import MAX_HTML_ATTRIBUTES_PER_ELEMENT, MAX_HTML_ELEMENTS, count_html

FIXTURE = Path(__file__).parent / "fixtures" / "tracing" / "sources" / "chess-prodigy.html"
PARAGRAPH = (
    "The council said on Tuesday that the budget would be cut by a tenth, and the mayor, who had "
    "opposed the plan for months, agreed to it after a long meeting with the finance committee."
)


def busy_news_page() -> str:
    """A heavy but ordinary news page: navigation, an article, related links, scripts, a footer."""
    navigation = "".join(
        f'<li class="nav-item" data-section="s{i}"><a href="/section/{i}" class="nav-link">Section {i}</a></li>'
        for i in range(300)
    )
    article = "".join(
        f'<p class="story-body__paragraph" data-index="{i}">{PARAGRAPH} <a href="/story/{i}">Read more</a> '
        f"<span class='byline'>By <b>Jane Doe</b></span></p>"
        for i in range(60)
    )
    related = "".join(
        f'<div class="card"><img src="/img/{i}.jpg" alt="Photo {i}" width="300" height="200" loading="lazy">'
        f'<h3><a href="/related/{i}">Related story {i}</a></h3></div>'
        for i in range(200)
    )
    svg = "<svg " + " ".join(f'data-x{i}="{i}"' for i in range(40)) + "><path d='M0 0L10 10'/></svg>"
    script = "<script>for (var i = 0; i<n; i++) { if (a<b && c<d) { x = '<div>'; } }</script>" * 50
    return (
        "<!doctype html><html><head><title>Council backs budget cut</title>" + script + "</head><body>"
        f"<nav><ul>{navigation}</ul></nav>{svg}<article><h1>Council backs budget cut</h1>{article}</article>"
        f"<aside>{related}</aside><footer>Copyright Example News</footer></body></html>"
    )


@pytest.fixture
def no_extraction(monkeypatch):
    """Fails the test if the page reaches trafilatura."""

    def refuse(*args, **kwargs):
        raise AssertionError("the page reached trafilatura")

    monkeypatch.setattr(trafilatura, "bare_extraction", refuse)


def test_a_flood_of_elements_is_refused_before_parsing(no_extraction):
    html = "<html><body>" + "<p>word</p>" * MAX_HTML_ELEMENTS + "</body></html>"
    with pytest.raises(InputError) as error:
        article_from_html(html, source="flood.html")
    assert str(error.value).startswith("flood.html: ")
    assert f"{MAX_HTML_ELEMENTS:,} elements" in str(error.value)


@pytest.mark.parametrize("separator", [" ", "\n", "/", ' q=">" ', " r='<p>' "])
def test_an_element_with_too_many_attributes_is_refused_before_parsing(separator, no_extraction):
    # Quoted values holding ">" or "<" must not hide the attributes after them from the count.
    attributes = separator.join(f'a{i}="x"' for i in range(MAX_HTML_ATTRIBUTES_PER_ELEMENT + 1))
    html = f"<html><body><div {attributes}><p>{PARAGRAPH}</p></div></body></html>"
    with pytest.raises(InputError) as error:
        article_from_html(html, source="attributes.html")
    assert str(error.value).startswith("attributes.html: ")
    assert f"{MAX_HTML_ATTRIBUTES_PER_ELEMENT:,}" in str(error.value)


def test_counts_follow_how_a_parser_reads_tags():
    assert count_html("<p>a</p><div class='x' id=y hidden>b</div>") == count_html("<p>a</p><div a b c>")
    assert count_html("<div a=\">\" b c='<x' d>").most_attributes == 4
    assert count_html("no tags < here, 3 < 4").elements == 0


def test_real_and_busy_pages_are_far_below_the_limits():
    for html in (FIXTURE.read_text(encoding="utf-8"), busy_news_page()):
        counts = count_html(html)
        assert counts.elements * 10 < MAX_HTML_ELEMENTS
        assert counts.most_attributes * 10 < MAX_HTML_ATTRIBUTES_PER_ELEMENT
    article = article_from_html(busy_news_page(), source="busy.html")
    assert article.title == "Council backs budget cut"
    assert "finance committee" in article.text
