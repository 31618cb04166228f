"""Klaviyo's API revisions: which were released, and what a `revision` header value means.

Klaviyo versions its API by date (`revision: 2026-07-15`). A date that is not a release means
the newest release on or before it; a beta revision carries the `.pre` suffix. A revision is
supported for two years after its release and retired after that (Klaviyo's versioning and
deprecation policy). The list below is the one place that names the released revisions: the
emulator resolves every request's header with it, and tests hold joyctl's pin against it.

Sources: the revision branches of Klaviyo's OpenAPI repository (2022-10-17 to 2026-07-15) and
the official Python SDK 25, which pins 2026-10-15.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# Every released stable revision, oldest first. A new release is one line here.
STABLE_REVISIONS: tuple[str, ...] = (
    "2022-10-17",
    "2023-01-24",
    "2023-02-22",
    "2023-06-15",
    "2023-07-15",
    "2023-08-15",
    "2023-09-15",
    "2023-10-15",
    "2023-12-15",
    "2024-02-15",
    "2024-05-15",
    "2024-06-15",
    "2024-07-15",
    "2024-10-15",
    "2025-01-15",
    "2025-04-15",
    "2025-07-15",
    "2025-10-15",
    "2026-01-15",
    "2026-04-15",
    "2026-07-15",
    "2026-10-15",
)
NEWEST_STABLE = STABLE_REVISIONS[-1]
BETA_SUFFIX = "pre"
# Support ends this long after a release (two years, counted in days as the policy's dates are).
SUPPORT_DAYS = 2 * 365 + 1

_SHAPE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:\.([A-Za-z0-9]+))?$")


class RevisionProblem(ValueError):
    """Why a `revision` header value cannot be served; `kind` names the rule it broke."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # missing | malformed | suffix | future | too_old | retired


@dataclass(frozen=True)
class Revision:
    """A header value resolved to the release that serves it."""

    requested: str
    release: str  # the stable release the request is served at, e.g. "2026-07-15"
    beta: bool = False

    @property
    def served(self) -> str:
        return f"{self.release}.{BETA_SUFFIX}" if self.beta else self.release

    def at_least(self, release: str) -> bool:
        return self.release >= release


def release_on_or_before(day: str) -> str | None:
    """The newest release no later than `day` (ISO date), or None before the first one."""
    earlier = [release for release in STABLE_REVISIONS if release <= day]
    return earlier[-1] if earlier else None


def retired_before(today: date) -> str:
    """Releases older than this date are retired on `today`."""
    return (today - timedelta(days=SUPPORT_DAYS)).isoformat()


def oldest_supported(today: date) -> str:
    cutoff = retired_before(today)
    return next((release for release in STABLE_REVISIONS if release >= cutoff), NEWEST_STABLE)


def parse_revision(value: str | None, today: date) -> tuple[str, bool]:
    """The date and beta flag of a header value; RevisionProblem for anything Klaviyo refuses."""
    text = (value or "").strip()
    if not text:
        raise RevisionProblem("missing", "The 'revision' header is required.")
    match = _SHAPE.match(text)
    if match is None:
        raise RevisionProblem(
            "malformed", f"Invalid revision '{text}': use a date, YYYY-MM-DD, as in 2026-07-15."
        )
    year, month, day, suffix = match.groups()
    try:
        requested = date(int(year), int(month), int(day))
    except ValueError as exc:
        raise RevisionProblem("malformed", f"Invalid revision '{text}': {exc}.") from exc
    if suffix is not None and suffix != BETA_SUFFIX:
        raise RevisionProblem(
            "suffix", f"Invalid revision '{text}': the only suffix is '.{BETA_SUFFIX}' (beta)."
        )
    if requested > today:
        raise RevisionProblem(
            "future", f"Invalid revision '{text}': it is later than today ({today.isoformat()})."
        )
    return requested.isoformat(), suffix is not None


def resolve(value: str | None, today: date, *, fall_forward: bool = False) -> Revision:
    """The release that serves a header value on `today`.

    A date between releases means the newest earlier release. A retired release is refused,
    or with `fall_forward` served at the oldest supported release instead.
    """
    day, beta = parse_revision(value, today)
    release = release_on_or_before(day)
    if release is None:
        raise RevisionProblem(
            "too_old", f"Invalid revision '{value}': the first revision is {STABLE_REVISIONS[0]}."
        )
    if release < retired_before(today):
        if not fall_forward:
            raise RevisionProblem(
                "retired",
                f"Revision {release} is retired (revisions are supported for two years); "
                f"use {NEWEST_STABLE}.",
            )
        release = oldest_supported(today)
    return Revision(str(value).strip(), release, beta)
