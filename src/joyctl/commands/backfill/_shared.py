"""What the backfill commands share: progress display and SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from joyctl.output import Output
from joyctl.scoped import Scoped

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

PLAIN_EVERY_SECONDS = 5.0


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM stops a run as Ctrl-C does: the checkpoint stays and the run is resumable."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class ProgressDisplay(Scoped):
    """A bar on a terminal (stderr); elsewhere a plain line every few seconds."""

    def __init__(self, output: Output, label: str) -> None:
        self._output = output
        self._label = label
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._last_line = time.monotonic()
        quiet = output.json_mode or output.quiet
        self._live = not quiet and output.is_terminal(output.stderr)

    def open(self) -> None:
        if self._live:
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self._output.err,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=None, detail="")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, done: int, total: int | None, detail: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total or None, detail=detail)
            return
        now = time.monotonic()
        if now - self._last_line >= PLAIN_EVERY_SECONDS:
            self._last_line = now
            share = f"{100 * done / total:.0f}% " if total else ""
            self._output.info(f"{self._label}: {share}{detail}")
