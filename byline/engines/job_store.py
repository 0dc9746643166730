"""The job store of a scan: an SQLite file recording every finished input and its row.

Rows are committed once per batch, in one transaction, so a scan stopped at
any point (Ctrl-C, ``kill -9``, a crash, a reboot of the process) loses at
most the batches in flight, and a re-run skips everything committed. The
final output is written from the store, in input order, so it holds every
input exactly once whatever happened before.

Tables:

* ``meta``: the scan's settings (input, fields, detector and its checksum,
  false-positive rate); a re-run with other settings is refused rather than
  mixing results of two configurations.
* ``results``: ``key`` (unique id of an input), ``fingerprint`` (changes when
  the input does), ``failed`` and ``row`` (the output row as JSON).
* ``inputs``: the keys of the current run's inputs in input order; rebuilt by
  every run, so inputs that disappeared are not written out.

WAL journal with ``synchronous=NORMAL``: a commit survives the process being
killed (the data is in the operating system's hands); only a power failure
can undo the last commits, which a re-run then simply redoes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from byline.errors import BylineError

SCHEMA_VERSION = 1
_CHUNK = 500  # keys per IN (...) query
#: The tables of a state file and their columns, in order (see :meth:`JobStore._create`).
_LAYOUT = {
    "inputs": ("ordinal", "key"),
    "meta": ("key", "value"),
    "results": ("key", "fingerprint", "failed", "row"),
}


class StateError(BylineError):
    """The job store cannot be used for this scan (other settings, or in use)."""


class JobStore:
    """Finished inputs of one scan. Use as a context manager."""

    def __init__(self, path: str | Path, settings: dict[str, Any], *, restart: bool = False) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _lock_file(self.path)
        except OSError as error:
            raise StateError(
                f"{self.path}: cannot create the scan state file here ({error.strerror or error})"
            ) from None
        try:
            self._refuse_special_file()
            if restart:
                self._discard()
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._check_layout()
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._create()
            self._check_settings(settings, restart)
            self.db.execute("DELETE FROM inputs")
        except sqlite3.DatabaseError as error:
            self._release()
            raise StateError(
                f"{self.path}: not a usable scan state file ({error}); pass --restart to replace it"
            ) from None
        except BaseException:
            self._release()
            raise

    # -- setup ------------------------------------------------------------------------------

    def _refuse_special_file(self) -> None:
        """A FIFO, device or folder named as the state file is never opened, nor removed by --restart."""
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return
        except OSError as error:
            raise StateError(
                f"{self.path}: cannot use it as the scan state file ({error.strerror or error})"
            ) from None
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise StateError(
                f"{self.path}: is {kind}, so it cannot be the scan state file; use --state to name another"
            )

    def _discard(self) -> None:
        """Remove the state file and its journal without reading them: whatever they hold
        (another layout, damaged pages, random bytes), --restart starts from nothing."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            except OSError as error:
                raise StateError(
                    f"{self.path}{suffix}: cannot remove the old scan state ({error.strerror or error})"
                ) from None

    def _check_layout(self) -> None:
        """Refuse an SQLite file that holds other tables (it is not ours to add to) or damaged pages."""
        tables = {name for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return  # a new (or empty) file: the tables are created next
        layout = {
            table: tuple(
                name
                for (name,) in self.db.execute("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))
            )
            for table in sorted(tables)
        }
        if layout != _LAYOUT:
            found = "; ".join(f"{table}({', '.join(columns)})" for table, columns in layout.items())
            raise StateError(
                f"{self.path}: not a Byline scan state file (its tables: {found}); "
                "pass --restart to replace it, or --state to use another file"
            )
        # Reads every page once, so damage is found now rather than hours into the scan.
        problems = [row[0] for row in self.db.execute("PRAGMA quick_check(1)")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError(f"damaged: {' '.join(str(problems[0]).split())}")  # one line

    def _create(self) -> None:
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS results (
                key TEXT PRIMARY KEY,
                fingerprint TEXT NOT NULL,
                failed INTEGER NOT NULL,
                row TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS inputs (ordinal INTEGER PRIMARY KEY, key TEXT NOT NULL);
            """
        )

    def _check_settings(self, settings: dict[str, Any], restart: bool) -> None:
        wanted = json.dumps({"schema": SCHEMA_VERSION, **settings}, sort_keys=True)
        stored = self.db.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        if stored is not None and stored[0] != wanted and not restart:
            before, now = json.loads(stored[0]), json.loads(wanted)
            changed = [
                f"{name}: {before.get(name)!r} before, {now.get(name)!r} now"
                for name in sorted(set(before) | set(now))
                if before.get(name) != now.get(name)
            ]
            raise StateError(
                f"{self.path} holds a scan with other settings ({'; '.join(changed)}); "
                "pass --restart to discard it, or --state to use another file"
            )
        if restart or stored is None or stored[0] != wanted:
            with self._transaction():
                self.db.execute("DELETE FROM results")
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('settings', ?)", (wanted,))

    # -- during the scan ------------------------------------------------------------------------

    def finished(self, pending: Sequence[tuple[str, str]]) -> set[str]:
        """Which of these ``(key, fingerprint)`` inputs are done (same fingerprint)."""
        done: set[str] = set()
        wanted = dict(pending)
        keys = list(wanted)
        with self._damage_reported():
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                query = f"SELECT key, fingerprint FROM results WHERE key IN ({','.join('?' * len(chunk))})"
                for key, fingerprint in self.db.execute(query, chunk):
                    if wanted[key] == fingerprint:
                        done.add(key)
        return done

    def finished_all(self) -> dict[str, str]:
        """Every finished input's ``{key: fingerprint}`` (for engines that filter remotely)."""
        with self._damage_reported():
            return dict(self.db.execute("SELECT key, fingerprint FROM results"))

    def commit(
        self,
        rows: Iterable[tuple[str, str, dict[str, Any]]] = (),
        inputs: Iterable[tuple[int, str]] = (),
    ) -> None:
        """Record finished ``(key, fingerprint, row)`` and enumerated ``(ordinal, key)`` in one transaction."""
        with self._damage_reported(), self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO inputs VALUES (?, ?)", inputs)
            self.db.executemany(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?)",
                (
                    (key, fingerprint, int(row.get("error") is not None), json.dumps(row, ensure_ascii=False))
                    for key, fingerprint, row in rows
                ),
            )

    # -- at the end ----------------------------------------------------------------------------

    def counts(self) -> tuple[int, int, int]:
        """``(inputs, finished, failed)`` of the current run."""
        with self._damage_reported():
            inputs, finished, failed = self.db.execute(
                "SELECT COUNT(*), COUNT(r.key), COALESCE(SUM(r.failed), 0) "
                "FROM inputs i LEFT JOIN results r ON r.key = i.key"
            ).fetchone()
        return int(inputs), int(finished), int(failed)

    def rows(self) -> Iterator[dict[str, Any]]:
        """The current run's rows in input order."""
        with self._damage_reported():
            cursor = self.db.execute(
                "SELECT r.row FROM inputs i JOIN results r ON r.key = i.key ORDER BY i.ordinal"
            )
            for (row,) in cursor:
                yield json.loads(row)

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _damage_reported(self) -> Iterator[None]:
        """Damage found while scanning (a page the opening check could not see, a disk error)
        becomes a :class:`StateError` naming the file; the output, written only at the end
        and renamed into place, is left as it was."""
        try:
            yield
        except sqlite3.DatabaseError as error:
            raise StateError(
                f"{self.path}: the scan state file is damaged ({error}); pass --restart to replace it"
            ) from None

    def _transaction(self) -> "_Transaction":
        return _Transaction(self.db)

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> "JobStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _lock_file(path: Path):
    """Hold an exclusive lock beside the state file, so two scans never share it.

    The operating system drops the lock when the process dies, even by ``kill -9``.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, documented
        return None
    handle = open(f"{path}.lock", "a+")  # noqa: SIM115 - held for the store's lifetime
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise StateError(f"{path} is in use by another running scan (pid lock {path}.lock)") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
