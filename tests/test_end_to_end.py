"""The real packaged detector on real news: separation, JSON schema, too-short texts.

Slow-ish (the packaged language model is prepared on first use and scores each
article in about a second on a CPU), so the detector loads once per session.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from byline.errors import InputError
from byline.interfaces.cli import app

REPO = Path(__file__).resolve().parent.parent
DEV_DATA = REPO.parent / "shared" / "data" / "news-dev.jsonl"
EXAMPLE = REPO / "examples" / "machine-written.txt"


@pytest.fixture(scope="session")
def detector():
    from byline import Detector

    return Detector()


def _dev_sample(per_label: int = 10) -> list[dict]:
    """A fixed, varied slice of dev: one article per source (human) or generator (ai), in file order."""
    if not DEV_DATA.exists():
        pytest.skip(f"{DEV_DATA} not found (the shared corpus sits beside the repository)")
    chosen: dict[str, list[dict]] = {"human": [], "ai": []}
    seen: set[tuple[str, str]] = set()
    with DEV_DATA.open() as handle:
        for line in handle:
            record = json.loads(line)
            key = (record["label"], record["source"] if record["label"] == "human" else record["generator"])
            if key in seen or len(record["text"].split()) < 120 or len(chosen[record["label"]]) >= per_label:
                continue
            seen.add(key)
            chosen[record["label"]].append(record)
    return chosen["human"] + chosen["ai"]


def test_real_detector_separates_human_and_machine_news(detector):
    records = _dev_sample()
    results = detector.detect_many([r["text"] for r in records])
    human = [r.ai_probability for r, rec in zip(results, records) if rec["label"] == "human"]
    machine = [r.ai_probability for r, rec in zip(results, records) if rec["label"] == "ai"]
    assert len(human) >= 4 and len(machine) >= 8
    # AUROC over all human/machine pairs
    pairs = [(m > h) + 0.5 * (m == h) for m in machine for h in human]
    auroc = sum(pairs) / len(pairs)
    assert auroc >= 0.8, f"AUROC {auroc:.2f} on {len(records)} dev articles"
    assert sum(machine) / len(machine) > sum(human) / len(human) + 0.2
    for result in results:
        assert result.verdict == ("ai" if result.ai_probability > result.threshold else "human")


def test_bfloat16_precision_scores_nearly_as_float32():
    """bfloat16 language models (faster with AMX or on a GPU) move probabilities by little,
    are reported as such, and never mix their statistics with float32 ones in the cache."""
    from byline import Detector
    from byline.scoring.statistics_cache import StatisticsCache

    records = _dev_sample(per_label=3)
    texts = [r["text"] for r in records]
    detector = Detector(precision="float32", statistics_cache=StatisticsCache(":memory:"))
    exact = detector.detect_many(texts)
    quick_detector = Detector(precision="bfloat16", statistics_cache=StatisticsCache(":memory:"))
    quick = quick_detector.detect_many(texts)
    assert quick_detector.info()["precision"] == "bfloat16" and detector.info()["precision"] == "float32"
    assert quick[0].model.endswith(", bfloat16)") and "bfloat16" not in exact[0].model
    differences = [abs(q.ai_probability - e.ai_probability) for q, e in zip(quick, exact)]
    assert max(differences) < 0.1, differences
    assert any(d > 0 for d in differences)  # it really ran in bfloat16
    names = {
        row[0] for row in quick_detector.statistics_cache._db.execute("SELECT DISTINCT model FROM statistics")
    }
    assert names == {"smollm2-135m@bfloat16", "gemma3-270m@bfloat16"}
    # alone or beside other texts, a text's bfloat16 probability is the same
    alone = quick_detector.detect_many(texts[:1])[0]
    assert alone.ai_probability == quick[0].ai_probability
    with pytest.raises(ValueError, match="precision must be auto, float32, bfloat16, got 'float16'"):
        Detector(precision="float16")


def test_result_fields_are_consistent(detector):
    text = EXAMPLE.read_text()
    result = detector.detect(text)
    assert 0.0 <= result.ai_probability <= 1.0
    assert result.n_scored_tokens <= result.n_tokens
    assert result.sentences and result.signals
    for sentence in result.sentences:
        assert result.text[sentence.start : sentence.end] == sentence.text
        assert sentence.ai_probability is None or 0.0 <= sentence.ai_probability <= 1.0
    assert 0.0 <= result.ai_share <= 1.0
    # a stricter false-positive rate can only raise the threshold
    assert detector.threshold(0.001) >= detector.threshold(0.01) >= detector.threshold(0.1)
    # a false-positive rate of 0 is refused, not taken for "the default"
    for call in (lambda: detector.threshold(0), lambda: detector.detect(text, fpr=0)):
        with pytest.raises(ValueError, match="fpr must be between 0 and 1"):
            call()
    # one string given as many texts is refused, not scored character by character;
    # any iterable of texts is taken
    with pytest.raises(InputError, match="expected a list of texts, got one str"):
        detector.detect_many(text)
    assert [r.ai_probability for r in detector.detect_many(t for t in [text])] == [result.ai_probability]
    # the verdict's threshold is the one for the article's length; a short article's is no lower
    assert result.threshold == pytest.approx(detector.threshold(words=result.n_words), abs=1e-4)
    bands = detector.info()["length_band_thresholds"]
    assert bands and bands[0]["min_words"] == 0 and bands[-1]["max_words"] is None
    assert detector.threshold(words=60) >= detector.threshold(words=500) >= detector.threshold()
    assert all(band["false_positive_rate"] <= detector.fpr + 1e-4 for band in bands)
    short = detector.detect(" ".join(text.split()[:70]))
    assert short.threshold == pytest.approx(detector.threshold(words=short.n_words), abs=1e-4)
    # invisible characters and look-alike letters do not move the score
    spoofed = text.replace("a", "\u0430").replace(" the ", " the\u200b ")
    assert detector.detect(spoofed).ai_probability == result.ai_probability
    assert result.repairs == {"spelling": 0, "case": 0, "surrogates": 0}


def test_systematic_typos_are_repaired_and_reported(detector):
    text = EXAMPLE.read_text()
    # Misspell every tenth long lower-case word by swapping two inner letters.
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if w.isalpha() and w.islower() and len(w) >= 6]
    for i in long_words[::10]:
        w = words[i]
        words[i] = w[:2] + w[3] + w[2] + w[4:]
    noisy = detector.detect(" ".join(words))
    clean = detector.detect(text)
    assert noisy.repairs["spelling"] >= 3
    assert noisy.text == " ".join(words).strip()  # the user sees their own text; offsets refer to it
    for sentence in noisy.sentences:
        assert noisy.text[sentence.start : sentence.end] == sentence.text
    assert abs(noisy.ai_probability - clean.ai_probability) < 0.25


def test_check_json_schema():
    result = CliRunner().invoke(app, ["check", str(EXAMPLE), "--json", "--fpr", "0.05"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    expected = {
        "ai_probability": float,
        "verdict": str,
        "threshold": float,
        "fpr_target": float,
        "model": str,
        "n_tokens": int,
        "n_scored_tokens": int,
        "n_words": int,
        "ai_share": float,
        "sentences": list,
        "signals": list,
        "repairs": dict,
        "source": str,
        "text": str,
        "version": str,
        "schema_version": int,
    }
    for key, kind in expected.items():
        assert isinstance(document[key], kind), key
    assert document["verdict"] in ("ai", "human")
    assert document["fpr_target"] == 0.05
    assert set(document["sentences"][0]) == {"text", "start", "end", "ai_probability", "evidence"}
    assert document["sentences"][0]["evidence"] in ("language_model", "text_only")
    assert set(document["signals"][0]) == {"name", "value", "contribution", "direction", "description"}


def test_too_short_text_gets_no_guess(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("The mayor opened the new library on Saturday. Hundreds of residents attended.")
    result = CliRunner().invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["verdict"] == "too_short"
    assert document["ai_probability"] is None
    assert "the text has 12 words; Byline needs at least 50" in document["reason"]


def test_one_word_is_counted_in_the_singular(tmp_path):
    path = tmp_path / "word.txt"
    path.write_text("Breaking")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "TOO SHORT" in result.output
    assert "has 1 word;" in result.output and "1 words" not in result.output


def test_html_report(tmp_path):
    paragraphs = "".join(f"<p>{p}</p>" for p in EXAMPLE.read_text().split("\n\n"))
    page = tmp_path / "story.html"
    page.write_text(
        f"<html><head><title>Bus routes approved</title></head><body><article>{paragraphs}</article></body></html>"
    )
    result = CliRunner().invoke(app, ["check", str(page)])
    assert result.exit_code == 0, result.output
    assert "Bus routes approved" in result.output
    assert "Verdict" in result.output and "Why" in result.output


FRENCH_REPORT = (
    "Le conseil municipal a approuvé mardi soir un budget de 40 millions d'euros pour rénover les "
    "écoles de la ville. Selon le maire, les travaux commenceront dès l'été prochain dans six "
    "établissements du centre. Les parents d'élèves ont salué une décision attendue depuis "
    "longtemps, mais l'opposition estime que les quartiers du nord ont été oubliés. « Nous "
    "demandons un calendrier précis pour chaque école », a déclaré une conseillère, qui réclame "
    "aussi un audit des dépenses engagées depuis 2019."
)


def test_text_in_another_language_gets_no_verdict(tmp_path):
    path = tmp_path / "rapport.txt"
    path.write_text(FRENCH_REPORT)
    result = CliRunner().invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["verdict"] == "unsupported_language"
    assert document["ai_probability"] is None and document["n_scored_tokens"] == 0
    assert document["language"] == "fr" and "'fr'" in document["reason"]
    # French words are not English misspellings: nothing was "repaired"
    assert document["repairs"] == {"spelling": 0, "case": 0, "surrogates": 0}

    anyway = CliRunner().invoke(app, ["check", str(path), "--json", "--any-language"])
    assert anyway.exit_code == 0, anyway.output
    scored = json.loads(anyway.stdout)
    assert scored["verdict"] in ("ai", "human") and 0.0 <= scored["ai_probability"] <= 1.0
    assert scored["language"] == "fr"

    english = json.loads(CliRunner().invoke(app, ["check", str(EXAMPLE), "--json"]).stdout)
    assert english["language"] == "en" and english["verdict"] in ("ai", "human")


def test_one_unreadable_input_does_not_cost_the_others(tmp_path):
    missing = tmp_path / "missing.txt"
    result = CliRunner().invoke(app, ["check", str(missing), str(EXAMPLE), "--json"])
    assert result.exit_code == 2
    assert "missing.txt: no such file" in result.stderr
    # JSON Lines: one line per input, in input order, the unreadable one as an error row
    error_row, document = [json.loads(line) for line in result.stdout.splitlines()]
    assert error_row == {"source": str(missing), "error": f"{missing}: no such file"}
    assert document["verdict"] in ("ai", "human") and document["source"] == str(EXAMPLE)
