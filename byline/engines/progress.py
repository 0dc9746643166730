"""The progress bar of a scan: count, rate and time left, on standard error.

Silent when asked (``--quiet``) and when standard error is not a terminal, so
logs and pipes get no control characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

if TYPE_CHECKING:
    from byline.engines.sources import Source


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- /s" if speed is None else f"{speed:,.1f} /s", style="progress.data.speed")


class ScanProgress:
    """Counts inputs as their rows are committed. Inputs finished by an earlier
    run are taken off the total instead, so the rate and time left stay true."""

    def __init__(self, total: int | None, *, quiet: bool = False, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = not quiet and self.console.is_terminal
        self.resumed = 0
        self.done = 0
        self._progress: Progress | None = None
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]scanning[/]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._task = self._progress.add_task("", total=total)
            self._progress.start()
        self.total = total

    @classmethod
    def for_source(cls, source: "Source", *, quiet: bool) -> "ScanProgress":
        """A bar for ``source``; its size is counted only when the bar will show."""
        console = Console(stderr=True)
        if quiet or not console.is_terminal:
            return cls(None, quiet=True, console=console)
        return cls(source.count(), console=console)

    def skipped(self, count: int) -> None:
        """``count`` inputs were already finished by an earlier run."""
        if not count:
            return
        self.resumed += count
        if self._progress is not None:
            total = None if self.total is None else max(0, self.total - self.resumed)
            self._progress.update(self._task, total=total, description=f" ({self.resumed:,} done before)")

    def advance(self, count: int) -> None:
        self.done += count
        if self._progress is not None and count:
            self._progress.advance(self._task, count)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
