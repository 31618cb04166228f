"""How long the emulator takes over the work Klaviyo does asynchronously.

Klaviyo answers 202 to event, bulk-event and client-review writes and processes them later; it
moves profile bulk-import jobs through queued -> processing -> complete over time; and it
delivers system webhooks in batches, minutes after the event, retrying failures. A latency
profile says how long each of these takes in the emulator, in seconds of sandbox time:

- `short` (the default): writes readable at once, job steps and delivery batching as the
  server's `job_step_seconds` and `delivery_*` settings say (fractions of a second in tests);
- `realistic`: writes readable after 1-5 s, jobs queued for 2 s and processing for 3 s,
  deliveries 1-3 minutes after the event, failed deliveries retried 17 times over about a day.

A spec string starts with a preset and may override parts of it: `realistic,writes=0.5-2s`,
`short,deliveries=10s`, `realistic,scale=0.01` (every delay times 0.01). Durations are `250ms`,
`2s`, `3m`, or ranges such as `1-5s` (each delay is drawn uniformly from its range).

Klaviyo documents none of these numbers for system webhooks or 202 writes: the realistic
preset is an assumption (deliveries "about 1-3 minutes" as observed by third parties; retries as
Klaviyo documents them for flow webhooks). See the README, "What the emulator does not model".
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

from joyctl.errors import UsageError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?(ms|s|m)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}
PRESETS = ("short", "realistic")
# Klaviyo retries these answers (and no answer at all); any other status fails the delivery.
RETRIED_STATUSES = frozenset({429, 500, 502, 503})
# Waits between attempts: exponential, capped at two hours; 17 retries span about 20 hours.
KLAVIYO_RETRIES: tuple[float, ...] = (30, 60, 120, 240, 480, 960, 1920, 3600, *([7200.0] * 9))

Range = tuple[float, float]


@dataclass(frozen=True)
class LatencyProfile:
    spec: str
    writes: Range  # a 202 write becomes readable this long after it was accepted
    job_queued: float  # a bulk import job stays queued this long ...
    job_processing: float  # ... then processes this long before it completes
    deliveries: Range  # an event is first offered to webhooks this long after it is recorded
    retries: tuple[float, ...]  # waits between delivery attempts; one attempt more than these

    def draw(self, span: Range, rng: random.Random) -> float:
        low, high = span
        return low if high <= low else rng.uniform(low, high)

    @property
    def max_attempts(self) -> int:
        return len(self.retries) + 1

    def retry_after(self, attempt: int) -> float | None:
        """How long after failed attempt number `attempt` (from 1) to try again, or None."""
        return self.retries[attempt - 1] if attempt <= len(self.retries) else None


def short_profile(
    job_step: float, batch: float, backoff: float, max_attempts: int
) -> LatencyProfile:
    """The quick default, built from the server's own timing settings."""
    retries = tuple(backoff * 2**n for n in range(max(0, max_attempts - 1)))
    return LatencyProfile("short", (0.0, 0.0), job_step, job_step, (batch, batch), retries)


REALISTIC = LatencyProfile("realistic", (1.0, 5.0), 2.0, 3.0, (60.0, 180.0), KLAVIYO_RETRIES)


def _duration(key: str, text: str) -> Range:
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise UsageError(
            f"Latency {key}={text!r} is not a duration.", hint="Use 250ms, 2s, 3m or 1-5s."
        )
    scale = _UNITS[match.group(3)]
    low = float(match.group(1)) * scale
    high = float(match.group(2)) * scale if match.group(2) else low
    return (min(low, high), max(low, high))


def _scaled(profile: LatencyProfile, factor: float) -> LatencyProfile:
    def times(span: Range) -> Range:
        return (span[0] * factor, span[1] * factor)

    return replace(
        profile,
        writes=times(profile.writes),
        job_queued=profile.job_queued * factor,
        job_processing=profile.job_processing * factor,
        deliveries=times(profile.deliveries),
        retries=tuple(wait * factor for wait in profile.retries),
    )


def _factor(text: str) -> float:
    try:
        factor = float(text)
    except ValueError:
        factor = -1.0
    if not 0 < factor <= 1000:
        raise UsageError(f"Latency scale {text!r} must be a number above 0, such as 0.01.")
    return factor


def parse_latency(spec: str, short: LatencyProfile) -> LatencyProfile:
    """A profile from `preset[,key=value...]`; keys: writes, jobs, deliveries, scale."""
    parts = [part.strip() for part in spec.split(",") if part.strip()] or ["short"]
    preset, overrides = parts[0].lower(), parts[1:]
    if preset not in PRESETS:
        raise UsageError(
            f"Unknown latency preset {parts[0]!r}.",
            hint="Start with 'short' or 'realistic', e.g. 'realistic,scale=0.1'.",
        )
    profile = short if preset == "short" else REALISTIC
    factor = 1.0
    for part in overrides:
        key, separator, value = (item.strip() for item in part.partition("="))
        if not separator:
            raise UsageError(f"Latency setting {part!r} needs a value, as in 'writes=1-5s'.")
        if key == "writes":
            profile = replace(profile, writes=_duration(key, value))
        elif key == "jobs":
            step = _duration(key, value)[1]
            profile = replace(profile, job_queued=step, job_processing=step)
        elif key == "deliveries":
            profile = replace(profile, deliveries=_duration(key, value))
        elif key == "scale":
            factor = _factor(value)
        else:
            raise UsageError(
                f"Unknown latency setting {key!r}.",
                hint="Known settings: writes, jobs, deliveries, scale.",
            )
    return replace(_scaled(profile, factor), spec=",".join(parts))
