"""Write scan rows as JSON lines, CSV or Parquet, chosen by the output's extension.

The file is written next to its final name and renamed into place at the end,
so a reader never sees half an output, and an interrupted write leaves the
previous one (if any) untouched.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from byline.engines.paths import cannot_write
from byline.engines.scoring import ROW_FIELDS
from byline.errors import InputError
from byline.extras import require

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_PARQUET_ROWS_PER_GROUP = 10_000


def output_format(path: str | Path) -> str:
    """``jsonl``, ``csv`` or ``parquet`` from the extension; refuses anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            str(path), "the output must end in .jsonl, .csv or .parquet (the format follows the extension)"
        )
    if FORMATS[suffix] == "parquet":
        require("parquet")
    return FORMATS[suffix]


def check_writable(path: str | Path) -> None:
    """Refuse an output that cannot be written, before a scan spends hours on it."""
    if problem := cannot_write(path):
        raise InputError(str(path), f"cannot write the output here: {problem}")


def write_rows(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` (dicts with :data:`ROW_FIELDS`) to ``path``; returns how many."""
    path = Path(path)
    kind = output_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        count = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}[kind](partial, rows)
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return count


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({k: row.get(k) for k in ROW_FIELDS}, ensure_ascii=False) + "\n")
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    return count


def _write_csv(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ROW_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)  # None is written as an empty cell
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    return count


def parquet_schema():
    import pyarrow as pa

    types = {
        "ai_probability": pa.float64(),
        "threshold": pa.float64(),
        "ai_share": pa.float64(),
        "n_tokens": pa.int64(),
        "n_scored_tokens": pa.int64(),
        "n_words": pa.int64(),
    }
    return pa.schema([(name, types.get(name, pa.string())) for name in ROW_FIELDS])


def _write_parquet(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == _PARQUET_ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                count += len(chunk)
                chunk = []
        if chunk or count == 0:
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            count += len(chunk)
    return count


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Read a scan output back (for tests and tools); values as written."""
    path = Path(path)
    kind = output_format(path)
    if kind == "jsonl":
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    if kind == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()
