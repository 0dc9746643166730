"""``POST /v1/trace`` and ``byline serve --trace-index``: the server form of ``byline trace --json``.

A tiny source index is built from four short articles written here, with the
real sentence encoder (as tests/test_tracing.py does; it is small and fast).
The verdict comes from the fast test double, since these tests are about the
endpoint, not about scores.
"""

from __future__ import annotations

import dataclasses

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from server_support import FakeDetector, assert_error
from typer.testing import CliRunner

from byline.input import article_from_text
from byline.interfaces.server import ServerSettings, create_app
from byline.interfaces.server.schemas import (
    AlignedSentenceOut,
    AlignmentOut,
    SourceMatchOut,
    SupportingSentenceOut,
    TraceResponse,
)
from byline.interfaces.server.state import StartupError
from byline.tracing import SourceArticle, SourceIndex
from byline.tracing.encoder import shared_encoder
from byline.tracing.result import AlignedSentence, Alignment, SourceMatch, SupportingSentence, TraceResult

SOURCES = [
    SourceArticle(
        "tram-depot",
        "A fire broke out at the Northgate tram depot late on Sunday evening. Firefighters from three "
        "stations brought the blaze under control within two hours. Nobody was injured, but 12 trams "
        "were damaged by smoke. The city transport office said services on lines 4 and 7 would run on "
        "a reduced timetable this week. Investigators have not yet said what caused the fire.",
        title="Fire at Northgate tram depot",
        url="https://news.example/tram-depot",
    ),
    SourceArticle(
        "school-meals",
        "Every primary school pupil in the district will receive a free hot lunch from September. The "
        "education board approved the scheme on Thursday after a year-long pilot in six schools. Head "
        "teachers said attendance rose during the pilot. The programme will cost about 3 million euros "
        "a year and is funded by the regional government. Parents can still send packed lunches.",
        title="Free school meals for all primary pupils",
    ),
    SourceArticle(
        "orchard-harvest",
        "Apple growers in the valley expect their smallest harvest in a decade after a late frost in "
        "April. The growers' cooperative estimates the crop at 40,000 tonnes, down by a third. Some "
        "farmers lost nearly all their blossom in a single night. Prices at the farm gate have already "
        "risen. The cooperative has asked the ministry for emergency support.",
    ),
    SourceArticle(
        "library-reopens",
        "The central library reopened on Monday after an 18-month renovation. The building now has a "
        "children's wing, a rooftop reading garden and longer opening hours. More than 2,000 visitors "
        "came on the first day. The renovation was paid for by the city and a private foundation. "
        "The old card catalogue has been kept as an exhibit in the entrance hall.",
    ),
]

# A rewrite of "tram-depot": reordered, reworded, one figure changed (12 -> 15) and a sentence added.
REWRITE = (
    "Late on Sunday night, flames engulfed the Northgate depot where the city's trams are kept. It took "
    "crews from three fire stations roughly two hours to get the blaze under control. While no one was "
    "hurt, smoke damaged 15 trams. According to the city transport office, lines 4 and 7 will operate a "
    "reduced timetable for the rest of the week. The cause of the fire remains under investigation. "
    "Local residents described hearing several loud explosions before the fire spread."
)

API_KEY = "trace-key"


@pytest.fixture(scope="module")
def index_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("server-trace") / "index"
    with SourceIndex.create(path, encoder=shared_encoder()) as index:
        report = index.add(SOURCES)
    assert report.added == len(SOURCES) and not report.problems
    return path


def client_for(index_path=None, api_key: str | None = None, detector=None) -> TestClient:
    server_settings = ServerSettings(api_key=api_key, trace_index=str(index_path) if index_path else None)
    return TestClient(create_app(detector or FakeDetector(), server_settings))


@pytest.fixture(scope="module")
def client(index_path):
    with client_for(index_path) as test_client:
        yield test_client


# -- 200 ----------------------------------------------------------------------------------


def test_a_rewrite_is_traced_to_its_source(client, index_path):
    response = client.post("/v1/trace", json={"text": REWRITE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {f.name for f in dataclasses.fields(TraceResult)}
    best = body["matches"][0]
    assert best["id"] == "tram-depot" and best["likely_source"]
    assert (
        best["title"] == "Fire at Northgate tram depot" and best["url"] == "https://news.example/tram-depot"
    )
    assert len(body["matches"]) == len(SOURCES)  # the default limit (5) is more than the index holds
    assert not any(match["likely_source"] for match in body["matches"][1:])
    scores = [match["score"] for match in body["matches"]]
    assert scores == sorted(scores, reverse=True)
    alignment = body["alignment"]
    assert alignment["source_id"] == "tram-depot"
    trams = next(s for s in alignment["sentences"] if "smoke damaged" in s["text"])
    assert trams["supported"] and trams["new_numbers"] == ["15"]  # the source says 12
    assert not alignment["sentences"][-1]["supported"]  # the added sentence
    for sentence in alignment["sentences"]:
        assert body["text"][sentence["start"] : sentence["end"]] == sentence["text"]
    assert body["index"]["articles"] == len(SOURCES)
    # The verdict is the detector's check document, as POST /v1/detect gives it.
    assert body["verdict"] == FakeDetector().detect_many([article_from_text(REWRITE)])[0].to_dict()
    # Everything else is what SourceIndex.trace (byline trace --json) gives for the same text.
    with SourceIndex.open(index_path) as index:
        direct = index.trace(REWRITE).to_dict()
    # ... except that clients see the index's name, not its path on the server
    assert body["index"]["path"] == index_path.name
    direct["index"]["path"] = index_path.name
    assert {k: v for k, v in body.items() if k != "verdict"} == {
        k: v for k, v in direct.items() if k != "verdict"
    }


def test_html_limit_source_and_no_verdict(client):
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in REWRITE.split(". "))
    html = f"<html><head><title>Depot fire</title></head><body><article>{paragraphs}</article></body></html>"
    response = client.post(
        "/v1/trace", json={"html": html, "source": "depot.html", "limit": 2, "verdict": False}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [match["id"] for match in body["matches"]][:1] == ["tram-depot"] and len(body["matches"]) == 2
    assert body["source"] == "depot.html" and body["title"] == "Depot fire"
    assert "<p>" not in body["text"]
    assert body["verdict"] is None


def test_detector_and_fpr_are_those_of_detect(index_path):
    first, second = FakeDetector("first", threshold=0.99), FakeDetector("second", threshold=0.0)
    with client_for(index_path, detector={"first": first, "second": second}) as test_client:
        default = test_client.post("/v1/trace", json={"text": REWRITE}).json()
        assert default["verdict"]["model"].startswith("first")
        chosen = test_client.post(
            "/v1/trace", json={"text": REWRITE, "detector": "second", "fpr": 0.05}
        ).json()
        assert chosen["verdict"]["model"].startswith("second") and chosen["verdict"]["verdict"] == "ai"
        assert chosen["verdict"]["fpr_target"] == 0.05
        refused = test_client.post("/v1/trace", json={"text": REWRITE, "detector": "/etc"})
        body = assert_error(refused, 422, "detector")
        assert "first" in body["message"] and "second" in body["message"]
        # the name is checked even when no verdict (and so no detector) is asked for
        refused = test_client.post("/v1/trace", json={"text": REWRITE, "detector": "/etc", "verdict": False})
        assert_error(refused, 422, "detector")


def test_info_describes_the_index(client):
    info = client.get("/v1/info").json()
    assert info["server"]["trace_index"]["articles"] == len(SOURCES)
    assert info["limits"]["max_trace_matches"] == 20
    with client_for() as without:
        assert without.get("/v1/info").json()["server"]["trace_index"] is None


# -- errors -------------------------------------------------------------------------------


def test_without_an_index_the_answer_says_how_to_start_the_server():
    with client_for() as test_client:
        response = test_client.post("/v1/trace", json={"text": REWRITE})
        assert response.status_code == 409
        body = response.json()
        assert body["error"] == "no_trace_index" and body["fields"] == []
        assert "--trace-index" in body["message"]
        # Invalid bodies are still 422, as on a server with an index.
        assert_error(test_client.post("/v1/trace", json={"text": REWRITE, "limit": 0}), 422, "limit")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "body", "exactly one of"),
        ({"text": REWRITE, "html": "<p>x</p>"}, "body", "exactly one of"),
        ({"text": 42}, "text", "valid string"),
        ({"text": REWRITE, "limit": 0}, "limit", "greater than or equal to 1"),
        ({"text": REWRITE, "limit": 21}, "limit", "less than or equal to 20"),
        ({"text": REWRITE, "fpr": 0.9}, "fpr", "less than or equal to 0.5"),
        ({"text": REWRITE, "colour": "blue"}, "colour", "not permitted"),
        ({"url": "https://news.example/"}, "url", "--allow-fetch"),
    ],
)
def test_invalid_body_is_422_naming_the_field(client, body, field, words):
    answer = assert_error(client.post("/v1/trace", json=body), 422, field)
    assert words in answer["message"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"text": "   \n "}, "text", "whitespace"),
        ({"html": "<html><body><script>x()</script></body></html>"}, "html", "no article text"),
    ],
)
def test_unusable_document_is_422_naming_the_field(client, body, field, words):
    answer = assert_error(client.post("/v1/trace", json=body), 422, field, "invalid_input")
    assert words in answer["message"]


def test_api_key_is_required_when_configured(index_path):
    with client_for(index_path, api_key=API_KEY) as test_client:
        missing = test_client.post("/v1/trace", json={"text": REWRITE})
        assert_error(missing, 401, "authorization", "unauthorized")
        wrong = test_client.post(
            "/v1/trace", json={"text": REWRITE}, headers={"Authorization": "Bearer nope"}
        )
        assert_error(wrong, 401, "authorization", "unauthorized")
        good = test_client.post(
            "/v1/trace", json={"text": REWRITE}, headers={"Authorization": f"Bearer {API_KEY}"}
        )
        assert good.status_code == 200 and good.json()["matches"][0]["id"] == "tram-depot"


# -- start-up -----------------------------------------------------------------------------


def test_a_missing_or_invalid_index_stops_the_start_up(tmp_path):
    missing = tmp_path / "no-index"
    with pytest.raises(StartupError, match=rf"--trace-index {missing}: no such index"):
        with client_for(missing):
            pass
    not_an_index = tmp_path / "folder"
    not_an_index.mkdir()
    with pytest.raises(StartupError, match="folder: not a Byline source index"):
        with client_for(not_an_index):
            pass


def test_serve_refuses_a_bad_index_before_starting(tmp_path):
    from byline.interfaces.cli import app

    runner = CliRunner()
    assert "--trace-index" in runner.invoke(app, ["serve", "--help"]).output
    result = runner.invoke(app, ["serve", "--trace-index", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "--trace-index" in said and "nowhere: no such index" in said


def test_the_setting_travels_to_workers(index_path):
    server_settings = ServerSettings(api_key=None, trace_index=str(index_path))
    travelled = ServerSettings.from_environment({"BYLINE_SERVER_SETTINGS": server_settings.to_environment()})
    assert travelled.trace_index == str(index_path)


# -- the spec -----------------------------------------------------------------------------


def test_response_model_mirrors_the_trace_result():
    pairs = [
        (TraceResponse, TraceResult),
        (SourceMatchOut, SourceMatch),
        (AlignmentOut, Alignment),
        (AlignedSentenceOut, AlignedSentence),
        (SupportingSentenceOut, SupportingSentence),
    ]
    for model, result in pairs:
        assert set(model.model_fields) == {f.name for f in dataclasses.fields(result)}, model.__name__


def test_openapi_describes_the_endpoint(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/trace"]["post"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/TraceResponse")
    assert {"409", "422", "503"} <= set(operation["responses"])
    request = spec["components"]["schemas"]["TraceRequest"]
    assert {"text", "html", "limit", "detector", "fpr", "verdict"} <= set(request["properties"])
    assert "url" not in request["properties"]  # this server does not fetch
    assert request["properties"]["detector"]["enum"] == ["default", "fake-detector"]
    assert request["properties"]["limit"]["maximum"] == 20


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_trace_conforms_to_its_own_spec(index_path, mode):
    """tests/test_server_schemathesis.py covers every route on a server without an index (409);
    this runs the trace route against a real index, so 200 answers are checked against the spec."""
    from schemathesis.checks import positive_data_acceptance

    app = create_app(FakeDetector(), ServerSettings(api_key=API_KEY, trace_index=str(index_path)))
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operation = next(
            result.ok() for result in schema.get_all_operations() if result.ok().label == "POST /v1/trace"
        )

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case):
            # Unusable but schema-valid texts (whitespace only, no sentences) rightly get 422.
            case.call_and_validate(
                headers={"Authorization": f"Bearer {API_KEY}"},
                excluded_checks=[positive_data_acceptance],
            )

        conforms()
