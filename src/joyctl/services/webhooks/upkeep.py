"""Keeping a listener that runs for weeks in working order, on a thread of its own.

Every `interval` seconds it asks Klaviyo something cheap (`GET /api/accounts`). That proves
Klaviyo answers (for `/readyz`), and it keeps an OAuth grant fresh: the client refreshes an
access token about to lapse and the new one is stored where the profile keeps its secrets, so
the next run (or a restart) finds it. Then it hands the worker the deliveries an outage left
unprocessed, and sends the outbox. While Klaviyo fails, deliveries are still stored and
answered; the checks back off (doubling from `first_retry` up to `longest_wait`), and the
first answer after an outage retries everything that waited.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from joyctl.errors import JoyctlError
from joyctl.services.webhooks.health import ListenerHealth
from joyctl.services.webhooks.notices import ListenerNotice, notice

DEFAULT_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class UpkeepOptions:
    interval: float = DEFAULT_INTERVAL_SECONDS  # between checks while Klaviyo answers
    first_retry: float = 5.0  # the first wait after a failure; doubles on each one after
    longest_wait: float = 600.0


@dataclass(frozen=True)
class UpkeepTasks:
    """What one round does; each may raise the JoyctlError that says Klaviyo failed."""

    probe: Callable[[], None]  # a cheap call to Klaviyo (refreshes the token on the way)
    retry_backlog: Callable[[], int]  # deliveries handed back to the worker
    push: Callable[[], int] | None  # outbox rows Klaviyo accepted


class Upkeep:
    def __init__(
        self,
        tasks: UpkeepTasks,
        health: ListenerHealth,
        notify: Callable[[ListenerNotice], None],
        options: UpkeepOptions | None = None,
    ) -> None:
        self._tasks = tasks
        self._health = health
        self._notify = notify
        self._options = options or UpkeepOptions()
        self._failures = 0
        self._first: Callable[[], None] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-upkeep", daemon=True)

    def start(self, first: Callable[[], None] | None = None) -> None:
        """Run `first` (the start-up checks), one round at once, then a round every interval;
        all on the upkeep thread, so a slow Klaviyo never holds up a stop."""
        self._first = first
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)

    def run_once(self) -> bool:
        """One round; True when Klaviyo answered and everything in it went through."""
        try:
            self._tasks.probe()
            self._health.klaviyo_answered()
            retried = self._tasks.retry_backlog()
            pushed = self._tasks.push() if self._tasks.push is not None else 0
        except JoyctlError as exc:
            self._failed(exc)
            return False
        self._recovered(retried, pushed)
        return True

    def next_wait(self) -> float:
        if self._failures == 0:
            return self._options.interval
        wait = self._options.first_retry * 2.0 ** (self._failures - 1)
        return min(wait, self._options.longest_wait)

    def _run(self) -> None:
        if self._first is not None:
            self._guarded(self._first)
        if not self._stopping.is_set():
            self._guarded(self.run_once)  # at once: what an earlier run left, a token to refresh
        while not self._stopping.wait(self.next_wait()):
            self._guarded(self.run_once)

    def _guarded(self, work: Callable[[], object]) -> None:
        """One round that fails in an unforeseen way is said, and the next one still comes."""
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - a bug must not end the upkeep for good
            self._say(notice("upkeep_failed", f"internal error: {type(exc).__name__}"))

    def _say(self, line: ListenerNotice) -> None:
        if not self._stopping.is_set():  # nothing after the listener said it stopped
            self._notify(line)

    def _failed(self, error: JoyctlError) -> None:
        self._health.klaviyo_failed(error.message)
        self._failures += 1
        if self._failures == 1:  # said once per outage; /readyz tells the rest
            self._say(
                notice(
                    "klaviyo_unreachable",
                    f"Klaviyo failed: {error.message}; deliveries are still stored and answered,"
                    f" and retried once it answers (next check in {self.next_wait():g}s, then"
                    f" less often, at most every {self._options.longest_wait:g}s)",
                    hint=error.hint,
                )
            )

    def _recovered(self, retried: int, pushed: int) -> None:
        if self._failures == 0:
            return
        self._failures = 0
        self._say(
            notice(
                "klaviyo_back",
                f"Klaviyo answers again: {retried} deliveries handed back for processing,"
                f" {pushed} Joy events and profile updates sent",
                warning=False,
            )
        )
