"""The evaluation report's groups: every field the records carry, none they lack."""

import numpy as np

from byline.reporting.evaluation import Evaluation


def _evaluation(records: list[dict]) -> Evaluation:
    labels = np.array([1 if r["label"] == "ai" else 0 for r in records])
    probabilities = np.linspace(0.05, 0.95, len(records))[np.argsort(labels, kind="stable").argsort()]
    return Evaluation(labels, probabilities, probabilities > 0.5, records)


def _records(with_attack: bool) -> list[dict]:
    records = [{"label": "human", "text": "word " * 80, "generator": "human"} for _ in range(6)]
    for i in range(6):
        record = {"label": "ai", "text": "word " * 80, "generator": "gpt-4o"}
        if with_attack:
            record["attack"] = "paraphrase" if i % 2 else None
        records.append(record)
    return records


def test_the_report_is_given_by_attack_when_records_carry_one():
    report = _evaluation(_records(with_attack=True)).report()
    assert set(report["by_attack"]) == {"paraphrase", "None"}
    assert report["by_attack"]["paraphrase"]["n_ai"] == 3


def test_a_field_no_record_has_is_left_out():
    report = _evaluation(_records(with_attack=False)).report()
    assert "by_attack" not in report and "by_origin" not in report
    assert set(report["by_generator"]) == {"human", "gpt-4o"}
