"""The listener's health answers: `GET /healthz` (alive) and `GET /readyz` (able to do its job).

Ready means three things, each reported on its own: the ledger answers, a signing secret is
known for the webhook that delivers here (so deliveries can be verified), and Klaviyo answered
recently (so reviews can be looked up and rewards sent). Not ready is not dead: deliveries are
still stored while Klaviyo is away and processed once it is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

Check = Callable[[], tuple[bool, str | None]]  # ok, and what is wrong when it is not
HealthAnswer = tuple[int, dict[str, Any]]

LIVE_PATH = "/healthz"
READY_PATH = "/readyz"


class ListenerHealth:
    """Klaviyo's last answers, kept by whoever talks to it; the other checks asked live."""

    def __init__(
        self,
        *,
        ledger: Check,
        signing_secret: Check,
        stale_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ledger = ledger
        self._signing_secret = signing_secret
        self._stale_after = stale_after
        self._clock = clock
        self._lock = threading.Lock()
        self._klaviyo_at: float | None = None
        self._klaviyo_error: str | None = "not asked yet"

    def klaviyo_answered(self) -> None:
        with self._lock:
            self._klaviyo_at = self._clock()
            self._klaviyo_error = None

    def klaviyo_failed(self, reason: str) -> None:
        with self._lock:
            self._klaviyo_error = reason

    def klaviyo(self) -> tuple[bool, str | None]:
        with self._lock:
            at, error = self._klaviyo_at, self._klaviyo_error
        if error is not None:
            return False, error
        if at is None or self._clock() - at > self._stale_after:
            return False, f"no answer from Klaviyo in the last {self._stale_after:g}s"
        return True, None

    def answer(self, method: str, path: str) -> HealthAnswer | None:
        """The answer to a health request, or None when the request is not one."""
        if method != "GET":
            return None
        route = path.split("?", 1)[0]
        if route == LIVE_PATH:
            return 200, {"status": "alive"}
        if route == READY_PATH:
            return self.readiness()
        return None

    def readiness(self) -> HealthAnswer:
        checks = {
            "ledger": self._ledger(),
            "signing_secret": self._signing_secret(),
            "klaviyo": self.klaviyo(),
        }
        ready = all(ok for ok, _ in checks.values())
        document = {
            "status": "ready" if ready else "not_ready",
            "checks": {
                name: {"ok": ok, **({"problem": problem} if problem else {})}
                for name, (ok, problem) in checks.items()
            },
        }
        return (200 if ready else 503), document
