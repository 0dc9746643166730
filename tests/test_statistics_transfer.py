"""Token statistics computed on another machine (e.g. one with a GPU) and merged into the cache."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from byline.scoring.language_model import LanguageModel
from byline.scoring.statistics_cache import StatisticsCache, scheme_name

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = [
    "The council met on Tuesday to discuss the new budget. Members argued about the cost of road repairs "
    "and the library. A vote is expected next week, officials said.",
    "Heavy rain flooded several streets in the town centre overnight. Firefighters pumped water from "
    "basements, and the river rose to its highest level in a decade.",
]


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    # training scripts run as modules from the repository root, as training/README.md says
    module = f"training.{Path(script).stem}"
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT)


def test_exported_texts_scored_elsewhere_merge_into_the_cache(tiny_model_dir, tmp_path):
    raw = tmp_path / "raw.jsonl"
    raw.write_text("".join(json.dumps({"text": t}) + "\n" for t in ARTICLES))
    job = tmp_path / "job.json"
    model = str(tiny_model_dir)
    exported = _run(
        "extract_statistics.py",
        "--model",
        model,
        "--split",
        "none",
        "--raw-texts",
        str(raw),
        "--max-tokens",
        "64",
        "--export",
        str(job),
    )
    assert exported.returncode == 0, exported.stderr
    content = json.loads(job.read_text())
    assert content["model"] == model and content["max_tokens"] == 64 and content["vocabulary"] is None
    assert len(content["texts"]) == 2 and "council" in content["texts"][0]

    elsewhere = tmp_path / "elsewhere.sqlite"
    scored = _run("extract_statistics.py", "--texts", str(job), "--device", "cpu", "--cache", str(elsewhere))
    assert scored.returncode == 0, scored.stderr
    assert "2/2 texts" in scored.stdout

    home = tmp_path / "home.sqlite"
    merged = _run("merge_statistics.py", str(elsewhere), "--into", str(home))
    assert merged.returncode == 0 and "2 rows added" in merged.stdout, merged.stderr
    again = _run("merge_statistics.py", str(elsewhere), "--into", str(home))
    assert "0 rows added" in again.stdout

    lm = LanguageModel(model, device="cpu", window_tokens=512, max_scored_tokens=64)
    cached = StatisticsCache(home).get_many(model, scheme_name(512, 64, 64), content["texts"])
    for stored, fresh in zip(cached, lm.token_statistics(content["texts"])):
        assert stored is not None
        np.testing.assert_allclose(stored.log_probs, fresh.log_probs, atol=1e-5)
        assert np.array_equal(stored.offsets, fresh.offsets)


def test_a_file_that_is_not_an_export_is_refused(tmp_path):
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"texts": ["a"]}))
    result = _run("extract_statistics.py", "--texts", str(wrong))
    assert result.returncode == 2
    assert "wrong.json: not a file written by --export" in result.stderr and "model" in result.stderr
    missing = _run(
        "merge_statistics.py", str(tmp_path / "absent.sqlite"), "--into", str(tmp_path / "c.sqlite")
    )
    assert missing.returncode == 2 and "absent.sqlite" in missing.stderr


def test_bad_raw_texts_and_a_file_that_is_not_a_cache_are_named(tmp_path):
    missing = _run(
        "extract_statistics.py",
        "--split",
        "none",
        "--raw-texts",
        str(tmp_path / "none.jsonl"),
        "--export",
        str(tmp_path / "job.json"),
    )
    assert missing.returncode == 2 and "none.jsonl: cannot be read" in missing.stderr
    no_text = tmp_path / "no_text.jsonl"
    no_text.write_text(json.dumps({"text": ARTICLES[0]}) + "\n" + json.dumps({"body": "x"}) + "\n")
    result = _run(
        "extract_statistics.py",
        "--split",
        "none",
        "--raw-texts",
        str(no_text),
        "--export",
        str(tmp_path / "job.json"),
    )
    assert result.returncode == 2 and 'no_text.jsonl: line 2: no "text" string' in result.stderr
    not_json = tmp_path / "not_json.jsonl"
    not_json.write_text(json.dumps({"text": ARTICLES[0]}) + "\n\n{oops\n")
    result = _run(
        "extract_statistics.py",
        "--split",
        "none",
        "--raw-texts",
        str(not_json),
        "--export",
        str(tmp_path / "job.json"),
    )
    assert result.returncode == 2 and "not_json.jsonl: line 3: not valid JSON" in result.stderr
    assert not (tmp_path / "job.json").exists()

    not_a_cache = tmp_path / "notes.sqlite"
    not_a_cache.write_text("these are notes, not a database\n" * 200)
    merged = _run("merge_statistics.py", str(not_a_cache), "--into", str(tmp_path / "home.sqlite"))
    assert merged.returncode == 2 and "notes.sqlite: not a statistics cache" in merged.stderr
