"""The Ray engine against a local Ray instance: the same rows as the local engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scan_support import GOOD, build_tiny_detector, write_jsonl

from byline.engines import scan
from byline.engines.job_store import StateError
from byline.engines.writers import read_rows
from byline.scoring.devices import resolve_precision

ray = pytest.importorskip("ray", reason="the Ray engine needs ray[data] (in the test extra)")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def local_ray():
    # The workers import byline from this checkout, whatever is installed.
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny_detector(tiny_model_dir, tmp_path_factory) -> Path:
    return build_tiny_detector(tiny_model_dir, tmp_path_factory.getbasetemp() / "tiny-detector")


def test_ray_engine_gives_the_local_engines_rows(tmp_path, tiny_detector, local_ray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Parquet: read by Ray tasks, one per row group; ids from a column, one repeated.
    ids = [f"u{i}" for i in range(len(GOOD))] + ["u3", "u-null", "u-empty"]
    texts = [*GOOD, GOOD[0], None, ""]
    parquet = tmp_path / "crawl.parquet"
    pq.write_table(pa.table({"url": ids, "body": texts}), parquet, row_group_size=4)
    # JSONL with bad lines: read by the driver.
    jsonl = write_jsonl(tmp_path / "wire.jsonl", [{"text": t} for t in GOOD[:5]] + ["{broken", {"other": 1}])

    for data, fields in ((parquet, {"text_field": "body", "id_field": "url"}), (jsonl, {})):
        local_out = tmp_path / f"{data.stem}-local.parquet"
        ray_out = tmp_path / f"{data.stem}-ray.parquet"
        local = scan(data, local_out, detector=str(tiny_detector), workers=0, threads=1, **fields)
        on_ray = scan(data, ray_out, detector=str(tiny_detector), engine="ray", batch_size=3, **fields)
        assert on_ray.engine == "ray"
        assert (on_ray.total, on_ray.scored, on_ray.failed) == (local.total, local.scored, local.failed)
        assert on_ray.verdicts == local.verdicts and sum(local.verdicts.values()) == local.scored
        assert read_rows(ray_out) == read_rows(local_out)

    rows = read_rows(tmp_path / "crawl-ray.parquet")
    assert [r["id"] for r in rows] == ids
    assert "duplicate id" in rows[10]["error"] and "empty (null)" in rows[11]["error"]
    assert "the text is empty" in rows[12]["error"]
    assert all(r["error"] is None and r["verdict"] in ("ai", "human") for r in rows[:10])

    # Resuming on Ray: everything is finished, nothing is scored again, same output.
    again = scan(
        parquet,
        tmp_path / "crawl-ray.parquet",
        detector=str(tiny_detector),
        engine="ray",
        text_field="body",
        id_field="url",
    )
    assert again.resumed == again.total == len(ids)
    assert read_rows(tmp_path / "crawl-ray.parquet") == rows
    # ... but not with language models of another precision than the one "auto" chose: their scores differ
    other = "float32" if resolve_precision("auto") == "bfloat16" else "bfloat16"
    with pytest.raises(StateError, match="precision: .* before, .* now"):
        scan(
            parquet,
            tmp_path / "crawl-ray.parquet",
            detector=str(tiny_detector),
            engine="ray",
            text_field="body",
            id_field="url",
            precision=other,
        )
