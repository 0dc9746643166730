"""The bounded scoring queue: back-pressure, batching of waiting requests, failure isolation."""

from __future__ import annotations

import asyncio
import threading

import pytest
from fastapi.testclient import TestClient
from server_support import FakeDetector

from byline.errors import InputError
from byline.interfaces.server import ServerSettings, create_app
from byline.interfaces.server.scoring_pool import (
    DocumentInput,
    PoolClosed,
    QueueFull,
    ScoringFailure,
    ScoringPool,
)
from byline.reporting.result import DetectionResult

WORDS = " ".join(f"word{i}" for i in range(60))


def document(text: str, index: int = 0) -> DocumentInput:
    return DocumentInput("text", text, f"<text #{index}>", "text")


def run(coroutine):
    return asyncio.run(coroutine)


def test_waiting_requests_with_the_same_settings_are_scored_together():
    gate = threading.Event()
    detector = FakeDetector(gate=gate)

    async def scenario():
        pool = ScoringPool({"fake": detector}, capacity=64, batch_documents=16).start()
        try:
            first = asyncio.create_task(pool.detect("fake", None, [document(f"first {WORDS}")]))
            await asyncio.to_thread(detector.started.wait, 10)  # the first call holds the thread
            others = [
                asyncio.create_task(pool.detect("fake", None, [document(f"text {i} {WORDS}", i)]))
                for i in range(5)
            ]
            other_fpr = asyncio.create_task(pool.detect("fake", 0.05, [document(f"strict {WORDS}")]))
            await asyncio.sleep(0.1)
            assert pool.pending_documents == 7
            gate.set()
            results = await asyncio.gather(first, *others, other_fpr)
        finally:
            pool.close()
        return results

    results = run(scenario())
    # One call for the first request, one for the five waiting ones, one for the other fpr.
    assert detector.calls == [1, 5, 1]
    texts = [outcome[0].text for outcome in results]
    assert texts[0].startswith("first") and texts[-1].startswith("strict")
    assert [t.split()[1] for t in texts[1:-1]] == ["0", "1", "2", "3", "4"]
    assert results[-1][0].fpr_target == 0.05


def test_a_request_waiting_behind_a_batch_gets_the_next_round_not_the_batch_s_next_slice():
    gate = threading.Event()
    detector = FakeDetector(gate=gate)

    async def scenario():
        pool = ScoringPool({"fake": detector}, capacity=64, batch_documents=4).start()
        try:
            batch = asyncio.create_task(
                pool.detect("fake", None, [document(f"batch {i} {WORDS}", i) for i in range(7)])
            )
            await asyncio.to_thread(detector.started.wait, 10)  # its first slice holds the thread
            small = asyncio.create_task(pool.detect("fake", None, [document(f"small {WORDS}")]))
            while pool.queued_requests < 2:
                await asyncio.sleep(0.01)
            gate.set()
            return await asyncio.gather(batch, small)
        finally:
            pool.close()

    batch, small = run(scenario())
    # A full slice while the batch was alone, then one document of each, then the batch's rest.
    assert detector.calls == [4, 2, 2]
    assert [outcome.text.split()[1] for outcome in batch] == [str(i) for i in range(7)]
    assert small[0].text.startswith("small")


def test_slices_hold_no_more_documents_than_the_scoring_thread_scores_in_slice_seconds():
    async def scenario(seconds_per_document: float):
        detector = FakeDetector()
        pool = ScoringPool({"fake": detector}, batch_documents=16, slice_seconds=1.0)
        pool.seconds_per_document = seconds_per_document  # as measured on earlier slices
        pool.start()
        try:
            await pool.detect("fake", None, [document(f"batch {i} {WORDS}", i) for i in range(3)])
        finally:
            pool.close()
        return detector.calls

    # Slow scoring (a CPU): one document at a time, so nobody waits behind a long batch;
    # fast scoring (a GPU): the whole batch at once.
    assert run(scenario(2.0)) == [1, 1, 1]
    assert run(scenario(0.01)) == [3]


def test_a_full_queue_refuses_at_once_and_recovers():
    gate = threading.Event()
    detector = FakeDetector(gate=gate)

    async def scenario():
        pool = ScoringPool({"fake": detector}, capacity=3, batch_documents=2).start()
        try:
            held = asyncio.create_task(pool.detect("fake", None, [document(WORDS), document(WORDS, 1)]))
            await asyncio.to_thread(detector.started.wait, 10)
            queued = asyncio.create_task(pool.detect("fake", None, [document(WORDS)]))
            await asyncio.sleep(0.05)
            with pytest.raises(QueueFull) as full:
                await pool.detect("fake", None, [document(WORDS)])
            assert full.value.retry_after >= 1 and full.value.capacity == 3
            gate.set()
            await asyncio.gather(held, queued)
            assert pool.pending_documents == 0
            return await pool.detect("fake", None, [document(WORDS)])
        finally:
            pool.close()

    assert isinstance(run(scenario())[0], DetectionResult)


def test_unusable_documents_fail_alone():
    async def scenario():
        pool = ScoringPool(
            {"fake": FakeDetector()}, capacity=8, batch_documents=8, max_text_bytes=1000
        ).start()
        try:
            return await pool.detect(
                "fake",
                None,
                [
                    document(WORDS),
                    document("   "),
                    DocumentInput("html", "<html></html>", "page", "html"),
                    document("x " * 600),
                ],
            )
        finally:
            pool.close()

    outcomes = run(scenario())
    assert isinstance(outcomes[0], DetectionResult)
    assert isinstance(outcomes[1], InputError) and "whitespace" in outcomes[1].problem
    assert isinstance(outcomes[2], InputError) and outcomes[2].source == "page"
    assert isinstance(outcomes[3], InputError) and "too large" in outcomes[3].problem


class _Brittle(FakeDetector):
    """Fails on any text containing 'boom', like a bug triggered by one input."""

    def detect_many(self, texts, *, fpr=None, batch_size=16):
        if any("boom" in getattr(t, "text", t) for t in texts):
            raise RuntimeError("boom")
        return super().detect_many(texts, fpr=fpr, batch_size=batch_size)


def test_a_scoring_failure_sinks_only_its_own_document():
    async def scenario():
        pool = ScoringPool({"fake": _Brittle()}, capacity=8).start()
        try:
            return await pool.detect("fake", None, [document(WORDS), document(f"boom {WORDS}", 1)])
        finally:
            pool.close()

    good, bad = run(scenario())
    assert isinstance(good, DetectionResult)
    assert isinstance(bad, ScoringFailure) and "RuntimeError" in bad.message


def test_a_scoring_failure_is_a_500_in_the_error_shape():
    with TestClient(create_app(_Brittle(), ServerSettings(api_key=None))) as client:
        response = client.post("/v1/detect", json={"text": f"boom {WORDS}"})
        assert response.status_code == 500
        assert response.json()["error"] == "internal_error"
        batch = client.post(
            "/v1/detect/batch", json={"documents": [{"text": WORDS}, {"text": f"boom {WORDS}"}]}
        )
        rows = batch.json()["results"]
        assert rows[0]["result"] is not None and rows[1]["error"]["error"] == "internal_error"


def test_closing_fails_waiting_requests_and_finishes_the_running_one():
    gate = threading.Event()
    detector = FakeDetector(gate=gate)

    async def scenario():
        pool = ScoringPool({"fake": detector}, capacity=8).start()
        held = asyncio.create_task(pool.detect("fake", None, [document(WORDS)]))
        await asyncio.to_thread(detector.started.wait, 10)
        waiting = asyncio.create_task(pool.detect("fake", None, [document(WORDS)]))
        await asyncio.sleep(0.05)
        closing = asyncio.create_task(asyncio.to_thread(pool.close))
        with pytest.raises(PoolClosed):
            await waiting
        gate.set()  # only now can the running batch finish
        await closing
        with pytest.raises(PoolClosed):
            await pool.detect("fake", None, [document(WORDS)])
        return await held

    assert isinstance(run(scenario())[0], DetectionResult)
