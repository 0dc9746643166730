"""Hostile but fair clients against a real server on loopback: no request may stall the others.

Large documents, slow or lying bodies, missing keys, security headers on every answer, and
fetching refused for addresses that lead to private IPv4 ones. With a test double for the
detector; gates (events) make the concurrency deterministic, and timeouts only guard against hangs.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from server_support import FakeDetector, assert_error, serve_in_thread

from byline.errors import InputError
from byline.interfaces.server import ServerSettings, create_app, fetching, scoring_pool
from byline.interfaces.server.settings import DEFAULT_MAX_TEXT_BYTES

EXAMPLE = (Path(__file__).parent.parent / "examples" / "machine-written.txt").read_text(encoding="utf-8")
GUARD_S = 30  # only against hangs; every wait below ends on an event long before


def client_for(settings: ServerSettings, detector=None) -> TestClient:
    return TestClient(create_app(detector or FakeDetector(), settings))


# -- the text limit -----------------------------------------------------------------------


def test_default_text_limit_is_far_below_the_body_limit_and_published():
    settings = ServerSettings(api_key=None)
    assert settings.max_text_bytes == DEFAULT_MAX_TEXT_BYTES <= settings.max_body_bytes // 20
    with client_for(settings) as client:
        limits = client.get("/v1/info").json()["limits"]
    assert limits["max_text_bytes"] == DEFAULT_MAX_TEXT_BYTES
    assert limits["max_html_bytes"] == settings.max_html_bytes
    assert limits["body_timeout_s"] == settings.body_timeout_s


def test_text_over_the_limit_is_422_naming_the_field_and_the_limit():
    settings = ServerSettings(api_key=None, max_text_bytes=3000)
    long_text = (EXAMPLE + "\n\n") * 2
    with client_for(settings) as client:
        answer = assert_error(
            client.post("/v1/detect", json={"text": long_text}), 422, "text", "invalid_input"
        )
        assert "too large" in answer["message"] and "3,000 bytes" in answer["message"]
        # In a batch, only that document fails.
        rows = client.post(
            "/v1/detect/batch", json={"documents": [{"text": EXAMPLE}, {"text": long_text}]}
        ).json()
        assert rows["results"][0]["result"] is not None
        assert rows["results"][1]["error"]["message"].startswith("documents[1].text: the text is too large")


def test_html_whose_extracted_text_is_over_the_limit_is_422_naming_html():
    settings = ServerSettings(api_key=None, max_text_bytes=3000)
    paragraphs = "".join(f"<p>{p}</p>" for p in (EXAMPLE + "\n\n" + EXAMPLE).split("\n\n"))
    html = f"<html><body><article>{paragraphs}</article></body></html>"
    with client_for(settings) as client:
        answer = assert_error(client.post("/v1/detect", json={"html": html}), 422, "html", "invalid_input")
    assert "extracted" in answer["message"] and "3,000 bytes" in answer["message"]


# -- no request stalls the others ---------------------------------------------------------


def test_html_extraction_does_not_hold_the_scoring_thread(monkeypatch):
    """A page whose extraction is held must not stop a small text from being scored meanwhile."""
    entered, release = threading.Event(), threading.Event()
    real_extraction = scoring_pool.article_from_html

    def held_extraction(html, source):
        if "HOLD-EXTRACTION" in html:
            entered.set()
            release.wait(GUARD_S)
        return real_extraction(html, source)

    monkeypatch.setattr(scoring_pool, "article_from_html", held_extraction)
    paragraphs = "".join(f"<p>{p}</p>" for p in EXAMPLE.split("\n\n"))
    page = f"<html><body><article><p>HOLD-EXTRACTION</p>{paragraphs}</article></body></html>"
    with serve_in_thread(create_app(FakeDetector(), ServerSettings(api_key=None))) as url:
        answers: list[httpx.Response] = []
        holder = threading.Thread(
            target=lambda: answers.append(
                httpx.post(url + "/v1/detect", json={"html": page}, timeout=GUARD_S * 2)
            )
        )
        holder.start()
        try:
            assert entered.wait(GUARD_S), "the page never reached extraction"
            small = httpx.post(url + "/v1/detect", json={"text": EXAMPLE}, timeout=GUARD_S)
            assert small.status_code == 200, small.text
            assert holder.is_alive() and not answers, (
                "the page was answered before its extraction was released"
            )
        finally:
            release.set()
            holder.join(GUARD_S * 2)
        assert answers and answers[0].status_code == 200, answers


class _HeldDetector(FakeDetector):
    """Holds any call that scores a text containing a marker until that marker's event is set."""

    def __init__(self, holds: dict[str, threading.Event]) -> None:
        super().__init__()
        self.holds = holds
        self.held = {marker: threading.Event() for marker in holds}
        self.scored: list[list[str]] = []

    def detect_many(self, texts, *, fpr=None, batch_size=16):
        self.scored.append([t.text.split()[0] for t in texts])
        for marker, release in self.holds.items():
            if any(marker in t.text for t in texts):
                self.held[marker].set()
                release.wait(GUARD_S)
        return super().detect_many(texts, fpr=fpr, batch_size=batch_size)


def test_a_small_request_is_scored_between_the_documents_of_a_large_batch():
    """The queue is fair: a batch is scored in slices, and a small request waiting behind it gets
    the next slice, not the end of the batch."""
    first, last = threading.Event(), threading.Event()
    detector = _HeldDetector({"FIRST-DOC": first, "LAST-DOC": last})
    big = (EXAMPLE + "\n\n") * 4  # each big document fills a slice by itself
    settings = ServerSettings(api_key=None, max_text_bytes=len(big.encode()) + 20)
    app = create_app(detector, settings)
    documents = [{"text": f"FIRST-DOC {big}"}, {"text": f"MIDDLE-DOC {big}"}, {"text": f"LAST-DOC {big}"}]
    with serve_in_thread(app) as url:
        pool = app.state.byline.pool
        batch_answers: list[httpx.Response] = []
        small_answers: list[httpx.Response] = []
        batch = threading.Thread(
            target=lambda: batch_answers.append(
                httpx.post(url + "/v1/detect/batch", json={"documents": documents}, timeout=GUARD_S * 2)
            )
        )
        small = threading.Thread(
            target=lambda: small_answers.append(
                httpx.post(url + "/v1/detect", json={"text": f"SMALL-DOC {EXAMPLE}"}, timeout=GUARD_S * 2)
            )
        )
        batch.start()
        try:
            assert detector.held["FIRST-DOC"].wait(GUARD_S), "the batch never reached the detector"
            small.start()
            deadline = time.monotonic() + GUARD_S
            while (
                pool.queued_requests < 2 and time.monotonic() < deadline
            ):  # the batch's rest and the small one
                time.sleep(0.01)
            assert pool.queued_requests == 2
            first.set()
            assert detector.held["LAST-DOC"].wait(GUARD_S), "the batch's last document was never scored"
            small.join(GUARD_S)
            assert small_answers and small_answers[0].status_code == 200, (small_answers, detector.scored)
            assert batch.is_alive() and not batch_answers  # its last document is still held
        finally:
            first.set()
            last.set()
            batch.join(GUARD_S * 2)
            small.join(GUARD_S)
        assert batch_answers and batch_answers[0].status_code == 200
        assert [row["result"]["text"].split()[0] for row in batch_answers[0].json()["results"]] == [
            "FIRST-DOC",
            "MIDDLE-DOC",
            "LAST-DOC",
        ]
        # One big document per slice; the small request came right after the slice that was
        # next when it arrived, before the batch's last document.
        assert detector.scored == [["FIRST-DOC"], ["MIDDLE-DOC"], ["SMALL-DOC"], ["LAST-DOC"]]


# -- bodies: time and authentication first ------------------------------------------------


def _raw_request(url: str, head: str, body: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=GUARD_S)
    connection.sendall(head.encode() + body)
    return connection


def _read_response(connection: socket.socket) -> tuple[int, bytes]:
    """The status and everything the server sent until it closed the connection."""
    data = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, data


def test_a_body_shorter_than_declared_gets_408_and_the_connection_is_closed():
    settings = ServerSettings(api_key=None, body_timeout_s=0.5)
    with serve_in_thread(create_app(FakeDetector(), settings)) as url:
        head = "POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        with _raw_request(url, head, b'{"text": "only this') as connection:
            status, data = _read_response(connection)  # ends only when the server closes the connection
        assert status == 408, data
        assert b'"request_timeout"' in data and b"body: the request body did not arrive within 0.5 s" in data
        # The server is still well.
        assert httpx.post(url + "/v1/detect", json={"text": EXAMPLE}, timeout=GUARD_S).status_code == 200


def test_without_the_key_the_body_is_not_read_before_the_401():
    with serve_in_thread(create_app(FakeDetector(), ServerSettings(api_key="s3cret-key"))) as url:
        # Declares 5 MB and sends a few bytes: the 401 must come without waiting for the rest.
        head = "POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
        with _raw_request(url, head, b'{"text": "') as connection:
            status, data = _read_response(connection)
        assert status == 401, data
        assert b"authorization: missing API key" in data and b"www-authenticate: Bearer" in data
        head = head.replace("Host: x\r\n", "Host: x\r\nAuthorization: Bearer wrong\r\n")
        with _raw_request(url, head, b'{"text": "') as connection:
            status, data = _read_response(connection)
        assert status == 401 and b"wrong API key" in data
        good = httpx.post(
            url + "/v1/detect",
            json={"text": EXAMPLE},
            headers={"Authorization": "Bearer s3cret-key"},
            timeout=GUARD_S,
        )
        assert good.status_code == 200


# -- security headers on every response ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/docs",
        "/static/app.js",
        "/static/style.css",
        "/openapi.json",
        "/healthz",
        "/v1/info",
        "/no-such-page",
        "/docs/assets/swagger-ui.css",
    ],
)
def test_every_response_has_the_security_headers(path):
    with client_for(ServerSettings(api_key=None)) as client:
        response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff", path
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = response.headers["content-security-policy"]
    assert (
        "default-src 'self'" in policy
        and "frame-ancestors 'none'" in policy
        and "'unsafe-inline'" not in policy
    )


def test_refusals_of_the_guard_have_the_security_headers_too():
    with client_for(ServerSettings(api_key="k", max_body_bytes=2000)) as client:
        unauthorized = client.post("/v1/detect", json={"text": EXAMPLE})
        assert unauthorized.status_code == 401 and unauthorized.headers["x-content-type-options"] == "nosniff"
        too_large = client.post("/v1/detect", json={"text": EXAMPLE}, headers={"Authorization": "Bearer k"})
        assert (
            too_large.status_code == 413
            and "default-src 'self'" in too_large.headers["content-security-policy"]
        )


def test_the_docs_page_allows_exactly_its_own_inline_script():
    with client_for(ServerSettings(api_key=None)) as client:
        docs = client.get("/docs")
    scripts = re.findall(r"<script>(.*?)</script>", docs.text, flags=re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in docs.headers["content-security-policy"]


# -- fetching: no address that leads to a private IPv4 one --------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::127.0.0.1",  # NAT64, well-known prefix
        "64:ff9b::a00:1",  # NAT64 to 10.0.0.1
        "64:ff9b:1::c0a8:101",  # NAT64, local-use prefix, to 192.168.1.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::127.0.0.1",  # IPv4-compatible
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_addresses_that_embed_a_private_ipv4_are_refused(address, monkeypatch):
    monkeypatch.setattr(fetching, "_addresses", lambda host: [address])
    with pytest.raises(InputError) as refused:
        fetching.check_public_url("http://news.example/story")
    assert "non-public address" in refused.value.problem and address in refused.value.problem


@pytest.mark.parametrize("url", ["http://[64:ff9b::127.0.0.1]/", "http://[2002:7f00:1::]/"])
def test_ipv6_literals_that_lead_to_loopback_are_refused_by_the_server(url):
    with client_for(ServerSettings(api_key=None, allow_fetch=True)) as client:
        answer = assert_error(client.post("/v1/detect", json={"url": url}), 422, "url")
    assert "non-public address" in answer["message"]


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2606:4700:4700::1111", "93.184.215.14"])
def test_public_addresses_stay_allowed(address, monkeypatch):
    monkeypatch.setattr(fetching, "_addresses", lambda host: [address])
    fetching.check_public_url("http://news.example/story")
