"""Nothing lost: a real `byline scan` process killed with SIGKILL (and one stopped with
Ctrl-C) mid-run, then resumed; the output holds every input exactly once and
finished inputs are not scored again."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scan_support import article, build_tiny_detector, write_jsonl

from byline.engines.writers import read_rows

REPO = Path(__file__).resolve().parent.parent
N_INPUTS = 400

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _start(data: Path, out: Path, detector: Path, *extra: str) -> subprocess.Popen:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    command = [
        sys.executable,
        "-m",
        "byline",
        "scan",
        str(data),
        "--out",
        str(out),
        "--detector",
        str(detector),
        "--workers",
        "2",
        "--threads",
        "1",
        "--batch-size",
        "4",
        *extra,
    ]
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_like_a_shell,
    )


def _like_a_shell() -> None:
    # A terminal starts a command with SIGINT unblocked and at its default action; the pytest
    # process need not be in that state after earlier tests, and a child inherits both.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _finished(state: Path) -> int:
    if not state.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # tables not created yet


def _wait_for_progress(process: subprocess.Popen, state: Path, at_least: int, timeout: float = 300) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, (
            f"the scan ended before it could be interrupted: {process.communicate()}"
        )
        done = _finished(state)
        if done >= at_least:
            return done
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"no progress within {timeout} s: {process.communicate()}")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return True
    try:
        return "\nState:\tZ" in status.read_text()  # a zombie has exited
    except OSError:
        return True


@pytest.fixture(scope="module")
def tiny_detector(tiny_model_dir, tmp_path_factory) -> Path:
    return build_tiny_detector(tiny_model_dir, tmp_path_factory.getbasetemp() / "tiny-detector")


def test_killed_and_interrupted_scans_resume_and_lose_nothing(tmp_path, tiny_detector) -> None:
    records = [{"text": article(i, 3 + i % 5), "id": f"story-{i:03d}"} for i in range(N_INPUTS)]
    records[57] = '{"text": "a malformed line'
    data = write_jsonl(tmp_path / "wire.jsonl", records)
    out = tmp_path / "scores.parquet"
    state = Path(f"{out}.scan-state.sqlite")
    args = ("--id-field", "id")

    # 1. Ctrl-C: the scan stops cleanly, says how to resume, exits 130.
    first = _start(data, out, tiny_detector, *args)
    _wait_for_progress(first, state, 8)
    first.send_signal(signal.SIGINT)
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 130, stderr
    assert "run the same command again to resume" in stderr
    after_interrupt = _finished(state)
    assert 0 < after_interrupt < N_INPUTS and not out.exists()

    # 2. kill -9 mid-run: no chance to clean up at all.
    second = _start(data, out, tiny_detector, *args)
    done_at_kill = _wait_for_progress(second, state, after_interrupt + 8)
    workers = _children(second.pid)
    second.kill()
    second.wait(timeout=30)
    assert second.returncode == -signal.SIGKILL
    assert done_at_kill < N_INPUTS and not out.exists()
    deadline = time.monotonic() + 20
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in workers), "scoring workers outlived their killed parent"
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finished_before = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    assert finished_before >= done_at_kill

    # 3. the same command again finishes the job.
    third = _start(data, out, tiny_detector, *args)
    _, stderr = third.communicate(timeout=600)
    assert third.returncode == 1, stderr  # one malformed line: an error row, exit code 1
    resumed = int(re.search(r"([\d,]+) finished before", stderr).group(1).replace(",", ""))
    assert resumed == finished_before
    rows = read_rows(out)
    expected = [r["id"] if isinstance(r, dict) else "58" for r in records]
    assert [r["id"] for r in rows] == expected  # every input exactly once, in input order
    assert sum(r["error"] is not None for r in rows) == 1
    assert "line 58: not valid JSON" in rows[57]["error"]
    assert all(r["verdict"] in ("ai", "human") for i, r in enumerate(rows) if i != 57)
