"""The web page in real headless Chromium against a test-double detector (fast).

What the page does with a result: offsets, files, too-short texts, the API key
and a busy server. The end-to-end test with the real detector is in
test_server_live.py.

Waits use locators, not wait_for_function: the page's Content-Security-Policy
forbids eval, which Playwright's string predicates need.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from server_support import FakeDetector, chromium_page, require_browser, serve_in_thread

from byline.input import article_from_text
from byline.interfaces.server import ServerSettings, create_app
from byline.interfaces.server.settings import MAX_BATCH_DOCUMENTS

EXAMPLE = (Path(__file__).parent.parent / "examples" / "machine-written.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page_server():
    require_browser()
    with serve_in_thread(create_app(FakeDetector(), ServerSettings(api_key=None))) as url:
        yield url


def highlighted_text(page) -> str:
    return page.eval_on_selector("#highlighted", "element => element.textContent")


def test_sentences_are_highlighted_at_the_right_offsets_even_after_emoji(page_server):
    # Python counts code points, JavaScript UTF-16 units: an emoji before the text would shift
    # every highlight by one if the page mixed them up.
    text = "\U0001f4f0 Breaking \U0001f68c news. " + EXAMPLE
    expected = FakeDetector().detect_many([article_from_text(text)])[0]
    with chromium_page() as (page, messages):
        page.goto(page_server + "/")
        page.fill("#article-text", text)
        page.click("#check-button")
        page.wait_for_selector("#result:not([hidden])", timeout=30_000)
        marks = page.eval_on_selector_all("#highlighted mark", "marks => marks.map(m => m.textContent)")
        assert marks == [s.text for s in expected.sentences]
        assert highlighted_text(page) == expected.text
        classes = page.eval_on_selector_all("#highlighted mark", "marks => marks.map(m => m.className)")
        assert all(c.split()[-1] in {"s0", "s1", "s2", "s3", "s4"} for c in classes)
        assert page.inner_text("#verdict") in ("Machine-written", "Human-written")
        assert page.locator("#signals li").count() == len(expected.signals)
        assert not [m for m in messages if m.startswith(("error", "pageerror"))], messages


def test_an_html_file_is_sent_as_html_and_short_texts_say_so(page_server, tmp_path):
    paragraphs = "".join(f"<p>{p}</p>" for p in EXAMPLE.split("\n\n"))
    page_file = tmp_path / "story.html"
    page_file.write_text(
        f"<html><head><title>Bus routes</title></head><body><article>{paragraphs}</article></body></html>"
    )
    with chromium_page() as (page, _):
        page.goto(page_server + "/")
        page.set_input_files("#file-input", str(page_file))
        page.locator("#file-note", has_text="story.html").wait_for()
        assert page.is_disabled("#article-text")
        page.click("#check-button")
        page.wait_for_selector("#result:not([hidden])", timeout=30_000)
        assert "Title: Bus routes" in page.inner_text("#model")
        assert "Source: story.html" in page.inner_text("#model")
        assert "<p>" not in highlighted_text(page)

        page.click("#clear-file")
        page.fill("#article-text", "Far too short to judge.")
        page.click("#check-button")
        page.locator("#verdict", has_text="Too short to judge").wait_for()
        assert "No verdict" in page.inner_text("#reason")
        assert page.locator("#highlighted mark.s-none").count() == 1


def test_the_page_asks_for_the_api_key_when_the_server_needs_one():
    require_browser()
    settings = ServerSettings(api_key="page-key")
    with serve_in_thread(create_app(FakeDetector(), settings)) as url, chromium_page() as (page, _):
        page.goto(url + "/")
        page.wait_for_selector("#key-option:not([hidden])")
        page.fill("#article-text", EXAMPLE)
        page.click("#check-button")
        page.locator("#status", has_text="API key").wait_for()
        assert page.locator("#result").is_hidden()
        page.fill("#api-key", "page-key")
        page.click("#check-button")
        page.wait_for_selector("#result:not([hidden])", timeout=30_000)


def test_the_page_reports_a_busy_server():
    require_browser()
    gate = threading.Event()
    detector = FakeDetector(gate=gate)
    settings = ServerSettings(api_key=None, queue_documents=MAX_BATCH_DOCUMENTS)
    with serve_in_thread(create_app(detector, settings)) as url, chromium_page() as (page, _):
        import httpx

        batch = {"documents": [{"text": EXAMPLE}] * MAX_BATCH_DOCUMENTS}
        holder = threading.Thread(target=lambda: httpx.post(url + "/v1/detect/batch", json=batch, timeout=60))
        holder.start()
        try:
            assert detector.started.wait(30)
            page.goto(url + "/")
            page.fill("#article-text", EXAMPLE)
            page.click("#check-button")
            page.locator("#status", has_text="busy").wait_for()
            assert "try again in" in page.inner_text("#status")
        finally:
            gate.set()
            holder.join(60)


def test_swagger_ui_runs_under_the_content_security_policy(page_server):
    # /docs carries the same strict policy as the page: its one inline script is allowed by hash
    with chromium_page() as (page, messages):
        page.goto(page_server + "/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
        assert "Byline" in page.locator(".swagger-ui .info .title").inner_text()
        assert not [m for m in messages if m.startswith(("error", "pageerror"))], messages
