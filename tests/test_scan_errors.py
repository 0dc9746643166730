"""Scan errors that must be clear and harmless: damaged, foreign and misplaced state files (one
line, exit code 2, never a traceback; --restart always recovers; the user's output is untouched
before the scan runs), names with control characters in error rows, repeated ids named by line.

The scans here score with a stand-in detector (no language model), so the tests are fast.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from scan_support import ConstantScorer, write_jsonl
from typer.testing import CliRunner

from byline.engines import scan
from byline.engines.job_store import JobStore, StateError
from byline.engines.scoring import DetectorSpec
from byline.interfaces.cli import app

TEXT = "The council approved the budget on Tuesday after a long debate about bus routes. "


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "wire.jsonl", [{"text": f"Story {i}. " + TEXT * 5} for i in range(300)])


@pytest.fixture
def finished_state(tmp_path: Path, data: Path) -> Path:
    """The state file of a finished scan of ``data``, as the real job store writes it."""
    state = tmp_path / "finished.sqlite"
    summary = scan(data, tmp_path / "first.jsonl", state=state, scorer=ConstantScorer())
    assert summary.total == 300
    with sqlite3.connect(state) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every row in the main file, none in the WAL
    return state


def _smashed(state: Path, first_page: int, last_page: int) -> bytes:
    """The state file's bytes with pages [first_page, last_page) overwritten by garbage."""
    raw = bytearray(state.read_bytes())
    page = 4096
    assert len(raw) >= last_page * page, len(raw)
    for offset in range(first_page * page, last_page * page):
        raw[offset] = (offset * 7 + 13) % 256
    return bytes(raw)


def _other_layout(path: Path, *tables: str) -> bytes:
    with sqlite3.connect(path) as db:
        for table in tables:
            db.execute(f"CREATE TABLE {table}")
    return path.read_bytes()


def _cli_scan(data: Path, out: Path, state: Path, monkeypatch, *extra: str):
    monkeypatch.setattr(DetectorSpec, "load", lambda self: ConstantScorer())
    args = ["scan", str(data), "--out", str(out), "--state", str(state), "--workers", "0", "--quiet", *extra]
    return CliRunner().invoke(app, args)


@pytest.mark.parametrize(
    "damage",
    ["random bytes", "corrupted pages", "corrupted middle pages", "other layout", "another app's database"],
)
def test_a_damaged_or_foreign_state_file_gives_one_line_and_exit_2_and_restart_recovers(
    tmp_path: Path, data: Path, finished_state: Path, monkeypatch, damage: str
) -> None:
    pages = finished_state.stat().st_size // 4096
    content = {
        "random bytes": lambda: os.urandom(64 * 1024),
        "corrupted pages": lambda: _smashed(finished_state, 2, pages),
        "corrupted middle pages": lambda: _smashed(finished_state, pages // 3, 2 * pages // 3),
        # the names of the job store's tables, other columns
        "other layout": lambda: _other_layout(
            tmp_path / "other.sqlite",
            "meta (key TEXT PRIMARY KEY, value TEXT)",
            "results (id INTEGER, score REAL)",
        ),
        # none of its tables: not ours to add tables to
        "another app's database": lambda: _other_layout(
            tmp_path / "other.sqlite", "photos (id INTEGER, name TEXT)"
        ),
    }[damage]()
    state = tmp_path / "state.sqlite"
    state.write_bytes(content)
    out = tmp_path / "out.jsonl"
    out.write_text("the user's earlier output\n")

    result = _cli_scan(data, out, state, monkeypatch)
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"byline: error: {state}: "), result.output
    assert "pass --restart to replace it" in lines[0]
    assert out.read_text() == "the user's earlier output\n"

    result = _cli_scan(data, out, state, monkeypatch, "--restart")
    assert result.exit_code == 0, (result.output, result.exception)
    assert len(out.read_text().splitlines()) == 300
    result = _cli_scan(data, out, state, monkeypatch)  # and the new state file resumes
    assert result.exit_code == 0, (result.output, result.exception)


def test_damage_found_during_a_scan_is_a_state_error_naming_the_file(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    with JobStore(state, {"input": "x"}) as store:
        store.commit([("a", "f", {"error": None})], [(1, "a")])
        with sqlite3.connect(state) as other:  # e.g. another program, or a disk error
            other.execute("DROP TABLE results")
        with pytest.raises(
            StateError, match=rf"^{state}: the scan state file is damaged \(no such table: results\)"
        ):
            store.finished([("a", "f")])
        with pytest.raises(StateError, match="the scan state file is damaged"):
            list(store.rows())


def test_a_fifo_or_folder_is_never_taken_for_the_state_file(tmp_path: Path, data: Path) -> None:
    from conftest import finishes_within

    fifo = tmp_path / "state.fifo"
    os.mkfifo(fifo)
    for state in (fifo, tmp_path):
        for restart in (False, True):
            with pytest.raises(StateError, match="cannot be the scan state file"):
                finishes_within(
                    20,
                    scan,
                    data,
                    tmp_path / "out.jsonl",
                    state=state,
                    restart=restart,
                    scorer=ConstantScorer(),
                )
    assert fifo.exists()


@pytest.mark.parametrize("which", ["output", "input"])
def test_the_state_file_may_not_be_the_input_or_the_output(tmp_path: Path, data: Path, which: str) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"id": "1"}) + "\n")
    before = {path: path.read_bytes() for path in (data, out)}
    state = out if which == "output" else data
    with pytest.raises(StateError, match=f"is the {which}; the scan state needs a file of its own"):
        scan(data, out, state=state, restart=True, scorer=ConstantScorer())
    assert {path: path.read_bytes() for path in (data, out)} == before


def test_error_rows_escape_control_characters_of_file_names(tmp_path: Path) -> None:
    from byline.engines.writers import read_rows

    folder = tmp_path / "wire"
    folder.mkdir()
    (folder / "good.txt").write_text(TEXT * 3)
    (folder / "red\x1b[31m.txt").write_bytes(b"")
    out = tmp_path / "out.csv"
    summary = scan(folder, out, scorer=ConstantScorer())
    assert summary.failed == 1
    bad = next(row for row in read_rows(out) if row["error"])
    assert bad["id"] == "red\x1b[31m.txt" and bad["path"] == str(folder / "red\x1b[31m.txt")  # exact
    assert bad["error"] == f"{folder}/red\\x1b[31m.txt: the input is empty (0 bytes)"
    assert "\x1b" not in out.read_text().replace(bad["id"], "").replace(bad["path"], "")


def test_a_repeated_id_is_named_by_its_line_as_a_malformed_line_is(tmp_path: Path) -> None:
    from byline.engines.writers import read_rows

    lines = [json.dumps({"id": f"s{i}", "text": TEXT}) for i in range(9)]
    lines.insert(4, "")  # a blank line: line numbers and input numbers part here
    lines.append(json.dumps({"id": "s2", "text": TEXT}))  # line 11, the 10th input
    lines.append('{"id": "s9", "text": "unterminated')  # line 12
    data = tmp_path / "wire.jsonl"
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    summary = scan(data, out, id_field="id", scorer=ConstantScorer())
    errors = [row["error"] for row in read_rows(out) if row["error"]]
    assert summary.failed == 2
    assert errors == [
        f"{data}: line 11: duplicate id 's2'; ids must be unique",
        f"{data}: line 12: not valid JSON (Invalid control character at column 35)",
    ]
