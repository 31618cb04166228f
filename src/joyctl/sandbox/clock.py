"""The sandbox's clock: wall time plus an offset that tests can move forward.

Token expiry, rate-limit windows, job progress and delivery retries all read this one clock,
so advancing it (POST /__sandbox/clock) ages everything consistently.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._frozen_at: float | None = None  # wall time at which the clock stopped
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            base = self._frozen_at if self._frozen_at is not None else time.time()
            return base + self._offset

    def freeze(self, frozen: bool) -> None:
        """Stop (or restart) time, so window-based behaviour in tests is exact."""
        with self._lock:
            if frozen and self._frozen_at is None:
                self._frozen_at = time.time()
            elif not frozen and self._frozen_at is not None:
                self._offset += self._frozen_at - time.time()
                self._frozen_at = None

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen_at is not None

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set_offset(self, offset: float) -> None:
        with self._lock:
            self._offset = offset


def iso(timestamp: float) -> str:
    """Klaviyo's timestamp style: ISO 8601 in UTC, to the second, with an explicit offset."""
    return datetime.fromtimestamp(int(timestamp), UTC).isoformat()


def iso_precise(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 string, or None when it is not one."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def utc_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def seconds_to_utc_midnight(timestamp: float) -> float:
    return 86400 - (timestamp % 86400)
