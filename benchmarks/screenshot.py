"""Screenshot of the web page with the bundled example checked by the real detector.

    python -m benchmarks.screenshot      # -> benchmarks/results/page.png and page.json

Starts `byline serve` on 127.0.0.1, opens the page in Debian's headless
Chromium (driven by Playwright, which downloads no browser), pastes
examples/machine-written.txt, waits for the result, and saves a full-page
screenshot plus the time from click to result.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from benchmarks.local_server import byline_server
from benchmarks.scored_texts import RESULTS, ROOT

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        sys.exit("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    example = (ROOT / "examples" / "machine-written.txt").read_text(encoding="utf-8")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with byline_server([]) as (url, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(url + "/")
            page.fill("#article-text", example)
            started = time.monotonic()
            page.click("#check-button")
            page.wait_for_selector("#result:not([hidden])", timeout=300_000)
            seconds = time.monotonic() - started
            page.wait_for_timeout(800)  # let the smooth scroll settle
            page.evaluate("window.scrollTo(0, 0)")
            figures = {
                "verdict": page.inner_text("#verdict"),
                "ai_probability": page.inner_text("#probability"),
                "highlighted_sentences": page.locator("#highlighted mark").count(),
                "scored_sentences": page.locator("#highlighted mark[data-probability]").count(),
                "click_to_result_s": round(seconds, 2),
            }
            page.screenshot(path=str(RESULTS / "page.png"), full_page=True)
        finally:
            browser.close()
    (RESULTS / "page.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"screenshot: {RESULTS / 'page.png'}")


if __name__ == "__main__":
    main()
