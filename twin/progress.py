"""Progress bars for long work: rich bars that stay quiet under ``--quiet`` or off a TTY."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Silence (or re-enable) every progress bar of this process."""
    global _quiet
    _quiet = quiet


def bars_enabled() -> bool:
    """Bars show only on an interactive terminal and when ``--quiet`` was not given."""
    return not _quiet and sys.stdout.isatty()


class _Bar:
    """A handle with ``advance``; a no-op when bars are disabled."""

    def __init__(self, progress, task_id) -> None:  # noqa: ANN001 - rich types are lazy
        self._progress = progress
        self._task_id = task_id

    def advance(self, amount: float = 1.0) -> None:
        if self._progress is not None:
            self._progress.advance(self._task_id, amount)

    def update(self, completed: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task_id, completed=completed)


@contextmanager
def progress_bar(total: float, description: str) -> Iterator[_Bar]:
    """A progress bar with an ETA over ``total`` units of work."""
    if not bars_enabled():
        yield _Bar(None, None)
        return
    from rich.progress import (  # deferred: rich only when a bar is shown
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        yield _Bar(progress, progress.add_task(description, total=total))
