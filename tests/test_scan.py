"""The local scan engine: one row per input, errors in rows, resume, formats, exit codes.

Scoring uses a real (tiny) trained detector over the tiny test model, so the
whole pipeline runs, in seconds; the values of its probabilities mean nothing.
"""

from __future__ import annotations

import collections
import json
import os
import re
from pathlib import Path

import pytest
from scan_support import GOOD, article, build_tiny_detector, write_jsonl
from typer.testing import CliRunner

from byline.engines import scan
from byline.engines.job_store import JobStore, StateError
from byline.engines.writers import read_rows
from byline.interfaces.cli import app


@pytest.fixture(scope="module")
def tiny_detector(tiny_model_dir, tmp_path_factory) -> Path:
    return build_tiny_detector(tiny_model_dir, tmp_path_factory.getbasetemp() / "tiny-detector")


@pytest.fixture(scope="module")
def loaded(tiny_detector):
    from byline.engines.scoring import DetectorSpec

    return DetectorSpec(str(tiny_detector)).load()


class CountingScorer:
    """The real detector, recording which articles it was asked to score;
    optionally interrupted (as by Ctrl-C) on its ``interrupt_on``-th batch."""

    def __init__(self, detector, interrupt_on: int | None = None) -> None:
        self.detector = detector
        self.interrupt_on = interrupt_on
        self.batches: list[list[str]] = []

    def detect_many(self, articles, **options):
        self.batches.append([a.source for a in articles])
        if self.interrupt_on is not None and len(self.batches) == self.interrupt_on:
            raise KeyboardInterrupt
        return self.detector.detect_many(articles, **options)

    @property
    def scored(self) -> list[str]:
        return [source for batch in self.batches for source in batch]


@pytest.fixture
def wire(tmp_path: Path) -> Path:
    root = tmp_path / "wire"
    (root / "day1").mkdir(parents=True)
    for index, text in enumerate(GOOD[:6]):
        (root / "day1" / f"story{index}.txt").write_text(text)
    (root / "page.html").write_text(
        f"<html><head><title>Flood</title></head><body><article><p>{GOOD[6]}</p></article></body></html>"
    )
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(b"\x7fELF\x02\x01" + bytes(200))
    (root / "latin1.txt").write_bytes("Caf\xe9 owners said the rent had doubled.".encode("latin-1"))
    return root


BAD_FILES = {"empty.txt": "empty", "binary.txt": "binary file", "latin1.txt": "cannot decode"}


def test_folder_scan_has_one_row_per_file_and_errors_in_rows(wire, tmp_path, loaded) -> None:
    out = tmp_path / "out.jsonl"
    summary = scan(wire, out, scorer=loaded, batch_size=3)
    rows = read_rows(out)
    assert sorted(r["id"] for r in rows) == sorted(
        [f"day1/story{i}.txt" for i in range(6)] + ["page.html", *BAD_FILES]
    )
    assert (summary.total, summary.scored, summary.failed, summary.exit_code) == (10, 7, 3, 1)
    assert summary.verdicts == dict(collections.Counter(r["verdict"] for r in rows if r["verdict"]))
    for row in rows:
        assert row["path"] == str(wire / row["id"])
        if row["id"] in BAD_FILES:
            assert BAD_FILES[row["id"]] in row["error"] and row["error"].startswith(row["path"])
            assert row["verdict"] is None and row["ai_probability"] is None
        else:
            assert row["error"] is None
            assert row["verdict"] in ("ai", "human")
            assert 0.0 <= row["ai_probability"] <= 1.0 and row["n_tokens"] > 0
    assert next(r for r in rows if r["id"] == "page.html")["title"] == "Flood"


def test_rows_do_not_depend_on_batching_or_worker_processes(wire, tmp_path, tiny_detector, loaded) -> None:
    alone = tmp_path / "alone.jsonl"
    scan(wire, alone, scorer=loaded, batch_size=1)
    pooled = tmp_path / "pooled.jsonl"
    summary = scan(wire, pooled, detector=str(tiny_detector), workers=2, threads=1, batch_size=4)
    assert summary.total == 10
    assert read_rows(alone) == read_rows(pooled)


def test_the_three_output_formats_hold_the_same_rows(wire, tmp_path, loaded) -> None:
    outputs = {suffix: tmp_path / f"out.{suffix}" for suffix in ("jsonl", "csv", "parquet")}
    for path in outputs.values():
        scan(wire, path, scorer=loaded)
    as_jsonl = read_rows(outputs["jsonl"])
    assert read_rows(outputs["parquet"]) == as_jsonl
    as_csv = read_rows(outputs["csv"])
    assert [r["id"] for r in as_csv] == [r["id"] for r in as_jsonl]
    for text_row, row in zip(as_csv, as_jsonl):
        for name, value in row.items():
            assert text_row[name] == ("" if value is None else str(value)), name


def test_interrupted_scan_resumes_without_rescoring_and_loses_nothing(tmp_path, loaded) -> None:
    records = [{"text": article(i, 3 + i % 4)} for i in range(20)] + ["{not json"]
    data = write_jsonl(tmp_path / "wire.jsonl", records)
    out = tmp_path / "out.parquet"
    first = CountingScorer(loaded, interrupt_on=3)
    with pytest.raises(KeyboardInterrupt):
        scan(data, out, scorer=first, batch_size=4)
    assert not out.exists()
    finished_first = first.scored[:8]  # two batches committed before the third was interrupted
    second = CountingScorer(loaded)
    summary = scan(data, out, scorer=second, batch_size=4)
    assert not set(second.scored) & set(finished_first), "finished inputs were scored again"
    assert sorted(second.scored + finished_first) == sorted(f"{data}: line {i}" for i in range(1, 21))
    rows = read_rows(out)
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 22)]  # every input once, in order
    assert summary.resumed == 9 and summary.failed == 1  # the two batches and the bad line
    reference = tmp_path / "reference.parquet"
    scan(data, reference, scorer=loaded, batch_size=4)
    assert rows == read_rows(reference)


def test_a_changed_input_is_scored_again_on_the_next_run(wire, tmp_path, loaded) -> None:
    out = tmp_path / "out.jsonl"
    scan(wire, out, scorer=loaded)
    changed = wire / "day1" / "story2.txt"
    changed.write_text(GOOD[9])
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    counting = CountingScorer(loaded)
    summary = scan(wire, out, scorer=counting)
    assert counting.scored == [str(changed)]
    assert summary.resumed == 9 and summary.total == 10


def test_other_settings_are_refused_unless_restarted(wire, tmp_path, loaded) -> None:
    out = tmp_path / "out.jsonl"
    scan(wire, out, scorer=loaded, fpr=0.01, precision="float32")
    with pytest.raises(StateError, match="fpr: 0.01 before, 0.05 now"):
        scan(wire, out, scorer=loaded, fpr=0.05)
    counting = CountingScorer(loaded)
    summary = scan(wire, out, scorer=counting, fpr=0.05, restart=True, precision="float32")
    assert summary.resumed == 0 and len(counting.scored) == 7
    # bfloat16 language models give slightly different probabilities: not the same job either
    with pytest.raises(StateError, match="precision: None before, 'bfloat16' now"):
        scan(wire, out, scorer=loaded, fpr=0.05, precision="bfloat16")
    with pytest.raises(ValueError, match="precision must be auto, float32, bfloat16, got 'float16'"):
        scan(wire, out, scorer=loaded, precision="float16")
    # scoring texts in every language changes which rows get a verdict
    with pytest.raises(StateError, match="any_language: None before, True now"):
        scan(wire, out, scorer=loaded, fpr=0.05, any_language=True)


def test_repeated_ids_get_error_rows_of_their_own(tmp_path, loaded) -> None:
    records = [{"id": "a", "text": GOOD[0]}, {"id": "b", "text": GOOD[1]}, {"id": "a", "text": GOOD[2]}]
    data = write_jsonl(tmp_path / "wire.jsonl", records)
    out = tmp_path / "out.jsonl"
    summary = scan(data, out, id_field="id", scorer=loaded)
    rows = read_rows(out)
    assert [r["id"] for r in rows] == ["a", "b", "a"]
    assert rows[0]["error"] is None and "duplicate id" in rows[2]["error"]
    assert summary.failed == 1
    again = scan(data, out, id_field="id", scorer=loaded)  # a re-run keeps them apart
    assert again.resumed == 3 and read_rows(out) == rows


def test_an_empty_input_gives_an_empty_output(tmp_path, loaded) -> None:
    data = tmp_path / "none.jsonl"
    data.write_text("\n\n")
    summary = scan(data, tmp_path / "out.parquet", scorer=loaded)
    assert (summary.total, summary.exit_code) == (0, 0)
    assert read_rows(tmp_path / "out.parquet") == []


def test_the_output_may_not_overwrite_the_input(tmp_path, loaded) -> None:
    from byline.errors import InputError

    data = write_jsonl(tmp_path / "wire.jsonl", [{"text": GOOD[0]}])
    with pytest.raises(InputError, match="is the input itself"):
        scan(data, tmp_path / "wire.jsonl", scorer=loaded)
    assert data.read_text().startswith('{"text"')


def test_a_state_file_is_used_by_one_scan_at_a_time(tmp_path) -> None:
    with (
        JobStore(tmp_path / "state.sqlite", {"input": "x"}),
        pytest.raises(StateError, match="in use by another"),
    ):
        JobStore(tmp_path / "state.sqlite", {"input": "x"})
    JobStore(tmp_path / "state.sqlite", {"input": "x"}).close()  # free again


def test_a_worker_that_dies_costs_only_its_input(tmp_path, tiny_detector) -> None:
    from scan_support import CrashingLoader

    from byline.engines.common import finish_scan
    from byline.engines.progress import ScanProgress
    from byline.engines.sources import open_source
    from byline.engines.workers import WorkerPool

    records = [{"text": GOOD[i]} for i in range(5)] + [{"text": "CRASH " + GOOD[5]}, {"text": GOOD[6]}]
    data = write_jsonl(tmp_path / "wire.jsonl", records)
    pool = WorkerPool(CrashingLoader(str(tiny_detector)), 1)
    with JobStore(tmp_path / "state.sqlite", {"input": str(data)}) as store:
        from byline.engines.runner import run_batches

        try:
            run_batches(
                open_source(str(data)),
                store,
                pool,
                ScanProgress(None, quiet=True),
                batch_size=4,
                read_ahead=64,
            )
        finally:
            pool.close()
        counts = finish_scan(store, tmp_path / "out.jsonl")
    rows = read_rows(tmp_path / "out.jsonl")
    assert (counts.total, counts.scored, counts.failed) == (7, 6, 1)
    assert sum(counts.verdicts.values()) == 6
    assert counts.verdicts == dict(collections.Counter(r["verdict"] for r in rows if r["verdict"]))
    assert "scoring process died" in rows[5]["error"]
    assert all(r["error"] is None for i, r in enumerate(rows) if i != 5)


# -- the command line ----------------------------------------------------------------------------


def _cli(*args: str):
    return CliRunner().invoke(app, ["scan", *args])


def test_cli_exit_codes(wire, tmp_path, tiny_detector) -> None:
    good = tmp_path / "good"
    good.mkdir()
    for index in range(3):
        (good / f"{index}.txt").write_text(GOOD[index])
    common = ["--detector", str(tiny_detector), "--workers", "0"]
    result = _cli(str(good), "--out", str(tmp_path / "good.csv"), *common)
    assert result.exit_code == 0, result.output
    assert "scanned 3 inputs" in result.output
    # the scored rows by verdict: "3 scored (2 machine-written, 1 human-written), 0 errors"
    by_verdict = re.search(r"3 scored \(([^)]*)\), 0 errors", " ".join(result.output.split()))
    assert by_verdict and sum(int(part.split()[0]) for part in by_verdict.group(1).split(", ")) == 3
    result = _cli(str(wire), "--out", str(tmp_path / "wire.jsonl"), *common, "--quiet")
    assert result.exit_code == 1 and result.output == ""
    assert len(read_rows(tmp_path / "wire.jsonl")) == 10
    one = tmp_path / "one"
    one.mkdir()
    (one / "empty.txt").write_text("")
    result = _cli(str(one), "--out", str(tmp_path / "one.jsonl"), *common)
    summary = " ".join(result.output.split())
    assert result.exit_code == 1 and "scanned 1 input in" in summary and "0 scored, 1 error ->" in summary
    result = _cli(str(wire), "--out", str(tmp_path / "wire.txt"), *common)
    assert result.exit_code == 2 and "must end in .jsonl, .csv or .parquet" in result.output
    result = _cli(str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.jsonl"), *common)
    assert result.exit_code == 2 and "no such file or folder" in result.output
    # an output (or state file) that cannot be written is refused before any scoring
    (tmp_path / "a-file").write_text("")
    result = _cli(str(good), "--out", str(tmp_path / "a-file" / "rows.jsonl"), *common)
    assert result.exit_code == 2 and "cannot write the output here" in " ".join(result.output.split())
    result = _cli(
        str(good),
        "--out",
        str(tmp_path / "rows.jsonl"),
        "--state",
        str(tmp_path / "a-file" / "state"),
        *common,
    )
    assert result.exit_code == 2 and "cannot create the scan state file here" in " ".join(
        result.output.split()
    )


def test_cli_reads_jsonl_from_stdin(tmp_path, tiny_detector) -> None:
    lines = "\n".join(json.dumps({"body": t, "key": f"k{i}"}) for i, t in enumerate(GOOD[:3])) + "\n{broken\n"
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "scan",
            "-",
            "--out",
            str(out),
            "--text-field",
            "body",
            "--id-field",
            "key",
            "--detector",
            str(tiny_detector),
            "--workers",
            "0",
        ],
        input=lines,
    )
    assert result.exit_code == 1, result.output
    rows = read_rows(out)
    assert [r["id"] for r in rows] == ["k0", "k1", "k2", "4"]
    assert rows[3]["error"].startswith("<stdin>: line 4: not valid JSON")


def test_batches_hold_similar_lengths_within_their_limits() -> None:
    from byline.engines.sources import ReadInput
    from byline.engines.workers import split_batches
    from byline.input import Article

    items = [
        ReadInput(str(i), None, str(i), "", article=Article("x" * n))
        for i, n in enumerate([5, 500, 50, 400, 60, 7])
    ]
    batches = split_batches(items, batch_size=2, max_chars=600)
    assert [[len(i.article.text) for i in batch] for batch in batches] == [[500], [400, 60], [50, 7], [5]]


@pytest.mark.parametrize(("cores", "expected"), [(1, (1, 1)), (2, (1, 2)), (8, (2, 4)), (64, (8, 8))])
def test_cpu_workers_share_the_cores(monkeypatch, cores, expected) -> None:
    from byline.engines import runner

    monkeypatch.setattr(runner, "available_cores", lambda: cores)
    assert runner.plan_workers(None, None, "cpu") == expected
    assert runner.plan_workers(3, None, "cpu") == (3, max(1, cores // 3))
