"""The built-in `sandbox` profile shared by several joyctl processes at once.

A listener runs in one process; reviews are submitted from three others, all at once. The
emulator each of them runs delivers through the one shared state, so the listener gets every
review within seconds without any other command running, and when it stops, the emulator's
state still holds every review: no process writes an old copy over the others'.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.webhooks.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ("--profile", "sandbox")
REVIEWS = (
    "The darjeeling arrived fresh and the aroma filled the kitchen at once.",
    "Smooth, never bitter, and it keeps well in the tin for many weeks.",
    "My morning ritual now: a bright cup with honey notes and a clean finish.",
)


class Process:
    """A joyctl process of its own; a listener's JSON lines are read as they come."""

    def __init__(self, *args: str, lines: bool = False) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "joyctl", *args],
            cwd=ROOT,
            env=dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._ended: tuple[int, str] | None = None
        if lines:
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            self.lines.put(json.loads(text)["data"])

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait()

    def wait(self) -> tuple[int, str]:
        """The exit status and stderr, once the process ends."""
        if self._ended is None:
            self._ended = self._collect()
        return self._ended

    def _collect(self) -> tuple[int, str]:
        if self._reader is None:
            _, stderr = self.process.communicate(timeout=60)
            return self.process.returncode, stderr
        assert self.process.stdout is not None and self.process.stderr is not None
        with self.process.stderr:
            stderr = self.process.stderr.read()
        status = self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        self.process.stdout.close()
        return status, stderr


@pytest.fixture
def listener(cli: Cli) -> Iterator[tuple[Process, str]]:
    """`webhooks listen` on the built-in profile, subscribed and ready; its URL."""
    assert cli("sandbox", "reset", "--scenario", "healthy", "--yes").exit_code == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}/klaviyo/webhooks"
    created = cli(*SANDBOX, "webhooks", "create", "--endpoint", url)
    assert created.exit_code == 0, created.stderr
    process = Process("--json", *SANDBOX, "webhooks", "listen", "--port", str(port), lines=True)
    try:
        first = process.lines.get(timeout=30)
        assert first["kind"] == "listening", first
        yield process, url
    finally:
        process.stop()


def _emails(cli: Cli, count: int) -> list[str]:
    result = cli("--json", "sandbox", "state")
    assert result.exit_code == 0, result.stderr
    items = json.loads(result.stdout)["data"]["profiles"]["items"]
    return [item["email"] for item in items[:count]]


def _awarded(process: Process, count: int, timeout: float) -> list[dict[str, Any]]:
    """Delivery lines until `count` reviews are awarded (a delivery may batch several)."""
    lines: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while sum(line["awarded"] for line in lines) < count:
        left = deadline - time.monotonic()
        assert left > 0, f"only {lines} within {timeout}s"
        try:
            line = process.lines.get(timeout=min(left, 0.5))
        except queue.Empty:
            continue
        if line["kind"] == "delivery":
            lines.append(line)
    return lines


def test_reviews_from_other_processes_reach_a_running_listener_and_stay(
    cli: Cli, listener: tuple[Process, str], isolated_home: Path
) -> None:
    process, _ = listener
    emails = _emails(cli, len(REVIEWS))
    submits = [
        Process("--json", *SANDBOX, "reviews", "submit", "--email", email, "--content", text)
        for email, text in zip(emails, REVIEWS, strict=True)
    ]
    for submit in submits:
        status, stderr = submit.wait()
        assert status == 0, stderr
    submitted_at = time.monotonic()

    # No other joyctl command runs from here on: the listener's own emulator delivers.
    lines = _awarded(process, len(REVIEWS), timeout=15)
    assert time.monotonic() - submitted_at < 15
    assert all(line["verdict"] == "verified" for line in lines)
    status, stderr = process.stop()
    assert status == 0, stderr

    # The listener has stopped; the emulator's state (the file every process shares) holds
    # every review, so even `reviews replay` could find them again.
    assert set(REVIEWS) <= _review_texts(isolated_home)
    ledger = cli("--json", *SANDBOX, "reviews", "list", "--outcome", "award", "--limit", "100")
    awarded = {row["email"] for row in json.loads(ledger.stdout)["data"]}
    assert set(emails) <= awarded


def _review_texts(home: Path) -> set[str]:
    from joyctl.sandbox.store.persistence import load_state

    state = load_state(home / "data" / "profiles" / "sandbox" / "sandbox-state.json")
    assert state is not None
    return {review["content"] for review in state.reviews.values()}
