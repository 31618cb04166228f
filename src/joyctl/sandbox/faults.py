"""Fault injection for reliability tests: server errors, throttling, dropped connections, latency.

Spec strings look like `5xx=0.05,429=0.05,drop=0.02,latency=20ms`. Keys:
- `5xx`: probability of a server error (500, 502, 503 or 504, picked at random);
- `500`..`599` or `429`: probability of that exact status;
- `drop`: probability of closing the connection before the request is processed;
- `drop_after`: probability of processing the request, then closing without an answer
  (the client cannot tell whether it took effect, which is what idempotency must survive);
- `latency`: delay added to every request, `20ms`, `1s` or a range `10-50ms`.
With a seed, the same sequence of requests meets the same sequence of faults.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

from joyctl.errors import UsageError

_SERVER_ERRORS = (500, 502, 503, 504)
LATENCY_LIMIT = 60.0  # seconds: longer than any client would wait for an answer
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?(ms|s)$")


@dataclass(frozen=True)
class FaultSpec:
    statuses: dict[str, float] = field(default_factory=dict)  # "5xx" or "503" -> probability
    drop: float = 0.0
    drop_after: float = 0.0
    latency: tuple[float, float] = (0.0, 0.0)  # seconds, low and high

    @property
    def active(self) -> bool:
        return bool(self.statuses) or self.drop > 0 or self.drop_after > 0 or self.latency[1] > 0


@dataclass(frozen=True)
class Fault:
    """What to do to one request: wait `latency`, then maybe answer `status` or drop."""

    latency: float = 0.0
    status: int | None = None
    drop: bool = False
    drop_after: bool = False

    @property
    def kind(self) -> str | None:
        if self.drop:
            return "drop"
        if self.drop_after:
            return "drop_after"
        return str(self.status) if self.status else None


def _probability(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"Fault {key!r} needs a probability between 0 and 1, not {text!r}.")
    return value


def _latency(text: str) -> tuple[float, float]:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise UsageError(f"Latency {text!r} is not a duration.", hint="Use 20ms, 1s or 10-50ms.")
    scale = 0.001 if match.group(3) == "ms" else 1.0
    low = float(match.group(1)) * scale
    high = float(match.group(2)) * scale if match.group(2) else low
    if max(low, high) > LATENCY_LIMIT:
        raise UsageError(
            f"Latency {text!r} is longer than {LATENCY_LIMIT:g}s.", hint="Use 20ms, 1s or 10-50ms."
        )
    return (min(low, high), max(low, high))


def parse_faults(spec: str) -> FaultSpec:
    statuses: dict[str, float] = {}
    drop = drop_after = 0.0
    latency = (0.0, 0.0)
    for part in filter(None, (item.strip() for item in spec.split(","))):
        key, separator, value = part.partition("=")
        key = key.strip().lower()
        if not separator:
            raise UsageError(f"Fault {part!r} needs a value, as in '5xx=0.05'.")
        if key == "latency":
            latency = _latency(value)
        elif key == "drop":
            drop = _probability(key, value)
        elif key == "drop_after":
            drop_after = _probability(key, value)
        elif key == "5xx" or key == "429" or (key.isdigit() and 500 <= int(key) <= 599):
            statuses[key] = _probability(key, value)
        else:
            raise UsageError(
                f"Unknown fault {key!r}.",
                hint="Known faults: 5xx, 429, 500-599, drop, drop_after, latency.",
            )
    return FaultSpec(statuses, drop, drop_after, latency)


class FaultInjector:
    def __init__(self, spec: FaultSpec, seed: int | None) -> None:
        self.spec = spec
        # Not for security: a seeded generator is what makes a fault run reproducible.
        self._random = random.Random(seed)  # noqa: S311
        self._lock = threading.Lock()

    def decide(self) -> Fault:
        """Draw the fault for the next request; every request makes the same number of draws."""
        spec = self.spec
        if not spec.active:
            return Fault()
        with self._lock:
            latency = self._random.uniform(*spec.latency)
            drop_roll, after_roll = self._random.random(), self._random.random()
            status_rolls = [(key, self._random.random()) for key in sorted(spec.statuses)]
            server_error = self._random.choice(_SERVER_ERRORS)
        if drop_roll < spec.drop:
            return Fault(latency, drop=True)
        for key, roll in status_rolls:
            if roll < spec.statuses[key]:
                return Fault(latency, status=server_error if key == "5xx" else int(key))
        if after_roll < spec.drop_after:
            return Fault(latency, drop_after=True)
        return Fault(latency)
