"""What the local and the Ray engine share: the scan summary and exit codes, the job store's
default place and settings, the checks on the output, and writing the output from the job store.

Neither engine imports the other; both import this module.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from byline.engines.job_store import JobStore, StateError
from byline.engines.scoring import DetectorSpec
from byline.engines.writers import write_rows
from byline.errors import BylineError, InputError, ModelError
from byline.input.records import PARQUET_SUFFIXES, is_parquet_folder

#: Suffix of the job store next to the output, by default.
STATE_SUFFIX = ".scan-state.sqlite"


@dataclass
class ScanSummary:
    """What a scan did: ``total`` inputs (= output rows), ``scored`` of them, ``failed``
    (error rows), ``resumed`` (finished by an earlier run, not scored again)."""

    output: Path
    state: Path
    total: int
    scored: int
    failed: int
    resumed: int
    seconds: float
    engine: str = "local"
    #: rows per verdict (``ai``, ``human``, ``too_short``, ...), errors not included
    verdicts: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0: every input scored; 1: some inputs have error rows (see :data:`EXIT_CODES`)."""
        return 1 if self.failed else 0


#: Exit codes of ``byline scan``.
EXIT_CODES = {
    0: "every input has a result row",
    1: "the output is complete, but some inputs have error rows (see the 'error' column)",
    2: "the scan could not run (bad arguments, unreadable input, model or state file problem)",
    130: "interrupted (Ctrl-C or SIGTERM); committed rows are kept, run the same command to resume",
}


def default_state_path(output: str | Path) -> Path:
    return Path(f"{output}{STATE_SUFFIX}")


def check_state_is_apart(input: str | Path, output: str | Path, state: str | Path) -> None:
    """Refuse a state file that is the input or the output: --restart replaces the state file unread."""
    target = Path(state).resolve()
    for what, other in (("the output", output), ("the input", input)):
        if str(other) != "-" and "://" not in str(other) and Path(other).resolve() == target:
            raise StateError(f"{state}: is {what}; the scan state needs a file of its own (--state)")


def detector_identity(detector: str | None) -> dict[str, Any]:
    """Which trained detector a scan uses, with a checksum: results of a retrained
    detector are never mixed with an older one's on resume."""
    from byline.decision.trained_detector import DEFAULT_DETECTOR, DETECTOR_FILE

    location = DEFAULT_DETECTOR if detector in (None, "default") else Path(str(detector))
    file = location / DETECTOR_FILE if location.is_dir() else location
    if not file.is_file():
        raise ModelError(f"{detector}: no trained detector here (expected {DETECTOR_FILE})")
    return {
        "detector": str(file.resolve()),
        "detector_sha256": hashlib.sha256(file.read_bytes()).hexdigest()[:16],
    }


def scoring_settings(spec: DetectorSpec) -> dict[str, Any]:
    """What a scan's scores depend on besides its input; a job store refuses to resume with others."""
    from byline.scoring.devices import resolve_precision  # imports torch: only when a scan starts

    return {
        **detector_identity(spec.detector),
        "model": spec.model,
        "fpr": spec.fpr,
        # the precision it resolves to here; float32 is left out, so job stores written before
        # the option still resume
        **(
            {"precision": precision}
            if (precision := resolve_precision(spec.precision, spec.device)) != "float32"
            else {}
        ),
        **({"any_language": True} if spec.any_language else {}),
    }


def check_output_is_not_input(input: str | Path, output: str | Path) -> None:
    """Refuse an output that would overwrite the input or be read back as part of it."""
    if str(input) == "-" or "://" in str(input):
        return
    source, target = Path(input).resolve(), Path(output).resolve()
    if target == source:
        raise InputError(str(output), "is the input itself; choose another output file")
    if (
        source.is_dir()
        and source in target.parents
        and target.suffix.lower() in PARQUET_SUFFIXES
        and is_parquet_folder(source)
    ):
        raise InputError(
            str(output), f"is inside the Parquet folder {input} being scanned; write it elsewhere"
        )


@dataclass
class RowCounts:
    """The rows of a finished scan: ``total``, ``scored``, ``failed`` (error rows), and the
    scored ones per verdict."""

    total: int
    scored: int
    failed: int
    verdicts: dict[str, int]


def finish_scan(store: JobStore, output: str | Path) -> RowCounts:
    """Write the output from the job store and count its rows."""
    total, finished, failed = store.counts()
    if finished != total:
        raise BylineError(
            f"{store.path}: {total - finished} inputs have no row; run the scan again to finish them"
        )
    verdicts: Counter[str] = Counter()

    def counted(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            if row.get("verdict"):
                verdicts[row["verdict"]] += 1
            yield row

    written = write_rows(output, counted(store.rows()))
    if written != total:  # pragma: no cover - a guard, the join above already checked
        raise BylineError(f"{output}: wrote {written} rows for {total} inputs")
    return RowCounts(total=total, scored=total - failed, failed=failed, verdicts=dict(verdicts))
