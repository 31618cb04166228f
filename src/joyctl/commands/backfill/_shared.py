"""What the backfill commands share: progress display and SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from joyctl.output import Output
from joyctl.scoped import Scoped

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from joyctl.services.backfill.runs import RunStart

PLAIN_EVERY_SECONDS = 5.0


def say_how_it_starts(out: Output, start: RunStart, unit: str, done: str) -> None:
    """Say when a run continues a stopped one, from where, and how to start over instead."""
    if not start.continued:
        return
    count = int(start.counters.get(done, 0))
    out.info(
        f"continuing run {start.run_id} {_where(start.position)}: {count:,} {unit} {done}"
        " before (--restart starts a new run)"
    )


def _where(position: dict[str, object]) -> str:
    for key, words in (("line", "after line"), ("entry_id", "after ledger entry"),
                       ("customer_id", "after customer")):  # fmt: skip
        value = position.get(key)
        if isinstance(value, int) and value:
            return f"{words} {value:,}"
    return "from the start"


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
    """A bar on a terminal (stderr); elsewhere a plain line every few seconds.

    On a terminal the bar, its share and the times keep one line, whatever the width, and the
    counts go on the line below it: squeezed onto one 80-column line, the bar would shrink to
    nothing and the times to `0…`.
    """

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
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = _bar_then_counts(
                TextColumn("{task.description}"),
                BarColumn(bar_width=None),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self._output.err,
                transient=True,
                expand=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self._label, total=None, detail="")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, done: int, total: int | None, detail: str) -> None:
        """Move the bar (or, without a terminal, print a line now and then)."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total or None, detail=detail)
            return
        now = time.monotonic()
        if now - self._last_line >= PLAIN_EVERY_SECONDS:
            self._last_line = now
            share = f"{100 * done / total:.0f}% " if total else ""
            self._output.info(f"{self._label}: {share}{detail}")


def _bar_then_counts(*columns: Any, **options: Any) -> Progress:
    """A Rich Progress that shows each task's counts on their own line under its bar."""
    from rich.progress import Progress
    from rich.text import Text

    class BarThenCounts(Progress):  # defined here: Rich is imported only once a bar is shown
        def get_renderables(self) -> Iterator[Any]:
            yield self.make_tasks_table(self.tasks)
            for task in self.tasks:
                detail = str(task.fields.get("detail", ""))
                if detail:
                    yield Text(f"  {detail}", overflow="fold")

    return BarThenCounts(*columns, **options)
