"""`byline train` on a user's own labelled articles, then `byline check --detector DIR`.

Uses the tiny random language model, so the numbers mean nothing; the test is
about the pipeline: records in, a saved detector out, and that detector used.
"""

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from byline.interfaces.cli import app
from byline.reporting.evaluation import rate_interval

SUBJECTS = [
    "The council",
    "Police",
    "The club",
    "Shares in the firm",
    "Residents",
    "The minister",
    "Doctors",
    "The school",
]
HUMAN_VERBS = ["said on Tuesday", "told reporters", "confirmed late last night", "were seen near the station"]
MACHINE_PHRASES = [
    "In a significant development that underscores the crucial importance of collaboration,",
    "Moreover, this pivotal initiative highlights a comprehensive commitment to innovation,",
]


def _article(rng: random.Random, machine: bool) -> str:
    sentences = []
    for _ in range(8):
        subject = rng.choice(SUBJECTS)
        if machine:
            sentences.append(
                f"{rng.choice(MACHINE_PHRASES)} {subject.lower()} continues to foster a vibrant future for everyone involved."
            )
        else:
            sentences.append(
                f"{subject} {rng.choice(HUMAN_VERBS)} that {rng.randint(2, 90)} people had been affected by the closure."
            )
    return " ".join(sentences)


def _labelled(path, rng: random.Random, n: int = 24):
    """``n`` labelled articles, alternately human and machine-like, one story group each."""
    with path.open("w") as handle:
        for i in range(n):
            machine = i % 2 == 1
            record = {
                "id": f"r{i}",
                "text": _article(rng, machine),
                "label": "ai" if machine else "human",
                "group": f"g{i}",
            }
            handle.write(json.dumps(record) + "\n")
    return path


def test_train_then_check_with_the_trained_detector(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("BYLINE_CACHE_DIR", str(tmp_path / "cache"))
    rng = random.Random(0)
    data = _labelled(tmp_path / "labelled.jsonl", rng)
    out = tmp_path / "my-detector"
    runner = CliRunner()
    result = runner.invoke(
        app, ["train", str(data), "--out", str(out), "--model", str(tiny_model_dir), "--max-tokens", "64"]
    )
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "detector.json").read_text())
    assert saved["language_models"] == [str(tiny_model_dir)]
    assert saved["max_scored_tokens"] == 64
    assert set(saved["lexical_classifiers"]) == {"words", "function_words"}
    assert saved["metadata"]["n_articles"] == 24
    # the languages of its training articles: a text confidently in another gets no verdict
    assert saved["languages"] == ["en"]

    article = tmp_path / "article.txt"
    article.write_text(_article(rng, True))
    result = runner.invoke(app, ["check", str(article), "--detector", str(out), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["model"].startswith("my-detector")
    assert document["verdict"] in ("ai", "human")
    assert 0 < document["n_scored_tokens"] <= 64

    # too few human articles (12) to measure any length band: thresholds do not depend on length
    assert saved["metadata"]["threshold_length_bands"] == []

    report_dir = tmp_path / "eval"
    result = runner.invoke(app, ["eval", str(data), "--detector", str(out), "--out", str(report_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads((report_dir / "report.json").read_text())
    assert report["n_records"] == 24 and report["overall"]["n_human"] + report["overall"]["n_ai"] == 24
    assert "24 records: 24 scored, 0 too short (under 50 words), 0 not prose" in result.output
    # every article here has 100-199 words; the length slice says so
    assert (
        list(report["by_length"]) == ["100-199 words"] and report["by_length"]["100-199 words"]["n_ai"] == 12
    )
    # the verdict's false-positive rate comes with the exact interval its 12 human articles allow
    overall = report["overall"]
    flagged = round(overall["verdict_fpr"] * overall["n_human"])
    assert overall["verdict_fpr_interval"] == list(rate_interval(flagged, overall["n_human"]))
    assert overall["verdict_fpr_interval"][0] <= overall["verdict_fpr"] <= overall["verdict_fpr_interval"][1]
    assert (report_dir / "roc.png").stat().st_size > 0 and (report_dir / "reliability.png").stat().st_size > 0

    # eval caches the token statistics as train does: run again (as after an interruption), it
    # needs the language model for nothing and reports the same figures
    from byline.scoring.language_model import LanguageModel

    def no_model(self, texts):
        raise AssertionError(f"statistics of {len(texts)} texts computed again: {[t[:60] for t in texts]}")

    monkeypatch.setattr(LanguageModel, "token_statistics", no_model)
    result = runner.invoke(app, ["eval", str(data), "--detector", str(out), "--out", str(tmp_path / "again")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "again" / "report.json").read_text())["overall"] == report["overall"]

    # machine texts all under the 50 words a verdict needs: no figures and no detector, said plainly
    short = tmp_path / "short.jsonl"
    with data.open() as source, short.open("w") as target:
        for line in source:
            record = json.loads(line)
            if record["label"] == "ai":
                record["text"] = " ".join(record["text"].split()[:20])
            target.write(json.dumps(record) + "\n")
    result = runner.invoke(app, ["eval", str(short), "--detector", str(out)])
    assert result.exit_code == 2, result.output
    assert "the figures need both human and ai records with a verdict, got 12 human and 0 ai" in " ".join(
        result.output.split()
    )
    result = runner.invoke(
        app, ["train", str(short), "--out", str(tmp_path / "none"), "--model", str(tiny_model_dir)]
    )  # fails before scoring
    assert result.exit_code == 2, result.output
    assert "need at least 10 human and 10 ai articles of 50 words or more, got 12 human and 0 ai" in " ".join(
        result.output.split()
    )
    assert not (tmp_path / "none").exists()


def test_train_in_bfloat16_records_it_and_caches_apart(tmp_path, tiny_model_dir, monkeypatch):
    import sqlite3

    monkeypatch.setenv("BYLINE_CACHE_DIR", str(tmp_path / "cache"))
    data = _labelled(tmp_path / "labelled.jsonl", random.Random(1))
    out = tmp_path / "quick"
    result = CliRunner().invoke(
        app,
        [
            "train",
            str(data),
            "--out",
            str(out),
            "--model",
            str(tiny_model_dir),
            "--max-tokens",
            "64",
            "--precision",
            "bfloat16",
        ],
    )
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "detector.json").read_text())
    assert saved["metadata"]["training_statistics_dtype"] == "bfloat16"
    with sqlite3.connect(tmp_path / "cache" / "statistics.sqlite") as db:
        models = {row[0] for row in db.execute("SELECT DISTINCT model FROM statistics")}
    assert models == {f"{tiny_model_dir}@bfloat16"}


def test_train_refuses_records_without_both_labels(tmp_path):
    data = tmp_path / "one-label.jsonl"
    data.write_text("".join(json.dumps({"text": "words " * 60, "label": "human"}) + "\n" for _ in range(12)))
    result = CliRunner().invoke(app, ["train", str(data), "--out", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "12 records: need at least 10 human and 10 ai, got 12 human and 0 ai" in " ".join(
        result.output.split()
    )


def test_train_and_eval_refuse_an_output_they_cannot_write_before_scoring(tmp_path):
    data = _labelled(tmp_path / "labelled.jsonl", random.Random(3))
    (tmp_path / "a-file").write_text("")
    for command in (
        ["train", str(data), "--out", str(tmp_path / "a-file" / "d")],
        ["eval", str(data), "--out", str(tmp_path / "a-file")],
    ):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "is not a directory" in " ".join(result.output.split())


def test_train_and_eval_name_every_unusable_line_at_once(tmp_path):
    good = json.dumps({"text": "words " * 60, "label": "human"})
    data = tmp_path / "labelled.jsonl"
    data.write_bytes(
        "\n".join(
            [
                good,
                "",
                json.dumps({"text": "x", "label": "robot"}),
                "{broken",
                json.dumps({"label": "ai"}),
                "[1, 2]",
            ]
        ).encode()
        + b"\n"
        + '{"text": "caf\u00e9", "label": "human"}'.encode("latin-1")
        + b"\n"
    )
    for command in (["train", str(data), "--out", str(tmp_path / "d")], ["eval", str(data)]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        message = " ".join(result.output.split())
        # malformed lines first, all of them, by line number (the blank line 2 still counts)
        assert "line 4: not valid JSON" in message and "line 6: not a JSON object (got an array)" in message
        assert "line 7: not valid UTF-8 (byte 0xe9" in message
    data.write_text(
        "\n".join(
            [
                good,
                "",
                json.dumps({"text": "x", "label": "robot"}),
                json.dumps({"label": "ai"}),
                json.dumps({"text": " \n ", "label": "ai"}),
            ]
        )
        + "\n"
    )
    for command in (["train", str(data), "--out", str(tmp_path / "d")], ["eval", str(data)]):
        result = CliRunner().invoke(app, command)
        message = " ".join(result.output.split())
        assert result.exit_code == 2, result.output
        assert (
            "3 unusable records: line 3: 'label' must be 'human' or 'ai', got 'robot'; line 4: missing the 'text' field; "
            "line 5: the text contains only whitespace"
        ) in message


def test_train_refuses_a_folder_and_a_binary_file(tmp_path):
    result = CliRunner().invoke(app, ["train", str(tmp_path), "--out", str(tmp_path / "d")])
    assert result.exit_code == 2 and "is a directory, not a JSONL, CSV or Parquet file" in result.output
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x7fELF\x02\x01" + bytes(64))
    result = CliRunner().invoke(app, ["eval", str(binary)])
    assert result.exit_code == 2 and "binary file" in result.output


def test_check_with_a_missing_detector_directory(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("word " * 80)
    result = CliRunner().invoke(app, ["check", str(article), "--detector", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no trained detector here" in result.output


def test_check_with_a_file_that_is_not_a_detector_says_what_it_is(tmp_path):
    """Each way a detector file can be wrong gets its own message, never a traceback."""
    from byline.decision.trained_detector import DEFAULT_DETECTOR

    article = tmp_path / "a.txt"
    article.write_text("word " * 80)
    shipped = json.loads((Path(DEFAULT_DETECTOR) / "detector.json").read_text())
    cases = {
        b"{not json": "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2",
        b"[1, 2]": "the JSON is an array, not an object",
        b'{"name": "caf\xe9"}': "not UTF-8 text",
        json.dumps({**shipped, "format_version": 99}).encode(): "format version 99; this Byline reads",
        json.dumps(
            {k: v for k, v in shipped.items() if k != "article_classifier"}
        ).encode(): "not a valid Byline detector (no 'article_classifier' field)",
    }
    for number, (content, message) in enumerate(cases.items()):
        folder = tmp_path / f"detector{number}"
        folder.mkdir()
        (folder / "detector.json").write_bytes(content)
        result = CliRunner().invoke(app, ["check", str(article), "--detector", str(folder)])
        assert result.exit_code == 2, (content[:20], result.output)
        assert message in " ".join(result.output.split()), (content[:20], result.output)
        assert "Traceback" not in result.output


def test_eval_tables_keep_every_number_whole_in_an_80_column_terminal():
    from rich.console import Console

    from byline.interfaces.evaluate import print_report

    row = {
        "n_human": 637,
        "n_ai": 797,
        "auroc": 0.99123,
        "tpr_at_1pct_fpr": 0.905,
        "tpr_at_5pct_fpr": 0.965,
        "ece": 0.016,
        "verdict_tpr": 0.772,
        "verdict_fpr": 1 / 637,
        "verdict_fpr_interval": rate_interval(1, 637),
    }
    console = Console(width=80, record=True)
    print_report(console, {"overall": row, "by_generator": {"mistral-7b-instruct-v0.1": row}})
    lines = console.export_text().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    for line in (line for line in lines if "0.9912" in line):
        assert line.split()[-9:] == [
            "637",
            "797",
            "0.9912",
            "0.905",
            "0.965",
            "0.016",
            "0.772",
            "0.002",
            "0.000-0.009",
        ]
    assert sum("0.9912" in line for line in lines) == 2


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".pq"])
def test_train_and_eval_read_csv_and_parquet_as_scan_and_index_do(tmp_path, suffix):
    # one unusable record in each, so the commands stop after reading, before any model loads
    records = [{"text": "words " * 60, "label": "human"}, {"text": "x", "label": "robot"}]
    data = tmp_path / f"labelled{suffix}"
    if suffix in (".csv", ".tsv"):
        separator = "," if suffix == ".csv" else "\t"
        data.write_text(
            "\n".join([f"text{separator}label", *(f"{r['text']}{separator}{r['label']}" for r in records)])
            + "\n"
        )
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(records), data)
    for command in (["train", str(data), "--out", str(tmp_path / "d")], ["eval", str(data)]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, result.output
        assert "row 2: 'label' must be 'human' or 'ai', got 'robot'" in " ".join(result.output.split())
    missing = tmp_path / f"unlabelled{suffix}"
    if suffix in (".csv", ".tsv"):
        missing.write_text("text\nsome words\n")
    else:
        pq.write_table(pa.Table.from_pylist([{"text": "some words"}]), missing)
    result = CliRunner().invoke(app, ["train", str(missing), "--out", str(tmp_path / "d")])
    assert result.exit_code == 2 and "no column 'label'" in result.output
