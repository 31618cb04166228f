"""When a failed Klaviyo request is tried again, and how long to wait first.

A request is retried when repeating it cannot do anything twice:
- 429: Klaviyo did not process it; wait `Retry-After` (or back off when it is missing).
- 5xx and dropped connections: only for reads, and for writes the caller marks idempotent
  because they carry a de-duplication key (an event's `unique_id`) or set absolute values.
- A connection that was never established: always, since nothing reached the server.
Waits grow exponentially with jitter; attempts and the total wait per request are capped, and
no single wait lasts longer than `max_single_wait`, whatever `Retry-After` asks. A request that
ran out of its deadline (`bounds.DeadlineExceeded`) is not tried again: the server was answering,
only too slowly, and another try would most likely take as long.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from joyctl.klaviyo.bounds import DeadlineExceeded

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# 501 and 505 say the server will never accept the request as sent, so waiting cannot help.
_PERMANENT_SERVER_STATUSES = frozenset({501, 505})
# The request never left the machine, so even a non-idempotent write is safe to repeat.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """Caps and backoff for one request; pacing waits are not counted against `max_total_wait`."""

    max_attempts: int = 5
    max_total_wait: float = 300.0
    max_single_wait: float = 60.0  # a longer Retry-After or RateLimit-Reset is cut to this
    base_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.5  # each backoff is scaled by a random factor in [1 - jitter, 1 + jitter]

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """The wait before retry number `retry_number` (1 for the first retry)."""
        raw = self.base_delay * self.multiplier ** max(0, retry_number - 1)
        spread = 1.0 + self.jitter * (2.0 * rng.random() - 1.0)
        return max(0.0, min(self.max_delay, raw * spread))


def is_retryable_status(status: int) -> bool:
    return status >= 500 and status not in _PERMANENT_SERVER_STATUSES


def is_retryable_transport_error(exc: httpx.TransportError, *, idempotent: bool) -> bool:
    if isinstance(exc, DeadlineExceeded):
        return False
    if isinstance(exc, _NOT_SENT):
        return True
    return idempotent


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: an integer, or an HTTP date; None if neither.

    Any text gives a finite number or None (never an exception): the caller caps the wait.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
