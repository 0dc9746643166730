"""REST API plumbing: status codes, error messages, limits, auth, batches (with a test double).

Scores themselves are covered by tests/test_server_live.py with the real detector.
"""

from __future__ import annotations

import dataclasses
import http.server
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from server_support import FakeDetector, assert_error, serve_in_thread

from byline.input import article_from_text
from byline.interfaces.server import ServerSettings, create_app
from byline.interfaces.server.schemas import DetectionResponse, SentenceOut, SignalOut
from byline.interfaces.server.settings import MAX_BATCH_DOCUMENTS
from byline.reporting.result import DetectionResult, SentenceScore, Signal

EXAMPLE = (Path(__file__).parent.parent / "examples" / "machine-written.txt").read_text(encoding="utf-8")
SHORT = "The council met on Tuesday. It approved the budget."


def client_for(settings: ServerSettings | None = None, detector=None) -> TestClient:
    return TestClient(create_app(detector or FakeDetector(), settings or ServerSettings(api_key=None)))


@pytest.fixture
def client():
    with client_for() as test_client:
        yield test_client


# -- 200 ----------------------------------------------------------------------------------


def test_detect_returns_the_check_json_document(client):
    response = client.post("/v1/detect", json={"text": EXAMPLE})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {f.name for f in dataclasses.fields(DetectionResult)}
    expected = FakeDetector().detect_many([article_from_text(EXAMPLE)])[0].to_dict()
    assert body == expected
    assert body["verdict"] in ("ai", "human")
    for sentence in body["sentences"]:
        assert body["text"][sentence["start"] : sentence["end"]] == sentence["text"]


def test_html_is_extracted_and_source_is_echoed(client):
    paragraphs = "".join(f"<p>{p}</p>" for p in EXAMPLE.split("\n\n"))
    html = f"<html><head><title>Bus routes</title></head><body><article>{paragraphs}</article></body></html>"
    response = client.post("/v1/detect", json={"html": html, "source": "story.html"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "story.html"
    assert body["title"] == "Bus routes"
    assert "<p>" not in body["text"] and "bus route" in body["text"]


def test_too_short_text_gets_a_verdict_not_an_error(client):
    response = client.post("/v1/detect", json={"text": SHORT})
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "too_short"
    assert body["ai_probability"] is None
    assert "words" in body["reason"]


def test_fpr_is_passed_to_the_detector(client):
    body = client.post("/v1/detect", json={"text": EXAMPLE, "fpr": 0.001}).json()
    assert body["fpr_target"] == 0.001


def test_healthz_and_info(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["queue_capacity"] == 64
    info = client.get("/v1/info").json()
    assert info["default_detector"] == "fake-detector"
    assert info["detectors"]["fake-detector"]["thresholds"]
    assert info["limits"]["max_batch_documents"] == MAX_BATCH_DOCUMENTS
    assert info["server"]["allow_fetch"] is False and info["server"]["auth_required"] is False


def test_detectors_are_chosen_by_name_only_among_loaded_ones():
    first, second = FakeDetector("first", threshold=0.99), FakeDetector("second", threshold=0.0)
    with client_for(detector={"first": first, "second": second}) as test_client:
        assert test_client.post("/v1/detect", json={"text": EXAMPLE}).json()["model"].startswith("first")
        chosen = test_client.post("/v1/detect", json={"text": EXAMPLE, "detector": "second"}).json()
        assert chosen["model"].startswith("second") and chosen["verdict"] == "ai"
        default = test_client.post("/v1/detect", json={"text": EXAMPLE, "detector": "default"}).json()
        assert default["model"].startswith("first")
        refused = test_client.post("/v1/detect", json={"text": EXAMPLE, "detector": "/etc"})
        body = assert_error(refused, 422, "detector")
        assert "first" in body["message"] and "second" in body["message"]


def test_result_and_response_model_have_the_same_fields():
    assert set(DetectionResponse.model_fields) == {f.name for f in dataclasses.fields(DetectionResult)}
    assert set(SentenceOut.model_fields) == {f.name for f in dataclasses.fields(SentenceScore)}
    assert set(SignalOut.model_fields) == {f.name for f in dataclasses.fields(Signal)}


# -- 422 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"text": "   \n "}, "text", "whitespace"),
        ({"text": ""}, "text", "empty"),
        ({"text": "\u200b\u200b"}, "text", "invisible"),
        ({"html": "<html><body><script>x()</script></body></html>"}, "html", "no article text"),
    ],
)
def test_unusable_input_is_422_naming_the_field(client, body, field, words):
    answer = assert_error(client.post("/v1/detect", json=body), 422, field, "invalid_input")
    assert words in answer["message"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "body", "exactly one of `text`, `html` or `url`"),
        ({"text": "a", "html": "<p>b</p>"}, "body", "got text and html"),
        ({"text": 42}, "text", "valid string"),
        ({"text": None}, "text", "valid string"),
        ({"text": EXAMPLE, "fpr": 0.9}, "fpr", "less than or equal to 0.5"),
        ({"text": EXAMPLE, "fpr": "strict"}, "fpr", "number"),
        ({"text": EXAMPLE, "colour": "blue"}, "colour", "not permitted"),
        ({"text": EXAMPLE, "source": "x" * 400}, "source", "at most 300"),
    ],
)
def test_invalid_body_is_422_naming_the_field(client, body, field, words):
    answer = assert_error(client.post("/v1/detect", json=body), 422, field, "invalid_request")
    assert words in answer["message"]


def test_malformed_json_is_422(client):
    response = client.post("/v1/detect", content=b'{"text": ', headers={"content-type": "application/json"})
    assert_error(response, 422, "body", "invalid_request")


def test_oversized_document_is_refused_as_input():
    settings = ServerSettings(api_key=None, max_text_bytes=2000)
    with client_for(settings) as test_client:
        answer = assert_error(test_client.post("/v1/detect", json={"text": EXAMPLE * 2}), 422, "text")
        assert "too large" in answer["message"]


# -- 413 ----------------------------------------------------------------------------------


def test_body_over_the_limit_is_413_before_it_is_read():
    with client_for(ServerSettings(api_key=None, max_body_bytes=10_000)) as test_client:
        response = test_client.post("/v1/detect", json={"text": EXAMPLE * 10})
        assert_error(response, 413, "body", "payload_too_large")
        assert "10,000" in response.json()["message"]
        assert test_client.post("/v1/detect", json={"text": EXAMPLE}).status_code == 200


def test_chunked_body_over_the_limit_is_413():
    def chunks():
        for _ in range(20):
            yield b" " * 1000

    with client_for(ServerSettings(api_key=None, max_body_bytes=10_000)) as test_client:
        response = test_client.post(
            "/v1/detect", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_error(response, 413, "body", "payload_too_large")


# -- 401 ----------------------------------------------------------------------------------


def test_api_key_is_required_on_v1_when_configured():
    with client_for(ServerSettings(api_key="s3cret-key")) as test_client:
        for path, method in (("/v1/detect", "post"), ("/v1/detect/batch", "post"), ("/v1/info", "get")):
            kwargs = {"json": {"text": EXAMPLE}} if method == "post" else {}
            missing = getattr(test_client, method)(path, **kwargs)
            assert_error(missing, 401, "authorization", "unauthorized")
            assert missing.headers["www-authenticate"] == "Bearer"
            wrong = getattr(test_client, method)(path, headers={"Authorization": "Bearer nope"}, **kwargs)
            assert_error(wrong, 401, "authorization")
        good = test_client.post(
            "/v1/detect", json={"text": EXAMPLE}, headers={"Authorization": "Bearer s3cret-key"}
        )
        assert good.status_code == 200
        # Health, the page and the spec stay open (the page asks for the key itself).
        assert test_client.get("/healthz").status_code == 200
        assert test_client.get("/").status_code == 200
        spec = test_client.get("/openapi.json").json()
        assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_api_key_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("BYLINE_API_KEY", "from-env")
    settings = ServerSettings()
    assert settings.api_key == "from-env"
    assert "from-env" not in settings.to_environment() and "from-env" not in repr(settings)
    with client_for(settings) as test_client:
        assert test_client.get("/v1/info").status_code == 401
        assert test_client.get("/v1/info", headers={"Authorization": "Bearer from-env"}).status_code == 200


# -- 503 ----------------------------------------------------------------------------------


def test_full_queue_answers_503_with_retry_after():
    gate = threading.Event()
    detector = FakeDetector(gate=gate)
    settings = ServerSettings(api_key=None, queue_documents=MAX_BATCH_DOCUMENTS)
    with serve_in_thread(create_app(detector, settings)) as url:
        batch = {"documents": [{"text": f"{EXAMPLE} Number {i}."} for i in range(MAX_BATCH_DOCUMENTS)]}
        answers: list[httpx.Response] = []
        holder = threading.Thread(
            target=lambda: answers.append(httpx.post(url + "/v1/detect/batch", json=batch, timeout=60))
        )
        holder.start()
        try:
            assert detector.started.wait(30), "the batch never reached the detector"
            busy = httpx.post(url + "/v1/detect", json={"text": EXAMPLE}, timeout=30)
            assert busy.status_code == 503
            assert busy.json()["error"] == "queue_full"
            assert int(busy.headers["retry-after"]) >= 1
            assert httpx.get(url + "/healthz", timeout=10).json()["queued_documents"] == MAX_BATCH_DOCUMENTS
        finally:
            gate.set()
            holder.join(60)
        assert answers and answers[0].status_code == 200
        assert len(answers[0].json()["results"]) == MAX_BATCH_DOCUMENTS
        # Room again once the batch is done.
        assert httpx.post(url + "/v1/detect", json={"text": EXAMPLE}, timeout=30).status_code == 200


# -- batches ------------------------------------------------------------------------------


def test_batch_keeps_order_and_gives_one_row_per_document(client):
    texts = [f"Story {i}. " + EXAMPLE.replace("bus", f"bus{i}") for i in range(5)]
    documents = [{"text": t} for t in texts]
    documents.insert(2, {"text": "  "})
    documents.insert(4, {"text": SHORT, "source": "short.txt"})
    documents.append({"url": "http://127.0.0.1/"})
    response = client.post("/v1/detect/batch", json={"documents": documents})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["index"] for row in rows] == list(range(len(documents)))
    assert rows[2]["result"] is None and rows[2]["error"]["message"].startswith("documents[2].text: ")
    assert rows[4]["result"]["verdict"] == "too_short" and rows[4]["result"]["source"] == "short.txt"
    assert rows[-1]["result"] is None and rows[-1]["error"]["error"] == "fetch_refused"
    scored = [row for row in rows if row["result"] and row["result"]["verdict"] != "too_short"]
    assert [row["result"]["text"] for row in scored] == [article_from_text(t).text for t in texts]
    assert [row["result"]["source"] for row in scored] == [f"<text #{i}>" for i in (0, 1, 3, 5, 6)]


def test_batch_size_is_limited(client):
    documents = [{"text": EXAMPLE}] * (MAX_BATCH_DOCUMENTS + 1)
    assert_error(client.post("/v1/detect/batch", json={"documents": documents}), 422, "documents")
    assert_error(client.post("/v1/detect/batch", json={"documents": []}), 422, "documents")


def test_malformed_document_in_a_batch_is_422_naming_it(client):
    documents = [{"text": EXAMPLE}, {"txt": EXAMPLE}]
    answer = assert_error(
        client.post("/v1/detect/batch", json={"documents": documents}), 422, "documents[1].txt"
    )
    assert "not permitted" in answer["message"]
    documents = [{"text": EXAMPLE}, {"source": "a.txt"}]
    answer = assert_error(client.post("/v1/detect/batch", json={"documents": documents}), 422, "documents[1]")
    assert "exactly one of" in answer["message"]


# -- no server-side fetching by default ---------------------------------------------------


class _Page(http.server.BaseHTTPRequestHandler):
    requests = 0

    def do_GET(self):
        _Page.requests += 1
        paragraphs = "".join(f"<p>{p}</p>" for p in EXAMPLE.split("\n\n"))
        body = f"<html><head><title>Fetched</title></head><body><article>{paragraphs}</article></body></html>"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_page():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Page.requests = 0
    yield f"http://127.0.0.1:{server.server_address[1]}/story"
    server.shutdown()
    thread.join(10)


def test_urls_are_refused_by_default_and_nothing_is_fetched(client, local_page):
    answer = assert_error(client.post("/v1/detect", json={"url": local_page}), 422, "url", "fetch_refused")
    assert "--allow-fetch" in answer["message"]
    assert _Page.requests == 0
    spec = client.get("/openapi.json").json()
    assert "url" not in spec["components"]["schemas"]["DetectRequest"]["properties"]


def test_allow_fetch_still_refuses_private_addresses(local_page):
    with client_for(ServerSettings(api_key=None, allow_fetch=True)) as test_client:
        for url in (
            local_page,
            "http://localhost:9/",
            "http://169.254.169.254/latest/meta-data/",
            "file:///etc/passwd",
        ):
            assert_error(test_client.post("/v1/detect", json={"url": url}), 422, "url")
        assert _Page.requests == 0


def test_allow_fetch_fetches_public_pages(local_page, monkeypatch):
    from byline.interfaces.server import fetching

    # Pretend the loopback test page is on a public address; the connection stays on this machine.
    monkeypatch.setattr(fetching, "_addresses", lambda host: ["93.184.215.14"])
    with client_for(ServerSettings(api_key=None, allow_fetch=True)) as test_client:
        response = test_client.post("/v1/detect", json={"url": local_page})
        assert response.status_code == 200, response.text
        assert response.json()["title"] == "Fetched" and response.json()["source"] == local_page
        assert (
            "url"
            in test_client.get("/openapi.json").json()["components"]["schemas"]["DetectRequest"]["properties"]
        )
    assert _Page.requests == 1


# -- the page and the docs are served locally ---------------------------------------------


def test_page_and_docs_use_no_external_assets(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = [page.text] + [client.get(f"/static/{name}").text for name in ("app.js", "style.css")]
    for asset in assets:
        assert "http://" not in asset and "https://" not in asset and "//cdn" not in asset
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_unknown_routes_and_methods_use_the_error_shape(client):
    assert client.get("/v2/detect").json()["error"] == "not_found"
    assert client.get("/v1/detect").json()["error"] == "method_not_allowed"


# -- settings -----------------------------------------------------------------------------


def test_settings_travel_to_workers_without_the_key(monkeypatch):
    settings = ServerSettings(
        detectors=["default", "/models/mine"],
        workers=2,
        queue_documents=40,
        api_key="k",
        precision="bfloat16",
        any_language=True,
    )
    monkeypatch.setenv("BYLINE_SERVER_SETTINGS", settings.to_environment())
    monkeypatch.delenv("BYLINE_API_KEY", raising=False)
    again = ServerSettings.from_environment()
    assert (
        again.detectors == ["default", "/models/mine"] and again.workers == 2 and again.queue_documents == 40
    )
    assert again.precision == "bfloat16" and again.any_language is True
    assert again.api_key is None


@pytest.mark.parametrize(
    "values",
    [
        {"queue_documents": 8},
        {"workers": 0},
        {"detectors": []},
        {"fpr": 1.5},
        {"batch_documents": 0},
        {"precision": "float16"},
    ],
)
def test_impossible_settings_are_refused(values):
    with pytest.raises(ValueError):
        ServerSettings(**values)
