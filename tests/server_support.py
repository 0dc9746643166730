"""Helpers for the server tests: a fast stand-in detector and a loopback uvicorn runner.

``FakeDetector`` has the interface the server uses (``detect_many``, ``info``)
and returns real :class:`DetectionResult` objects built from the real input
layer (normalisation, sentence splitting), but scores with a trivial rule
instead of a language model. It is for tests about plumbing (auth, limits,
back-pressure, schemas, the page's rendering); tests about scores use the real
packaged Detector.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from byline import __version__
from byline.input import Article, article_from_text, word_count
from byline.input.sentences import split_sentences
from byline.reporting.result import DetectionResult, SentenceScore, Signal

MIN_WORDS = 50


class FakeDetector:
    """Scores a sentence by its share of words of 7+ letters; no model.

    ``gate``: when given, scoring waits until it is set (to hold the queue full).
    ``calls`` records the number of articles in each ``detect_many`` call.
    """

    def __init__(
        self, name: str = "fake-detector", gate: threading.Event | None = None, threshold: float = 0.5
    ):
        self.name = name
        self.gate = gate
        self.threshold_value = threshold
        self.calls: list[int] = []
        self.started = threading.Event()

    def info(self) -> dict:
        return {
            "version": __version__,
            "detector": self.name,
            "language_models": ["none (test double)"],
            "window_tokens": 0,
            "max_scored_tokens": 0,
            "min_words": MIN_WORDS,
            "default_fpr": 0.01,
            "thresholds": {"0.01": self.threshold_value},
        }

    @staticmethod
    def _long_word_share(text: str) -> float:
        words = [w for w in text.split() if any(c.isalpha() for c in w)]
        if not words:
            return 0.0
        return round(sum(1 for w in words if len(w.strip(".,;:!?\"'()")) >= 7) / len(words), 4)

    def detect_many(
        self, texts: Sequence[str | Article], *, fpr: float | None = None, batch_size: int = 16
    ) -> list[DetectionResult]:
        self.calls.append(len(texts))
        self.started.set()
        if self.gate is not None:
            self.gate.wait(30)
        results = []
        for index, item in enumerate(texts):
            article = item if isinstance(item, Article) else article_from_text(item, f"<text #{index}>")
            words = word_count(article.text)
            spans = split_sentences(article.text)
            common = {
                "threshold": self.threshold_value,
                "fpr_target": fpr or 0.01,
                "model": f"{self.name} (no model)",
                "n_tokens": words,
                "n_words": words,
                "source": article.source,
                "title": article.title,
                "text": article.text,
                "version": __version__,
            }
            if words < MIN_WORDS:
                results.append(
                    DetectionResult(
                        ai_probability=None,
                        verdict="too_short",
                        n_scored_tokens=0,
                        ai_share=None,
                        sentences=[SentenceScore(s.text, s.start, s.end, None) for s in spans],
                        reason=f"the text has {words} words; at least {MIN_WORDS} are needed",
                        **common,
                    )
                )
                continue
            sentences = [SentenceScore(s.text, s.start, s.end, self._long_word_share(s.text)) for s in spans]
            probability = self._long_word_share(article.text)
            results.append(
                DetectionResult(
                    ai_probability=probability,
                    verdict="ai" if probability > self.threshold_value else "human",
                    n_scored_tokens=words,
                    ai_share=round(
                        sum(1 for s in sentences if (s.ai_probability or 0) > 0.5) / max(1, len(sentences)), 4
                    ),
                    sentences=sentences,
                    signals=[
                        Signal(
                            "style.long_word_rate",
                            probability,
                            probability - 0.5,
                            "ai" if probability > 0.5 else "human",
                            f"{probability:.0%} of words have seven letters or more",
                        )
                    ],
                    **common,
                )
            )
        return results


def assert_error(response: httpx.Response, status: int, field: str, code: str | None = None) -> dict:
    """The server's error document, checked: ``status``, a message naming ``field``, and ``code``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message", "fields"}
    assert body["message"].startswith(f"{field}: "), body["message"]
    assert field in [problem["field"] for problem in body["fields"]]
    if code:
        assert body["error"] == code
    return body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_in_thread(app, port: int | None = None) -> Iterator[str]:
    """Run ``app`` under a real uvicorn server on 127.0.0.1 in this process; yields its base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


# -- real headless Chromium (Debian's package; Playwright never downloads a browser) --------------

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


def chromium_path() -> str | None:
    import shutil

    return shutil.which("chromium") or next(
        (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None
    )


def require_browser():
    """Skip (with the reason) unless Debian's chromium and Playwright for Python are installed."""
    import pytest

    path = chromium_path()
    if path is None:
        pytest.skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    return path


@contextlib.contextmanager
def chromium_page(width: int = 1100, height: int = 900):
    """A page in real headless Chromium; yields (page, console messages)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=require_browser(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            messages: list[str] = []
            page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
            yield page, messages
        finally:
            browser.close()
