"""`diagnose --fix` at an 80-column terminal: every step is shown before the question."""

from __future__ import annotations

import os
from pathlib import Path

from tests.terminal import Terminal

STEPS = [
    "1. joyctl connect",
    "2. joyctl webhooks create --endpoint http://127.0.0.1:8780/klaviyo/webhooks",
    "3. joyctl reviews replay --since ",
    "4. joyctl reviews replay --push",
]
QUESTION = r"Take these 4 steps now\? \[y/N\]"


def test_the_plan_comes_before_the_question_and_no_changes_nothing(isolated_home: Path) -> None:
    terminal = Terminal(["--profile", "sandbox", "diagnose", "--fix"], dict(os.environ))

    shown = terminal.read_until(QUESTION)

    before = shown[: shown.index("Take these 4 steps")]
    assert "FAIL  review_scopes" in before
    assert "--fix takes these steps, in order:" in before
    positions = [before.index(step) for step in STEPS]
    assert positions == sorted(positions)
    assert all(len(line) <= 80 for line in terminal.lines())
    terminal.send("n\r")
    assert terminal.finish() == 6
    assert "nothing was changed" in terminal.text


def test_yes_at_the_question_repairs_the_store(isolated_home: Path) -> None:
    terminal = Terminal(["--profile", "sandbox", "diagnose", "--fix"], dict(os.environ))
    terminal.read_until(QUESTION)

    terminal.send("y\r")

    assert terminal.finish() == 0, terminal.text
    assert terminal.text.count("DONE    joyctl") == 4  # reconnect, webhook, replay, push
    assert "0 failed" in terminal.text
