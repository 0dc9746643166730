"""End to end with the real packaged detector: `byline serve` as a real uvicorn subprocess on loopback.

One server with two worker processes serves every test here (each worker loads
the model once at start-up): the worker processes, a scored article over HTTP
compared with `byline check --json`, and the page in real headless Chromium.
Never depends on particular probabilities (the shipped detector is retrained).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from server_support import chromium_page, free_port, require_browser

from byline.input import article_from_text

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PATH = REPO / "examples" / "machine-written.txt"
EXAMPLE = EXAMPLE_PATH.read_text(encoding="utf-8")
WORKERS = 2
START_TIMEOUT_S = 600  # the first start converts the packaged model (about a minute), then seconds


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "byline",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(WORKERS),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env={**os.environ, "BYLINE_API_KEY": ""},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"byline serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"byline serve did not start in {START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_workers_are_processes_that_each_answer(live_server):
    url, process = live_server
    import psutil

    pids: set[int] = set()
    deadline = time.monotonic() + 120  # the second worker may still be loading its model
    while len(pids) < WORKERS and time.monotonic() < deadline:
        with httpx.Client() as client:  # a new connection each time, so any worker may take it
            info = client.get(url + "/v1/info", timeout=10).json()
        pids.add(info["server"]["pid"])
        time.sleep(0.05)
    assert len(pids) == WORKERS
    children = {child.pid for child in psutil.Process(process.pid).children(recursive=True)}
    assert pids <= children
    assert info["server"]["workers"] == WORKERS
    assert info["server"]["torch_threads_per_worker"] == max(1, (os.cpu_count() or 1) // WORKERS)
    detector = info["detectors"][info["default_detector"]]
    assert detector["thresholds"] and detector["language_models"]


def test_real_detector_over_http_gives_the_check_json_document(live_server):
    url, _ = live_server
    response = httpx.post(
        url + "/v1/detect", json={"text": EXAMPLE, "source": "examples/machine-written.txt"}, timeout=300
    )
    assert response.status_code == 200, response.text
    served = response.json()
    assert served["verdict"] in ("ai", "human")
    assert 0.0 <= served["ai_probability"] <= 1.0
    assert served["n_scored_tokens"] > 0 and served["signals"]
    assert served["text"] == article_from_text(EXAMPLE).text
    assert any(s["ai_probability"] is not None for s in served["sentences"])

    checked = subprocess.run(
        [sys.executable, "-m", "byline", "check", "--json", "examples/machine-written.txt"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    cli = json.loads(checked.stdout)
    assert set(served) == set(cli)
    for key in served:
        if key in ("ai_probability", "ai_share", "threshold"):
            assert served[key] == pytest.approx(cli[key], abs=1e-3), key
        elif key == "sentences":
            assert [(s["start"], s["end"], s["text"]) for s in served[key]] == [
                (s["start"], s["end"], s["text"]) for s in cli[key]
            ]
        elif key == "signals":
            assert [s["name"] for s in served[key]] == [s["name"] for s in cli[key]]
        else:
            assert served[key] == cli[key], key


def test_too_short_with_the_real_detector(live_server):
    url, _ = live_server
    body = httpx.post(url + "/v1/detect", json={"text": "The council met on Tuesday."}, timeout=120).json()
    assert body["verdict"] == "too_short" and body["ai_probability"] is None


def test_another_language_with_the_real_detector(live_server):
    url, _ = live_server
    text = (
        "Der Stadtrat hat am Dienstag nach einer langen Debatte den neuen Haushalt beschlossen. Nach Angaben "
        "des Bürgermeisters sollen die Arbeiten an sechs Schulen im Sommer beginnen. Die Eltern begrüßten die "
        "Entscheidung, doch die Opposition kritisierte, dass die nördlichen Stadtteile vergessen worden seien. "
        "Eine Stadträtin forderte einen genauen Zeitplan für jede Schule und eine Prüfung der Ausgaben."
    )
    body = httpx.post(url + "/v1/detect", json={"text": text}, timeout=120).json()
    assert body["verdict"] == "unsupported_language" and body["ai_probability"] is None
    assert body["language"] == "de"


def test_browser_pastes_the_example_and_sees_verdict_and_highlights(live_server):
    require_browser()
    url, _ = live_server
    expected_text = article_from_text(EXAMPLE).text
    with chromium_page() as (page, messages):
        page.goto(url + "/")
        page.fill("#article-text", EXAMPLE)
        page.click("#check-button")
        page.wait_for_selector("#result:not([hidden])", timeout=300_000)
        assert page.inner_text("#verdict") in ("Machine-written", "Human-written")
        assert page.inner_text("#probability").endswith("%")
        marks = page.locator("#highlighted mark")
        assert marks.count() > 5
        scored = page.locator("#highlighted mark[data-probability]")
        assert scored.count() > 0
        assert page.eval_on_selector("#highlighted", "element => element.textContent") == expected_text
        assert page.locator("#legend li").count() == 6
        assert page.locator("#signals li").count() > 0
        assert not [m for m in messages if m.startswith(("error", "pageerror"))], messages
