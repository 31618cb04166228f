"""Client-side pacing for Klaviyo, one limiter per operation.

Klaviyo counts requests per operation in two fixed windows, burst (1 s) and steady (60 s).
Each limiter keeps a sliding log of start times per window: a request may start only when fewer
than `limit` requests started in the preceding window. A sliding log never overruns a fixed
window, wherever the server puts its boundaries, yet over a long run it reaches the steady
ceiling. A token bucket that is safe against fixed windows would need half the capacity, which
would halve a backfill's throughput.

Windows are padded slightly (1 %, at least 50 ms) so that network jitter between our clock and
the server's does not push a request into the previous window.

The limiter also follows what the server says: `RateLimit-Limit` policies (`"1, 1;w=1, 15;w=60"`)
replace the table's limits, `RateLimit-Remaining: 0` with `RateLimit-Reset` holds requests until
the window resets, and a 429's `Retry-After` holds every thread, not only the one that got it.
Reservations are made under a lock and the caller sleeps outside it, so it is thread-safe.

What the server says is bounded before it is followed: a hold lasts at most `max_hold` seconds
(an absurd `RateLimit-Reset` would otherwise stop a backfill for hours), and limits or windows
beyond any Klaviyo publishes are ignored, so no header can make a wait longer than a minute or
overflow a number. A hold that was cut short carries a note saying so, for the wait report.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Clock = Callable[[], float]

_MIN_PAD_SECONDS = 0.05
_PAD_RATIO = 0.01
DEFAULT_MAX_HOLD = 60.0
# Klaviyo's windows are 1 s and 60 s, its largest quota a few thousand a minute.
_MAX_WINDOW_SECONDS = 60
_MAX_LIMIT = 1_000_000


@dataclass(frozen=True)
class RateLimits:
    """How many requests may start per burst window and per steady window."""

    burst: int
    steady: int
    burst_window: float = 1.0
    steady_window: float = 60.0

    def describe(self) -> str:
        return f"{self.burst}/{self.burst_window:g}s, {self.steady}/{self.steady_window:g}s"


def padded(seconds: float) -> float:
    return seconds + max(seconds * _PAD_RATIO, _MIN_PAD_SECONDS)


class _SlidingLog:
    """Start times of the last `limit` requests in one window."""

    def __init__(self, limit: int, seconds: float, starts: deque[float] | None = None) -> None:
        self.limit = max(1, limit)
        self.seconds = seconds
        self.starts: deque[float] = deque(starts or (), maxlen=self.limit)

    def earliest_start(self) -> float:
        """When a new request may start: once the oldest of the last `limit` leaves the window."""
        if len(self.starts) < self.limit:
            return -math.inf
        return self.starts[0] + padded(self.seconds)

    def resized(self, limit: int, seconds: float) -> _SlidingLog:
        return _SlidingLog(limit, seconds, self.starts)


class OperationLimiter:
    """Paces one operation; `reserve()` books a start time and says how long to wait for it."""

    def __init__(
        self, limits: RateLimits, clock: Clock, *, max_hold: float = DEFAULT_MAX_HOLD
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits = limits
        self._max_hold = max_hold
        self._burst = _SlidingLog(limits.burst, limits.burst_window)
        self._steady = _SlidingLog(limits.steady, limits.steady_window)
        self._last_start = -math.inf
        self._hold_until = -math.inf
        self._hold_note: str | None = None

    @property
    def limits(self) -> RateLimits:
        return self._limits

    def reserve(self) -> float:
        """Book the next start time and return the seconds to sleep before sending."""
        return self.reserve_with_note()[0]

    def reserve_with_note(self) -> tuple[float, str | None]:
        """`reserve()`, with the note of a shortened hold when that hold sets the wait."""
        with self._lock:
            now = self._clock()
            start = max(
                now,
                self._last_start,  # first come, first served: keeps each log sorted
                self._hold_until,
                self._burst.earliest_start(),
                self._steady.earliest_start(),
            )
            self._burst.starts.append(start)
            self._steady.starts.append(start)
            self._last_start = start
            note = self._hold_note if start == self._hold_until > now else None
            return start - now, note

    def hold(self, seconds: float, *, asked_by: str | None = None) -> None:
        """Nobody starts before `seconds` from now (after a 429 or an exhausted window).

        At most `max_hold` seconds; `asked_by` names the header, for the note of a cut.
        """
        asked = max(0.0, seconds) if math.isfinite(seconds) else self._max_hold
        granted = min(asked, self._max_hold)
        with self._lock:
            until = self._clock() + granted
            if until <= self._hold_until:
                return
            self._hold_until = until
            self._hold_note = None
            if asked > granted and asked_by:
                self._hold_note = (
                    f"Klaviyo asked for {asked:g}s ({asked_by}); waiting at most {granted:g}s"
                )

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adapt to the `RateLimit-*` headers of a successful response."""
        policies = parse_limit_policies(headers.get("ratelimit-limit"))
        if policies:
            self._adopt(policies)
        remaining = _parse_int(headers.get("ratelimit-remaining"))
        reset = _parse_int(headers.get("ratelimit-reset"))
        if remaining is not None and remaining <= 0 and reset and reset > 0:
            self.hold(float(min(reset, 10**9)), asked_by="RateLimit-Reset")

    def _adopt(self, policies: list[tuple[int, float]]) -> None:
        shortest = min(policies, key=lambda policy: policy[1])
        longest = max(policies, key=lambda policy: policy[1])
        limits = self._limits
        if shortest[1] != longest[1] or shortest[1] < 10:
            limits = RateLimits(shortest[0], limits.steady, shortest[1], limits.steady_window)
        if shortest[1] != longest[1] or longest[1] >= 10:
            limits = RateLimits(limits.burst, longest[0], limits.burst_window, longest[1])
        with self._lock:
            if limits == self._limits:
                return
            self._limits = limits
            self._burst = self._burst.resized(limits.burst, limits.burst_window)
            self._steady = self._steady.resized(limits.steady, limits.steady_window)


def parse_limit_policies(value: str | None) -> list[tuple[int, float]]:
    """`(limit, window seconds)` pairs from a `RateLimit-Limit` header.

    `"1, 1;w=1, 15;w=60"` gives `[(1, 1.0), (15, 60.0)]`: the bare first item repeats the
    current limit. A plain integer describes the steady (60 s) window.
    """
    if not value:
        return []
    items = [item.strip() for item in value.split(",") if item.strip()]
    policies: list[tuple[int, float]] = []
    for item in items:
        limit_text, _, params = item.partition(";")
        limit = _parse_int(limit_text)
        window = _parse_window(params)
        if limit is not None and 0 < limit <= _MAX_LIMIT and window:
            policies.append((limit, window))
    if not policies and len(items) == 1:
        limit = _parse_int(items[0])
        if limit is not None and 0 < limit <= _MAX_LIMIT:
            policies.append((limit, 60.0))
    return policies


def _parse_window(params: str) -> float | None:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "w":
            seconds = _parse_int(value)
            return float(seconds) if seconds and 0 < seconds <= _MAX_WINDOW_SECONDS else None
    return None


def _parse_int(value: str | None) -> int | None:
    """A decimal integer of at most 30 digits; None for anything else."""
    if value is None:
        return None
    text = value.strip().strip('"').strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 30:
        return None
    return int(text)


class RateLimiter:
    """The limiters of one client, created on first use of each operation."""

    def __init__(self, clock: Clock, *, max_hold: float = DEFAULT_MAX_HOLD) -> None:
        self._clock = clock
        self._max_hold = max_hold
        self._lock = threading.Lock()
        self._limiters: dict[str, OperationLimiter] = {}

    def for_operation(self, key: str, limits: RateLimits) -> OperationLimiter:
        with self._lock:
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = OperationLimiter(limits, self._clock, max_hold=self._max_hold)
                self._limiters[key] = limiter
            return limiter
