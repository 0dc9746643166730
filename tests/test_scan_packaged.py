"""`byline scan` with the real packaged detector: batched rows equal `Detector.detect`."""

from __future__ import annotations

import json
from pathlib import Path

from byline.engines import scan
from byline.engines.writers import read_rows

REPO = Path(__file__).resolve().parent.parent
DEV_DATA = REPO.parent / "shared" / "data" / "news-dev.jsonl"


def _dev_texts(count: int) -> list[str]:
    """The first human and the first machine article of dev with 150-400 words, if dev is there."""
    if not DEV_DATA.exists():
        return []
    found: dict[str, str] = {}
    with DEV_DATA.open() as handle:
        for line in handle:
            record = json.loads(line)
            if record["label"] not in found and 150 <= len(record["text"].split()) <= 400:
                found[record["label"]] = record["text"]
            if len(found) == count:
                break
    return list(found.values())


def test_scan_with_the_packaged_detector_gives_detects_results(tmp_path) -> None:
    from byline import Detector

    folder = tmp_path / "wire"
    folder.mkdir()
    (folder / "example.txt").write_text((REPO / "examples" / "machine-written.txt").read_text())
    for index, text in enumerate(_dev_texts(2)):
        (folder / f"dev{index}.txt").write_text(text)
    (folder / "brief.txt").write_text("Police closed the bridge on Monday after a crash.")
    (folder / "blank.md").write_text("   \n\n ")
    out = tmp_path / "out.csv"
    summary = scan(folder, out, workers=1)  # one real worker process
    rows = {row["id"]: row for row in read_rows(out)}
    assert summary.total == len(rows) == len(list(folder.iterdir()))
    assert summary.failed == 1 and "only whitespace" in rows["blank.md"]["error"]
    assert rows["brief.txt"]["verdict"] == "too_short" and rows["brief.txt"]["ai_probability"] == ""

    detector = Detector()
    for name, row in rows.items():
        if name in ("blank.md", "brief.txt"):
            continue
        expected = detector.detect_file(folder / name)
        assert row["error"] == ""
        assert float(row["ai_probability"]) == expected.ai_probability  # both rounded to 4 decimals
        assert row["verdict"] == expected.verdict
        assert int(row["n_tokens"]) == expected.n_tokens and int(row["n_words"]) == expected.n_words
