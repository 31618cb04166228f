"""Progress: a bar on a terminal's stderr, plain lines elsewhere, nothing under --json."""

from __future__ import annotations

import io

import pytest

from joyctl.commands.backfill import _shared
from joyctl.commands.backfill._shared import ProgressDisplay
from joyctl.output import Output


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_that_is_gone_when_the_run_ends() -> None:
    stderr = Terminal()
    output = Output(stdout=io.StringIO(), stderr=stderr)
    with ProgressDisplay(output, "backfill events") as display:
        display.update(50, 100, "50 sent")
    shown = stderr.getvalue()
    assert "backfill events" in shown
    assert "50 sent" in shown


def test_elsewhere_plain_lines_say_how_far_it_got(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_shared, "PLAIN_EVERY_SECONDS", 0.0)
    stderr = io.StringIO()
    output = Output(stdout=io.StringIO(), stderr=stderr)
    with ProgressDisplay(output, "backfill events") as display:
        display.update(25, 100, "25 sent")
        display.update(30, None, "30 sent")
    assert stderr.getvalue().splitlines() == [
        "backfill events: 25% 25 sent",
        "backfill events: 30 sent",
    ]


def test_json_mode_prints_no_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_shared, "PLAIN_EVERY_SECONDS", 0.0)
    stderr = Terminal()
    output = Output(stdout=io.StringIO(), stderr=stderr, json_mode=True)
    with ProgressDisplay(output, "backfill events") as display:
        display.update(25, 100, "25 sent")
    assert stderr.getvalue() == ""
