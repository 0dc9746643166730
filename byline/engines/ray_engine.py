"""``byline scan --engine ray``: the same scan, scored by an actor pool on a Ray cluster.

    import ray
    from byline.engines.ray_engine import scan_on_ray
    ray.init(address="auto")                       # on a cluster node, or in a Ray job
    summary = scan_on_ray("s3://bucket/crawl/", "results.parquet", text_field="body", id_field="url")

Pipeline (Ray Data, streaming):

1. input rows. Parquet (a file, a folder, or a URI such as ``s3://``) is read
   by Ray tasks, one per row group, so reading scales with the cluster; the
   path must be readable from every node. Folders of article files, JSONL and
   CSV are read by the driver with the local engine's code and sent to the
   cluster (they must fit in the driver's memory; convert big ones to Parquet).
2. ``map_batches`` with an actor pool: each actor loads the detector once
   and scores batches with :func:`~byline.engines.scoring.score_batch`,
   the function the local engine uses, so rows are identical. With GPUs in
   the cluster, each actor takes one GPU.
3. the driver streams the rows back, commits them to the same SQLite job store
   as the local engine (so ``kill -9`` of the driver loses nothing committed,
   and a re-run resumes), and writes the output (.parquet, .jsonl, .csv) in
   input order at the end.

Ray itself is an optional dependency: ``pip install "byline[cluster]"``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from byline.engines.common import (
    ScanSummary,
    check_output_is_not_input,
    check_state_is_apart,
    default_state_path,
    finish_scan,
    scoring_settings,
)
from byline.engines.job_store import JobStore
from byline.engines.progress import ScanProgress
from byline.engines.scoring import DetectorSpec, score_batch
from byline.engines.sources import (
    PendingInput,
    ReadInput,
    check_regular_input,
    open_source,
    record_input,
)
from byline.engines.writers import check_writable, output_format
from byline.errors import BylineError, InputError
from byline.extras import missing_extra
from byline.input import Article
from byline.input.records import PARQUET_SUFFIXES, is_parquet_folder

#: Columns of the rows sent to the scoring actors.
_ITEM_COLUMNS = ("key", "ordinal", "id", "path", "fingerprint", "skip", "text", "source", "title", "error")


def _import_ray():
    if problem := missing_extra("cluster"):
        raise BylineError(problem)
    import ray
    import ray.data  # noqa: F401

    return ray


# -- input rows -----------------------------------------------------------------------------


def _item_row(entry: PendingInput, ordinal: int, item: ReadInput | None) -> dict[str, Any]:
    """One dataset row; ``item`` is ``None`` for an input finished by an earlier run."""
    article = item.article if item is not None else None
    return {
        "key": entry.key,
        "ordinal": ordinal,
        "id": entry.id,
        "path": entry.path,
        "fingerprint": entry.fingerprint,
        "skip": item is None,
        "text": article.text if article is not None else None,
        "source": article.source if article is not None else None,
        "title": article.title if article is not None else None,
        "error": item.error if item is not None else None,
    }


def _items_table(rows: list[dict[str, Any]]):
    import pyarrow as pa

    schema = pa.schema(
        [
            ("key", pa.string()),
            ("ordinal", pa.int64()),
            ("id", pa.string()),
            ("path", pa.string()),
            ("fingerprint", pa.string()),
            ("skip", pa.bool_()),
            ("text", pa.string()),
            ("source", pa.string()),
            ("title", pa.string()),
            ("error", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _prepare(entry: PendingInput, ordinal: int, duplicate: bool, done: dict[str, str]) -> dict[str, Any]:
    """What the local engine does to one enumerated input, as a dataset row."""
    if duplicate:
        entry.key = f"{entry.id}\x1f{ordinal}"
        if done.get(entry.key) == entry.fingerprint:
            return _item_row(entry, ordinal, None)
        return _item_row(entry, ordinal, entry.failed(entry.duplicate_error()))
    if done.get(entry.key) == entry.fingerprint:
        return _item_row(entry, ordinal, None)
    return _item_row(entry, ordinal, entry.read())


@dataclass(frozen=True)
class RowGroup:
    file: str
    row_group: int
    first_row: int  # rows before this group in the whole input


def is_parquet_input(location: str) -> bool:
    lowered = location.rstrip("/").lower()
    if lowered.endswith(PARQUET_SUFFIXES):
        return True
    if "://" in location:
        return True  # a bucket or folder URI: Parquet is the only format read from URIs
    path = Path(location)
    return path.is_dir() and is_parquet_folder(path)


def _filesystem(location: str):
    import pyarrow.fs as pafs

    if "://" in location:
        return pafs.FileSystem.from_uri(location)
    return pafs.LocalFileSystem(), str(Path(location).resolve())


def parquet_plan(location: str, text_field: str, id_field: str | None) -> list[RowGroup]:
    """Every row group of a Parquet input, in order, after checking the columns."""
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    try:
        fs, root = _filesystem(location)
        info = fs.get_file_info(root)
        if info.type == pafs.FileType.NotFound:
            raise InputError(location, "no such file or folder")
        if info.type == pafs.FileType.Directory:
            found = fs.get_file_info(pafs.FileSelector(root, recursive=True))
            files = sorted(
                f.path
                for f in found
                if f.type == pafs.FileType.File and f.path.lower().endswith(PARQUET_SUFFIXES)
            )
            if not files:
                raise InputError(location, "no Parquet files here")
        else:
            files = [root]
        plan: list[RowGroup] = []
        rows = 0
        for file in files:
            with fs.open_input_file(file) as handle:
                parquet = pq.ParquetFile(handle)
                names = parquet.schema_arrow.names
                for needed in (text_field, id_field):
                    if needed is not None and needed not in names:
                        raise InputError(file, f"no column {needed!r} (columns: {', '.join(names)})")
                for group in range(parquet.metadata.num_row_groups):
                    plan.append(RowGroup(file, group, rows))
                    rows += parquet.metadata.row_group(group).num_rows
        return plan
    except (OSError, ValueError) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(location, f"cannot read the Parquet input ({error})") from None


def _duplicate_rows(location: str, plan: list[RowGroup], id_field: str | None) -> frozenset[int]:
    """Ordinals of rows whose id already appeared earlier (ids from ``id_field``)."""
    if id_field is None:
        return frozenset()
    import pyarrow.parquet as pq

    fs, _ = _filesystem(location)
    seen: set[str] = set()
    duplicates: set[int] = set()
    for group in plan:
        with fs.open_input_file(group.file) as handle:
            column = pq.ParquetFile(handle).read_row_group(group.row_group, columns=[id_field]).column(0)
        for offset, value in enumerate(column.to_pylist()):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue  # an error row of its own, keyed by row number
            if str(value) in seen:
                duplicates.add(group.first_row + offset + 1)
            seen.add(str(value))
    return frozenset(duplicates)


def _read_row_groups(
    plan: dict[str, Any],
    *,
    location: str,
    name: str,
    text_field: str,
    id_field: str | None,
    duplicates_ref: Any,
    done_ref: Any,
) -> Iterator[Any]:
    """Ray task: read row groups and turn each row into a dataset row, as the local engine would."""
    import pyarrow.parquet as pq
    import ray

    duplicates, done = ray.get(duplicates_ref), ray.get(done_ref)
    fs, _ = _filesystem(location)
    columns = [c for c in (text_field, id_field) if c is not None]
    for file, group, first_row in zip(plan["file"], plan["row_group"], plan["first_row"], strict=True):
        with fs.open_input_file(str(file)) as handle:
            table = pq.ParquetFile(handle).read_row_group(int(group), columns=columns)
        rows = []
        for offset, record in enumerate(table.to_pylist()):
            ordinal = int(first_row) + offset + 1
            entry = record_input(
                record,
                where=f"{name}: row {ordinal}",
                row_number=ordinal,
                text_field=text_field,
                id_field=id_field,
            )
            rows.append(_prepare(entry, ordinal, ordinal in duplicates, done))
            if len(rows) == 256:
                yield _items_table(rows)
                rows = []
        if rows:
            yield _items_table(rows)


# -- scoring actors ------------------------------------------------------------------------------


class ScoringActor:
    """A Ray actor: loads the detector once, then scores batches of dataset rows."""

    def __init__(self, spec: DetectorSpec) -> None:
        self.detector = spec.load()

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        records = batch.to_pylist()
        todo = [r for r in records if not r["skip"]]
        items = [
            ReadInput(
                r["id"],
                r["path"],
                r["key"],
                r["fingerprint"],
                article=None
                if r["error"] is not None or r["text"] is None
                else Article(r["text"], r["source"], r["title"]),
                error=r["error"],
            )
            for r in todo
        ]
        rows = iter(score_batch(self.detector, items)) if items else iter(())
        return pa.table(
            {
                "key": [r["key"] for r in records],
                "ordinal": [r["ordinal"] for r in records],
                "fingerprint": [r["fingerprint"] for r in records],
                "row": [None if r["skip"] else json.dumps(next(rows), ensure_ascii=False) for r in records],
            },
            schema=pa.schema(
                [
                    ("key", pa.string()),
                    ("ordinal", pa.int64()),
                    ("fingerprint", pa.string()),
                    ("row", pa.string()),
                ]
            ),
        )


# -- the driver --------------------------------------------------------------------------------


def _plan_actors(ray: Any, spec: DetectorSpec, actors: int | None) -> tuple[DetectorSpec, int, float, float]:
    """``(spec for the actors, pool size, CPUs per actor, GPUs per actor)`` from the cluster's resources."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    cpus = int(resources.get("CPU", 1))
    wants_gpu = spec.device is None or str(spec.device).startswith("cuda")
    if gpus and wants_gpu:
        return (
            replace(spec, device=spec.device or "cuda", threads=spec.threads or 1),
            actors or gpus,
            1.0,
            1.0,
        )
    threads = spec.threads or 1
    # Keep one CPU for the reading tasks and the driver when the cluster is small.
    size = actors or max(1, cpus // threads - (1 if cpus > threads else 0))
    return replace(spec, device=spec.device or "cpu", threads=threads), size, float(threads), 0.0


def _quiet_ray(ray: Any, quiet: bool) -> None:
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.verbose_progress = False
    context.print_on_execution_start = False
    for name in ("ray", "ray.data", "ray.data._internal.execution.streaming_executor"):
        logging.getLogger(name).setLevel(logging.WARNING if not quiet else logging.ERROR)


def scan_on_ray(
    input: str | Path,
    output: str | Path,
    *,
    text_field: str = "text",
    id_field: str | None = None,
    encoding: str | None = None,
    spec: DetectorSpec | None = None,
    state: str | Path | None = None,
    restart: bool = False,
    actors: int | None = None,
    batch_size: int = 16,
    quiet: bool = True,
    address: str | None = None,
) -> ScanSummary:
    """Scan ``input`` on Ray and write ``output``; see the module docstring.

    Uses a running Ray (``ray.init`` done by the caller), else joins the
    cluster at ``address`` or ``$RAY_ADDRESS`` (set inside a Ray job; ``auto``
    on a cluster node), else starts a local one for this scan. ``actors``: scoring actors
    (default: one per GPU, or one per CPU but one).
    """
    ray = _import_ray()
    spec = spec or DetectorSpec()
    started_at = time.monotonic()
    location = str(input)
    output_format(output)
    check_output_is_not_input(input, output)
    check_writable(output)
    if location != "-" and "://" not in location:
        check_regular_input(Path(location), location)  # before Parquet readers open a FIFO or a device
    parquet = location != "-" and is_parquet_input(location)
    if parquet:
        plan = parquet_plan(location, text_field, id_field)
        settings = {
            "input": location if "://" in location else str(Path(location).resolve()),
            "text_field": text_field,
            "id_field": id_field,
        }
        source = None
    else:
        source = open_source(location, text_field=text_field, id_field=id_field, encoding=encoding)
        settings = source.describe()
    settings.update(scoring_settings(spec))
    state = state or default_state_path(output)
    check_state_is_apart(input, output, state)
    store = JobStore(state, settings, restart=restart)
    started_ray = False
    progress: ScanProgress | None = None
    try:
        if not ray.is_initialized():
            if address or os.environ.get("RAY_ADDRESS"):
                ray.init(address=address)  # join the cluster as it is configured
            else:  # a throw-away local instance: quiet, no dashboard
                ray.init(logging_level=logging.WARNING, include_dashboard=False, log_to_driver=False)
            started_ray = True
        _quiet_ray(ray, quiet)
        actor_spec, pool_size, cpus, gpus = _plan_actors(ray, spec, actors)
        done = store.finished_all()
        if parquet:
            dataset = ray.data.from_items(
                [{"file": g.file, "row_group": g.row_group, "first_row": g.first_row} for g in plan],
                override_num_blocks=max(1, len(plan)),
            ).map_batches(
                _read_row_groups,
                batch_size=1,
                batch_format="numpy",
                fn_kwargs={
                    "location": location,
                    "name": location,
                    "text_field": text_field,
                    "id_field": id_field,
                    "duplicates_ref": ray.put(_duplicate_rows(location, plan, id_field)),
                    "done_ref": ray.put(done),
                },
                num_cpus=0.5,
            )
            total = _parquet_rows(location, plan)
        else:
            rows = _enumerate_in_driver(source, done)  # type: ignore[arg-type]
            total = len(rows)
            dataset = ray.data.from_items(rows) if rows else None
        progress = ScanProgress(None, quiet=True) if quiet else ScanProgress(total)
        if dataset is not None:
            scored = dataset.map_batches(
                ScoringActor,
                fn_constructor_kwargs={"spec": actor_spec},
                compute=ray.data.ActorPoolStrategy(size=pool_size),
                batch_size=batch_size,
                batch_format="pyarrow",
                num_cpus=cpus,
                num_gpus=gpus,
            )
            for table in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
                _commit(store, progress, table.to_pylist())
        progress.close()
        rows = finish_scan(store, output)
        return ScanSummary(
            output=Path(output),
            state=store.path,
            total=rows.total,
            scored=rows.scored,
            failed=rows.failed,
            resumed=progress.resumed,
            seconds=time.monotonic() - started_at,
            engine="ray",
            verdicts=rows.verdicts,
        )
    finally:
        if progress is not None:
            progress.close()
        store.close()
        if started_ray:
            ray.shutdown()


def _parquet_rows(location: str, plan: list[RowGroup]) -> int:
    import pyarrow.parquet as pq

    if not plan:
        return 0
    fs, _ = _filesystem(location)
    last = plan[-1]
    with fs.open_input_file(last.file) as handle:
        return last.first_row + pq.ParquetFile(handle).metadata.row_group(last.row_group).num_rows


def _enumerate_in_driver(source: Any, done: dict[str, str]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    rows = []
    for ordinal, entry in enumerate(source, 1):
        duplicate = entry.id in seen
        seen.add(entry.id)
        rows.append(_prepare(entry, ordinal, duplicate, done))
    return rows


def _commit(store: JobStore, progress: ScanProgress, records: list[dict[str, Any]]) -> None:
    inputs = [(r["ordinal"], r["key"]) for r in records]
    finished = [(r["key"], r["fingerprint"], json.loads(r["row"])) for r in records if r["row"] is not None]
    store.commit(finished, inputs)
    progress.skipped(len(records) - len(finished))
    progress.advance(len(finished))
