"""Tracing a rewrite to its source: index building, incremental and resumed indexing, alignment, CLI.

The fixtures are a few short articles and rewrites written for these tests
(tests/fixtures/tracing). The real sentence encoder (22M parameters) is used.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from byline.errors import InputError, ModelError
from byline.tracing import SourceArticle, SourceIndex, SourceProblem, read_sources
from byline.tracing.encoder import shared_encoder
from byline.tracing.index import VECTORS_FILE

FIXTURES = Path(__file__).parent / "fixtures" / "tracing"
SOURCES = FIXTURES / "sources"


@pytest.fixture(scope="session")
def encoder():
    return shared_encoder()


@pytest.fixture(scope="module")
def built_index(tmp_path_factory, encoder):
    path = tmp_path_factory.mktemp("trace") / "index"
    with SourceIndex.create(path, encoder=encoder) as index:
        report = index.add_sources(SOURCES)
    assert report.added == 5 and not report.problems
    return path


def _records() -> list[SourceArticle]:
    return [item for item in read_sources(SOURCES) if isinstance(item, SourceArticle)]


def test_trace_finds_the_source_of_each_rewrite(built_index, encoder):
    with SourceIndex.open(built_index, encoder=encoder) as index:
        bridge = index.trace((FIXTURES / "rewrite-bridge.txt").read_text())
        flood = index.trace((FIXTURES / "rewrite-flood.txt").read_text())
    assert bridge.matches[0].id == "harbour-bridge.txt"
    assert flood.matches[0].id == "river-flood.txt"
    assert bridge.matches[0].likely_source and flood.matches[0].likely_source
    assert not bridge.matches[1].likely_source
    scores = [m.score for m in bridge.matches]
    assert scores == sorted(scores, reverse=True)


def test_alignment_flags_a_changed_number_and_an_added_sentence(built_index, encoder):
    with SourceIndex.open(built_index, encoder=encoder) as index:
        result = index.trace((FIXTURES / "rewrite-bridge.txt").read_text())
    sentences = result.alignment.sentences
    cracks = next(s for s in sentences if "cracks" in s.text)
    assert cracks.supported
    assert cracks.new_numbers == ["41"]  # the source says 14
    assert "14 of the bridge" in cracks.sources[0].text
    added = sentences[-1]
    assert "Thomas Brandt" in added.text
    assert not added.supported
    assert added.new_numbers == ["2019"]
    assert set(added.new_names) == {"thomas", "brandt"}
    # Faithfully rewritten sentences carry no flags.
    flood = next(s for s in sentences if "ferry" in s.text)
    assert flood.supported and not flood.new_numbers and not flood.new_names
    alignment = result.alignment
    assert alignment.unsupported_sentences == 1
    assert alignment.source_sentences == 6
    # Five of the six source sentences are reused; the shop owners' warning is not.
    assert alignment.source_sentences_reused == 5
    assert 0.7 < alignment.source_reused_share < 0.95
    for sentence in sentences:
        assert result.text[sentence.start : sentence.end] == sentence.text


def test_faithful_rewrite_is_fully_supported(built_index, encoder):
    with SourceIndex.open(built_index, encoder=encoder) as index:
        result = index.trace((FIXTURES / "rewrite-flood.txt").read_text())
    assert result.alignment.unsupported_sentences == 0
    assert result.alignment.supported_share == 1.0
    assert result.alignment.changed_facts == 0


def test_incremental_add_skips_unchanged_and_replaces_changed(tmp_path, encoder):
    records = _records()
    path = tmp_path / "index"
    with SourceIndex.create(path, encoder=encoder) as index:
        first = index.add(records[:3])
    assert (first.added, first.unchanged) == (3, 0)
    with SourceIndex.create(path, encoder=encoder) as index:
        second = index.add(records)
        assert (second.added, second.unchanged, second.updated) == (2, 3, 0)
        changed = SourceArticle(records[0].id, records[0].text + " The council will meet again in May.")
        third = index.add([changed])
        assert (third.added, third.updated) == (0, 1)
        assert len(index) == 5
    with SourceIndex.open(path, encoder=encoder) as index:
        assert len(index) == 5
        assert len(index.vectors) == 5
        stored = index.store.articles(list(index.store.keys()))
        assert sorted(a.id for a in stored.values()) == sorted(r.id for r in records)
        assert any(a.text.endswith("again in May.") for a in stored.values())


@pytest.mark.parametrize("batch_size", [1, 2, 64])
def test_an_id_repeated_in_one_run_is_counted_wherever_batches_fall(tmp_path, encoder, batch_size):
    first, second = _records()[:2]
    revised = SourceArticle(first.id, first.text + " The council will meet again in May.")
    with SourceIndex.create(tmp_path / "index", encoder=encoder) as index:
        report = index.add([first, second, first, revised], batch_size=batch_size)
        # the repeat with the same text is unchanged, the later text replaces the earlier one
        assert (report.added, report.unchanged, report.updated) == (2, 1, 1)
        assert len(index) == 2 and len(index.vectors) == 2
        stored = index.store.articles(list(index.store.keys()))
        assert {a.id: a.text for a in stored.values()}[first.id] == revised.text


def test_add_takes_plain_records_and_names_a_bad_one(tmp_path, encoder):
    first = _records()[0]
    records = [{"id": first.id, "text": first.text, "title": "Bridge"}, {"id": "no-text"}]
    with SourceIndex.create(tmp_path / "index", encoder=encoder) as index:
        report = index.add(records)
        assert report.added == 1 and [str(p) for p in report.problems] == [
            "record 2 (id no-text): the record has no 'text'"
        ]
        assert index.store.articles(list(index.store.keys())).popitem()[1].title == "Bridge"
        with pytest.raises(TypeError, match="item 1: expected a SourceArticle or a record"):
            index.add([first.text])


def test_interrupted_indexing_resumes_without_duplicates(tmp_path, encoder):
    records = _records()
    path = tmp_path / "index"

    def interrupted():
        for number, record in enumerate(records):
            if number == 3:
                raise KeyboardInterrupt
            yield record

    with SourceIndex.create(path, encoder=encoder) as index:
        with pytest.raises(KeyboardInterrupt):
            index.add(interrupted(), batch_size=2)
        assert len(index) == 2  # the finished batch was committed, the half batch was not
    with SourceIndex.create(path, encoder=encoder) as index:
        report = index.add(records, batch_size=2)
        assert (report.added, report.unchanged) == (3, 2)
        assert len(index) == 5 and len(index.vectors) == 5


def test_a_crash_before_the_vector_file_is_saved_is_repaired(tmp_path, encoder, monkeypatch):
    records = _records()
    path = tmp_path / "index"
    with SourceIndex.create(path, encoder=encoder) as index:
        index.add(records[:2])
    saved = (path / VECTORS_FILE).read_bytes()
    with SourceIndex.create(path, encoder=encoder) as index:
        index.add(records[2:])
    # As if the process died after SQLite committed but before the vector file was written.
    (path / VECTORS_FILE).write_bytes(saved)
    with SourceIndex.open(path, encoder=encoder) as index:
        assert len(index) == 5 and len(index.vectors) == 5
        assert index.trace((FIXTURES / "rewrite-flood.txt").read_text()).matches[0].id == "river-flood.txt"
    (path / VECTORS_FILE).write_bytes(b"not an index")
    with SourceIndex.open(path, encoder=encoder) as index:
        assert len(index.vectors) == 5


def test_read_sources_reports_bad_records_and_keeps_good_ones(tmp_path):
    jsonl = tmp_path / "sources.jsonl"
    jsonl.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "id": "a",
                        "text": "A good article about the harbour.",
                        "title": "Harbour",
                        "url": "https://example.org/a",
                    }
                ),
                "{not json",
                json.dumps({"text": "No id here."}),
                json.dumps({"id": "b"}),
                json.dumps({"id": "c", "text": "   "}),
                json.dumps(["a", "list"]),
                json.dumps({"id": 7, "text": "Numeric ids are fine."}),
            ]
        )
    )
    items = list(read_sources(jsonl))
    good = [i for i in items if isinstance(i, SourceArticle)]
    problems = [str(i) for i in items if isinstance(i, SourceProblem)]
    assert [g.id for g in good] == ["a", "7"]
    assert good[0].title == "Harbour" and good[0].url == "https://example.org/a"
    assert len(problems) == 5
    assert f"{jsonl}: line 2: not valid JSON" in problems[0]
    assert "no 'id'" in problems[1]
    assert f"{jsonl}: line 4 (id b): the record has no 'text'" == problems[2]
    assert "whitespace" in problems[3]
    assert "not a JSON object" in problems[4]


def test_a_line_or_row_that_is_not_utf8_costs_only_itself(tmp_path):
    # A text-mode reader loses the whole buffered chunk around such a line: here, every record.
    good = [
        json.dumps({"id": i, "text": f"Story {i} about the harbour and the ferry timetable."}) for i in "abc"
    ]
    jsonl = tmp_path / "sources.jsonl"
    jsonl.write_bytes(
        b"\n".join(
            [
                good[0].encode(),
                '{"id": "x", "text": "caf\u00e9"}'.encode("latin-1"),
                good[1].encode(),
                good[2].encode(),
            ]
        )
    )
    items = list(read_sources(jsonl))
    assert [i.id for i in items if isinstance(i, SourceArticle)] == ["a", "b", "c"]
    assert [str(i) for i in items if isinstance(i, SourceProblem)] == [
        f"{jsonl}: line 2: not valid UTF-8 (byte 0xe9 at column 25)"
    ]

    table = tmp_path / "sources.csv"
    table.write_bytes(
        b"id,text\na,First story about the ferry.\nx,caf\xe9 story\nb,Second story about the harbour.\n"
    )
    items = list(read_sources(table))
    assert [i.id for i in items if isinstance(i, SourceArticle)] == ["a", "b"]
    assert [str(i) for i in items if isinstance(i, SourceProblem)] == [
        f"{table}: row 2: the 'text' column holds bytes that are not valid UTF-8"
    ]


def test_read_sources_formats_and_bad_arguments(tmp_path):
    csv_file = tmp_path / "sources.csv"
    csv_file.write_text('id,text,date\nx1,"A story, with a comma.",2024-01-02\nx2,,\n')
    items = list(read_sources(csv_file))
    assert items[0] == SourceArticle("x1", "A story, with a comma.", date="2024-01-02")
    assert isinstance(items[1], SourceProblem) and items[1].where == f"{csv_file}: row 2 (id x2)"

    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    parquet = tmp_path / "sources.parquet"
    pq.write_table(
        pyarrow.table({"id": ["p1", "p2"], "text": ["First story.", None], "title": ["T", None]}), parquet
    )
    items = list(read_sources(parquet))
    assert items[0] == SourceArticle("p1", "First story.", title="T")
    assert isinstance(items[1], SourceProblem) and "row 2" in items[1].where

    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text('id;text;date\nx1;"A story; with a semicolon, and a comma.";2024-01-02\n')
    assert list(read_sources(semicolons)) == [
        SourceArticle("x1", "A story; with a semicolon, and a comma.", date="2024-01-02")
    ]
    tabs = tmp_path / "tabs.tsv"
    tabs.write_text("id\ttext\nt1\tA story, with a comma.\n")
    assert list(read_sources(tabs)) == [SourceArticle("t1", "A story, with a comma.")]

    no_text = tmp_path / "no_text.csv"
    no_text.write_text("id,body\n1,hello\n")
    with pytest.raises(InputError, match="no column 'text'"):
        read_sources(no_text)
    with pytest.raises(InputError, match="no such file"):
        read_sources(tmp_path / "missing.jsonl")
    other = tmp_path / "sources.xlsx"
    other.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="unknown kind of SOURCES"):
        read_sources(other)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no .txt or .html files"):
        read_sources(empty)

    folder = tmp_path / "folder"
    shutil.copytree(SOURCES, folder)
    (folder / "broken.txt").write_bytes(b"\xff\xfe\xfa not utf-8 \x00\x00")
    (folder / "sub").mkdir()
    (folder / "sub" / "nested.txt").write_text("A nested story about the market.")
    items = list(read_sources(folder))
    ids = [i.id for i in items if isinstance(i, SourceArticle)]
    assert "sub/nested.txt" in ids and "chess-prodigy.html" in ids
    html = next(i for i in items if isinstance(i, SourceArticle) and i.id == "chess-prodigy.html")
    assert html.title == "Chess prodigy wins national title" and "<p>" not in html.text
    assert any(isinstance(i, SourceProblem) and i.where.endswith("broken.txt") for i in items)


def test_index_sources_refuse_special_files_without_opening_them(tmp_path):
    """A FIFO named as SOURCES is refused; one in a folder is a problem of its own, not a hang."""
    import os

    from conftest import finishes_within

    os.mkfifo(tmp_path / "sources.jsonl")
    with pytest.raises(InputError, match=r"sources.jsonl: is a named pipe \(FIFO\), not a regular file"):
        finishes_within(20, read_sources, tmp_path / "sources.jsonl")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "good.txt").write_text("A story about the market and the council's budget.")
    os.mkfifo(folder / "pipe.txt")
    items = finishes_within(20, lambda: list(read_sources(folder)))
    assert [i.id for i in items if isinstance(i, SourceArticle)] == ["good.txt"]
    assert [str(i) for i in items if isinstance(i, SourceProblem)] == [
        f"{folder / 'pipe.txt'}: is a named pipe (FIFO), not a regular file"
    ]


def test_opening_something_that_is_not_an_index(tmp_path):
    with pytest.raises(InputError, match="no such index"):
        SourceIndex.open(tmp_path / "nothing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="not a Byline source index"):
        SourceIndex.open(tmp_path / "plain")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="non-empty directory"):
        SourceIndex.create(tmp_path / "busy")


class _FakeVerdict:
    def to_dict(self):
        return {"verdict": "ai", "ai_probability": 0.9}


class _FakeDetector:
    """Stands in for byline.Detector: this test is about plumbing, not scores."""

    def __init__(self):
        self.seen = []

    def detect(self, article):
        self.seen.append(article)
        return _FakeVerdict()


def test_trace_carries_the_detector_verdict(built_index, encoder):
    detector = _FakeDetector()
    with SourceIndex.open(built_index, encoder=encoder) as index:
        result = index.trace((FIXTURES / "rewrite-flood.txt").read_text(), detector=detector)
    assert result.verdict == {"verdict": "ai", "ai_probability": 0.9}
    assert detector.seen[0].text == result.text
    assert json.loads(result.to_json())["verdict"]["verdict"] == "ai"


def test_trace_refuses_unusable_text(built_index, encoder):
    with SourceIndex.open(built_index, encoder=encoder) as index:
        with pytest.raises(InputError, match="only whitespace"):
            index.trace("   \n ")
        with pytest.raises(InputError, match="expected text \\(str\\), got NoneType"):
            index.trace(None)
        with pytest.raises(ValueError, match="limit must be at least 1"):
            index.trace((FIXTURES / "rewrite-flood.txt").read_text(), limit=0)


# -- command line -------------------------------------------------------------

runner = CliRunner()


def _cli():
    from byline.interfaces.cli import app

    return app


def test_cli_index_and_trace_json(tmp_path, encoder):
    path = tmp_path / "index"
    done = runner.invoke(_cli(), ["index", str(SOURCES), "--out", str(path), "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["added"] == 5 and summary["articles"] == 5
    traced = runner.invoke(
        _cli(),
        ["trace", str(FIXTURES / "rewrite-bridge.txt"), "--index", str(path), "--json", "--no-verdict"],
    )
    assert traced.exit_code == 0, traced.output
    document = json.loads(traced.stdout)
    assert set(document) >= {
        "matches",
        "alignment",
        "verdict",
        "source",
        "text",
        "index",
        "version",
        "schema_version",
    }
    assert document["verdict"] is None
    best = document["matches"][0]
    assert set(best) >= {"id", "title", "score", "url", "likely_source", "supported_share"}
    assert best["id"] == "harbour-bridge.txt" and 0.0 <= best["score"] <= 1.0
    alignment = document["alignment"]
    assert alignment["source_id"] == "harbour-bridge.txt"
    assert set(alignment) >= {"sentences", "supported_share", "source_reused_share", "unsupported_sentences"}
    sentence = alignment["sentences"][0]
    assert set(sentence) == {
        "text",
        "start",
        "end",
        "supported",
        "similarity",
        "sources",
        "new_numbers",
        "new_names",
    }
    assert set(sentence["sources"][0]) == {"text", "start", "end", "similarity"}

    report = runner.invoke(
        _cli(), ["trace", str(FIXTURES / "rewrite-bridge.txt"), "--index", str(path), "--no-verdict"]
    )
    assert report.exit_code == 0
    assert "harbour-bridge.txt" in report.stdout and "Sentence by sentence" in report.stdout

    # the verdict's language models in bfloat16: the shipped detector, named as such in the verdict
    quick = runner.invoke(
        _cli(),
        [
            "trace",
            str(FIXTURES / "rewrite-bridge.txt"),
            "--index",
            str(path),
            "--json",
            "--verdict-precision",
            "bfloat16",
        ],
    )
    assert quick.exit_code == 0, quick.output
    verdict = json.loads(quick.stdout)["verdict"]
    assert verdict["model"].endswith(", bfloat16)") and verdict["verdict"] in ("ai", "human")


def test_cli_index_and_trace_in_fresh_processes(tmp_path):
    """`byline index` then `byline trace` as a user runs them: each its own new Python process.

    In one process the test session has long since loaded PyTorch and ONNX Runtime; a fresh
    `byline index` opens the vector index before it embeds, and the order in which native
    libraries load there once killed it with SIGSEGV (see vector_index._usearch_index).
    """
    import os
    import subprocess
    import sys

    path = tmp_path / "index"
    env = {**os.environ, "COLUMNS": "200"}
    built = subprocess.run(
        [sys.executable, "-m", "byline", "index", str(SOURCES), "--out", str(path), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    assert json.loads(built.stdout.strip().splitlines()[-1])["added"] == 5
    traced = subprocess.run(
        [
            sys.executable,
            "-m",
            "byline",
            "trace",
            str(FIXTURES / "rewrite-flood.txt"),
            "--index",
            str(path),
            "--json",
            "--no-verdict",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert traced.returncode == 0, traced.stderr[-2000:]
    assert json.loads(traced.stdout)["matches"][0]["id"] == "river-flood.txt"


def _said(result) -> str:
    # rich wraps long lines at the terminal width; compare with whitespace collapsed.
    return " ".join(result.output.split())


def test_cli_bad_inputs(tmp_path, encoder):
    missing = runner.invoke(
        _cli(),
        ["trace", str(FIXTURES / "rewrite-bridge.txt"), "--index", str(tmp_path / "none"), "--no-verdict"],
    )
    assert missing.exit_code == 2 and "none: no such index" in _said(missing)
    bad_sources = runner.invoke(_cli(), ["index", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "i")])
    assert bad_sources.exit_code == 2 and "nope.jsonl: no such file" in _said(bad_sources)
    (tmp_path / "a-file").write_text("")
    unwritable = runner.invoke(_cli(), ["index", str(FIXTURES), "--out", str(tmp_path / "a-file" / "i")])
    assert unwritable.exit_code == 2 and "cannot create the index here" in _said(unwritable)
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text(
        json.dumps({"id": "ok", "text": "The harbour bridge will close in March."}) + "\n{oops\n"
    )
    partial = runner.invoke(_cli(), ["index", str(jsonl), "--out", str(tmp_path / "i")])
    assert partial.exit_code == 1
    assert "s.jsonl: line 2: not valid JSON" in _said(partial)
    assert "1 added" in _said(partial)
    article = tmp_path / "missing.txt"
    gone = runner.invoke(_cli(), ["trace", str(article), "--index", str(tmp_path / "i"), "--no-verdict"])
    assert gone.exit_code == 2 and "missing.txt: no such file" in _said(gone)
    # a folder of files in another encoding: the error names the option, and the option works
    folder = tmp_path / "cp1252"
    folder.mkdir()
    (folder / "cafe.txt").write_bytes(
        "The caf\u00e9 by the harbour bridge will close in March.".encode("cp1252")
    )
    undecoded = runner.invoke(_cli(), ["index", str(folder), "--out", str(tmp_path / "j")])
    assert (
        undecoded.exit_code == 1 and "--encoding cp1252" in _said(undecoded) and "0 added" in _said(undecoded)
    )
    unknown = runner.invoke(
        _cli(), ["index", str(folder), "--out", str(tmp_path / "k"), "--encoding", "nope"]
    )
    assert unknown.exit_code == 2 and "unknown text encoding 'nope'" in _said(unknown)
    assert not (tmp_path / "k").exists()
    decoded = runner.invoke(
        _cli(), ["index", str(folder), "--out", str(tmp_path / "j"), "--encoding", "cp1252"]
    )
    assert decoded.exit_code == 0 and "1 added" in _said(decoded)


# -- sentence splitting and facts ------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st

from byline.tracing.facts import names_in, numbers_in  # noqa: E402
from byline.tracing.sentences import MAX_WORDS, split_for_matching  # noqa: E402


def test_split_for_matching_keeps_abbreviations_and_cuts_long_sentences():
    text = "Mr. Smith met J. K. Rowling in the U.S. on Monday. Prices rose 2.5% in 2019! Why?\nNew line."
    assert [s.text for s in split_for_matching(text)] == [
        "Mr. Smith met J. K. Rowling in the U.S. on Monday.",
        "Prices rose 2.5% in 2019!",
        "Why?",
        "New line.",
    ]
    long = " ".join(f"word{i}," if i % 10 == 9 else f"word{i}" for i in range(150)) + "."
    pieces = split_for_matching(long)
    assert len(pieces) >= 3 and all(len(p.text.split()) <= MAX_WORDS for p in pieces)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\"'MrU,0")), max_size=300))
def test_split_spans_point_into_the_text(text):
    spans = split_for_matching(text)
    for span in spans:
        assert text[span.start : span.end] == span.text and span.text.strip() == span.text and span.text
    assert [s.start for s in spans] == sorted(s.start for s in spans)


def test_numbers_and_names():
    assert numbers_in("It cost £1,200.50 and three people, one of them aged 40, in 2019.") == {
        "1200.5",
        "3",
        "40",
        "2019",
    }
    assert names_in("Officials in Irving said Ahmed Mohamed met Barack Obama. The BBC reported it.") >= {
        "irving",
        "mohamed",
        "barack",
        "obama",
        "bbc",
    }
    assert "officials" not in names_in("Officials in Irving said so.")


def test_onnx_runtime_gives_pytorchs_vectors(encoder, tmp_path, monkeypatch):
    """The ONNX Runtime path is a faster way to the same vectors, not a different encoder."""
    from byline.tracing.encoder import SentenceEncoder

    assert encoder.runtime == "onnx"  # the default on a CPU with onnxruntime installed
    reference = SentenceEncoder(runtime="torch")
    sentences = [s.strip() for s in (FIXTURES / "rewrite-bridge.txt").read_text().split(".") if s.strip()]
    sentences += ["A", "Short.", " ".join(["word"] * 300)]  # one token, one word, a piece cut at 128 tokens
    fast, slow = encoder.encode(sentences), reference.encode(sentences)
    assert fast.shape == slow.shape == (len(sentences), 384)
    assert (fast * slow).sum(axis=1).min() > 0.9999
    # A second process start reuses the exported file in the cache directory.
    monkeypatch.setenv("BYLINE_CACHE_DIR", str(tmp_path))
    first = SentenceEncoder(runtime="onnx")
    exported = list((tmp_path / "encoders").glob("*.onnx"))
    assert len(exported) == 1 and not list((tmp_path / "encoders").glob(".*"))
    modified = exported[0].stat().st_mtime_ns
    second = SentenceEncoder(runtime="onnx")
    assert exported[0].stat().st_mtime_ns == modified
    assert (first.encode(sentences) * second.encode(sentences)).sum(axis=1).min() > 0.9999


# -- the int8 encoder ------------------------------------------------------------


def test_the_int8_encoder_gives_vectors_close_to_the_float_ones(encoder):
    from byline.tracing.encoder import MODEL_NAME, SentenceEncoder

    quick = shared_encoder("int8")
    assert quick.name == f"{MODEL_NAME}-int8" != encoder.name and quick.runtime == "onnx"
    sentences = [s.strip() for s in (FIXTURES / "rewrite-bridge.txt").read_text().split(".") if s.strip()]
    close, exact = quick.encode(sentences), encoder.encode(sentences)
    assert np.allclose(np.linalg.norm(close, axis=1), 1.0, atol=1e-5)
    agreement = (close * exact).sum(axis=1)
    assert agreement.min() > 0.9 and agreement.mean() > 0.97
    assert not np.allclose(close, exact, atol=1e-3)  # a different encoder, which is why an index records it
    for wrong in ({"precision": "int4"}, {"precision": "int8", "runtime": "torch"}):
        with pytest.raises(ModelError):
            SentenceEncoder(**wrong)


def test_the_bfloat16_encoder_gives_nearly_the_float_vectors(encoder):
    from byline.tracing.encoder import BFLOAT16_BATCH_SIZE, MODEL_NAME, SentenceEncoder

    half = shared_encoder("bfloat16")
    assert half.name == f"{MODEL_NAME}-bfloat16" != encoder.name and half.runtime == "torch"
    assert half.batch_size == BFLOAT16_BATCH_SIZE
    sentences = [s.strip() for s in (FIXTURES / "rewrite-bridge.txt").read_text().split(".") if s.strip()]
    close, exact = half.encode(sentences), encoder.encode(sentences)
    assert close.dtype == np.float32 and np.allclose(np.linalg.norm(close, axis=1), 1.0, atol=1e-5)
    agreement = (close * exact).sum(axis=1)
    assert agreement.min() > 0.99
    assert not np.allclose(close, exact, atol=1e-6)  # still another encoder's vectors, so recorded as such
    # Token counts are padded for speed; a sentence's vector must not depend on its batch-mates.
    alone = np.stack([half.encode([sentence])[0] for sentence in sentences])
    assert (alone * close).sum(axis=1).min() > 0.999
    with pytest.raises(ModelError, match="PyTorch, not ONNX Runtime"):
        SentenceEncoder(precision="bfloat16", runtime="onnx")


@pytest.mark.parametrize("matrix_units, expected", [(True, "bfloat16"), (False, "int8")])
def test_a_new_index_on_a_cpu_uses_bfloat16_only_with_matrix_units(monkeypatch, matrix_units, expected):
    from byline.tracing import encoder as encoder_module

    monkeypatch.setattr(encoder_module, "cpu_has_bfloat16_matrix_units", lambda: matrix_units)
    assert encoder_module.default_precision() == expected == encoder_module.default_precision("cpu")
    assert encoder_module.default_precision("cuda") == "float32"


def test_an_index_keeps_to_the_precision_it_was_built_with(tmp_path, encoder, monkeypatch):
    from byline.tracing import encoder as encoder_module

    monkeypatch.setattr(encoder_module, "cpu_has_bfloat16_matrix_units", lambda: False)  # a CPU without AMX
    path = tmp_path / "index"
    built = runner.invoke(
        _cli(), ["index", str(SOURCES), "--out", str(path), "--json"]
    )  # int8: the default there
    assert built.exit_code == 0, built.output
    with SourceIndex.open(path) as index:
        name = index.encoder_name
        assert name.endswith("-int8") and index.encoder.precision == "int8"
        traced = index.trace((FIXTURES / "rewrite-bridge.txt").read_text())
    assert traced.matches[0].id == "harbour-bridge.txt" and traced.index["encoder"] == name
    # Adding float32 vectors to it, or searching it with them, would mix two encoders' spaces.
    mixed = runner.invoke(_cli(), ["index", str(SOURCES), "--out", str(path), "--precision", "float32"])
    assert mixed.exit_code == 2 and "was built with encoder 'all-MiniLM-L6-v2-int8'" in _said(mixed)
    with pytest.raises(InputError, match="the encoder given is 'all-MiniLM-L6-v2'"):
        SourceIndex.open(path, encoder=encoder)
    # Without --precision, adding to it goes on with its own encoder.
    again = runner.invoke(_cli(), ["index", str(SOURCES), "--out", str(path), "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout.strip().splitlines()[-1])["unchanged"] == 5
    exact = tmp_path / "exact"
    assert (
        runner.invoke(
            _cli(), ["index", str(SOURCES), "--out", str(exact), "--precision", "float32"]
        ).exit_code
        == 0
    )
    with SourceIndex.open(exact) as index:
        assert index.encoder_name == encoder.name and index.encoder.precision == "float32"
    unknown = runner.invoke(
        _cli(), ["index", str(SOURCES), "--out", str(tmp_path / "x"), "--precision", "int4"]
    )
    assert unknown.exit_code == 2 and "unknown encoder precision 'int4'" in _said(unknown)
    with pytest.raises(ModelError, match="on a CPU only"):
        SourceIndex.create(tmp_path / "gpu", precision="int8", device="cuda")
    assert not (tmp_path / "x").exists() and not (tmp_path / "gpu").exists()


def test_an_index_of_an_unknown_encoder_is_refused(tmp_path, encoder):
    path = tmp_path / "index"
    with SourceIndex.create(path, encoder=encoder) as index:
        index.store.set_meta({"encoder": "some-other-model"})
    with pytest.raises(InputError, match="built with encoder 'some-other-model'"):
        SourceIndex.open(path)
