"""Klaviyo's fixed-window rate limits: a 1-second burst window and a 60-second steady window
per operation and per quota holder, plus daily caps where the spec sets one."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from joyctl.klaviyo.endpoints import Endpoint
from joyctl.sandbox.clock import seconds_to_utc_midnight, utc_day
from joyctl.sandbox.config import RateLimitMode

# `GET /api/lists/{id}` with `additional-fields[list]=profile_count` has its own, lower limit.
PROFILE_COUNT_LIMITS = (1, 15)


@dataclass(frozen=True)
class Limits:
    rate_class: str
    burst: int
    steady: int
    daily: int | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int = 0


def best_schedule_span(requests: int, burst: int, steady: int, start: float = 0.0) -> float:
    """Seconds from the first request's start to the last's when each starts as soon as these
    windows (1 s and 60 s, aligned to the emulator's clock) allow, the first at `start`: the
    best any client can do, which benchmarks set joyctl's runs against."""
    moment = start
    per_second: dict[int, int] = {}
    per_minute: dict[int, int] = {}
    for _ in range(requests):
        while True:
            second, minute = math.floor(moment), math.floor(moment / 60)
            if per_minute.get(minute, 0) >= steady:
                moment = (minute + 1) * 60.0
            elif per_second.get(second, 0) >= burst:
                moment = second + 1.0
            else:
                break
        per_second[second] = per_second.get(second, 0) + 1
        per_minute[minute] = per_minute.get(minute, 0) + 1
    return moment - start


def limits_for(endpoint: Endpoint, wants_profile_count: bool = False) -> Limits:
    if endpoint.operation_id == "get_list" and wants_profile_count:
        burst, steady = PROFILE_COUNT_LIMITS
        return Limits(f"{endpoint.rate_class}:profile_count", burst, steady)
    return Limits(
        endpoint.rate_class, endpoint.burst_per_second, endpoint.steady_per_minute, endpoint.daily
    )


@dataclass
class _Window:
    name: str
    length: int
    limit: int
    index: int
    count: int
    reset: float


class RateLimiter:
    def __init__(self, mode: RateLimitMode) -> None:
        self.mode = mode
        self._counts: dict[tuple[str, str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def check(
        self, bucket: str, limits: Limits, now: float, daily_usage: dict[str, int]
    ) -> Verdict:
        """Admit one request or say how long to wait. `daily_usage` is the persisted day count.

        With limits off every request is admitted, but still counted, so its answer carries the
        `RateLimit-*` headers Klaviyo sends (describing Klaviyo's real limits).
        """
        with self._lock:
            windows = [
                self._window(bucket, limits.rate_class, "burst", 1, limits.burst, now),
                self._window(bucket, limits.rate_class, "steady", 60, limits.steady, now),
            ]
            blocked = [w.reset for w in windows if w.count >= w.limit]
            daily_key = f"{limits.rate_class}:{utc_day(now)}"
            # Daily caps are quotas, not pacing: a scaled mode leaves them as Klaviyo sets them.
            if limits.daily is not None and daily_usage.get(daily_key, 0) >= limits.daily:
                blocked.append(seconds_to_utc_midnight(now))
            if not self.mode.enforced:
                blocked, daily_key = [], ""
            if blocked:
                return Verdict(False, retry_after=max(1, math.ceil(max(blocked))))
            for window in windows:
                key = (bucket, limits.rate_class, window.name)
                self._counts[key] = (window.index, window.count + 1)
            if limits.daily is not None and daily_key:
                daily_usage[daily_key] = daily_usage.get(daily_key, 0) + 1
            return Verdict(True, _headers(windows))

    def _window(
        self, bucket: str, rate_class: str, name: str, length: int, limit: int, now: float
    ) -> _Window:
        index = int(now // length)
        stored = self._counts.get((bucket, rate_class, name))
        count = stored[1] if stored and stored[0] == index else 0
        return _Window(
            name, length, self.mode.scale(limit), index, count, (index + 1) * length - now
        )


def _headers(windows: list[_Window]) -> dict[str, str]:
    """Live format: `RateLimit-Limit: 10, 10;w=1, 150;w=60`, remaining and reset of the tightest."""
    burst, steady = windows
    tightest = min(windows, key=lambda w: w.limit - w.count - 1)
    return {
        "RateLimit-Limit": f"{burst.limit}, {burst.limit};w=1, {steady.limit};w=60",
        "RateLimit-Remaining": str(max(0, tightest.limit - tightest.count - 1)),
        "RateLimit-Reset": str(int(tightest.reset)),
    }
