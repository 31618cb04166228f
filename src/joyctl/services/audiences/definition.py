"""What an audience is: a declarative, validated filter over the ledger's customers.

Users never write SQL: they pick criteria, each checked here with a message that names it, and
the ledger compiles the result into a parameterised query. A last-activity bound may be a fixed
moment or an age such as `90d`, which is resolved each time the audience is evaluated so that a
win-back audience stays current without being redefined.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from joyctl import values
from joyctl.command_line import command
from joyctl.errors import DataError, UsageError
from joyctl.ledger.audiences import MemberFilter
from joyctl.ledger.customers import MEMBER_STATUSES

NAME_LIMIT = 100
TIER_LIMIT = 100
_AGE = re.compile(r"^(\d{1,5})d$")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MemberStatus = Literal["member", "guest", "excluded"]


class AudienceDefinition(BaseModel):
    """The criteria, all of which must hold; what is left empty does not filter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: list[str] = []
    points_at_least: int | None = None
    points_at_most: int | None = None
    statuses: list[MemberStatus] = []
    birthday_months: list[int] = []
    last_activity_after: str | None = None  # UTC ISO 8601, or an age like "90d"
    last_activity_before: str | None = None
    referred: bool | None = None

    def member_filter(self, now: datetime | None = None) -> MemberFilter:
        """The ledger's filter, with ages turned into moments as of `now`."""
        moment = now or datetime.now(UTC)
        return MemberFilter(
            tiers=tuple(self.tiers),
            points_at_least=self.points_at_least,
            points_at_most=self.points_at_most,
            statuses=tuple(self.statuses),
            birthday_months=tuple(self.birthday_months),
            last_activity_after=_resolve(self.last_activity_after, moment),
            last_activity_before=_resolve(self.last_activity_before, moment),
            referred=self.referred,
        )

    def describe(self) -> str:
        """One line a person can read, e.g. `tier Gold; points at least 500`."""
        parts: list[str] = []
        if self.tiers:
            parts.append(f"tier {' or '.join(self.tiers)}")
        if self.points_at_least is not None:
            parts.append(f"points at least {self.points_at_least}")
        if self.points_at_most is not None:
            parts.append(f"points at most {self.points_at_most}")
        if self.statuses:
            parts.append(f"status {' or '.join(self.statuses)}")
        if self.birthday_months:
            parts.append(f"birthday in {', '.join(MONTHS[m - 1] for m in self.birthday_months)}")
        if self.last_activity_after:
            parts.append(f"last activity at or after {_shown(self.last_activity_after)}")
        if self.last_activity_before:
            parts.append(f"last activity before {_shown(self.last_activity_before)}")
        if self.referred is not None:
            parts.append("referred" if self.referred else "not referred")
        return "; ".join(parts) or "every customer"


def build_definition(
    *,
    tiers: list[str] | None = None,
    points_at_least: int | None = None,
    points_at_most: int | None = None,
    statuses: list[str] | None = None,
    birthday_months: list[int] | None = None,
    last_activity_after: str | None = None,
    last_activity_before: str | None = None,
    referred: bool | None = None,
) -> AudienceDefinition:
    """Check each criterion and build the definition; UsageError names the one that is wrong."""
    _check_points(points_at_least, points_at_most)
    after = _bound("--last-activity-after", last_activity_after)
    before = _bound("--last-activity-before", last_activity_before)
    _check_window(after, before)
    return AudienceDefinition(
        tiers=_tiers(tiers or []),
        points_at_least=points_at_least,
        points_at_most=points_at_most,
        statuses=_statuses(statuses or []),
        birthday_months=_months(birthday_months or []),
        last_activity_after=after,
        last_activity_before=before,
        referred=referred,
    )


def load_definition(name: str, stored: str) -> AudienceDefinition:
    try:
        return AudienceDefinition.model_validate_json(stored)
    except ValidationError as exc:
        raise DataError(
            f"audience {name!r} has a definition this joyctl cannot read",
            hint=f"recreate it: `{command('audiences', 'create', name, '--replace', '...')}`",
        ) from exc


def check_name(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > NAME_LIMIT or not name.isprintable():
        raise UsageError(
            f"{raw!r} cannot name an audience",
            hint=f"use 1 to {NAME_LIMIT} printable characters, e.g. gold-members",
        )
    return name


def _check_points(at_least: int | None, at_most: int | None) -> None:
    bounds = {"--points-at-least": at_least, "--points-at-most": at_most}
    for label, points in bounds.items():
        if points is not None and points < 0:
            raise UsageError(f"{label} {points} is negative", hint="balances are never below 0")
    if at_least is not None and at_most is not None and at_least > at_most:
        raise UsageError(
            f"--points-at-least {at_least} is more than --points-at-most {at_most}:"
            " no customer could match",
            hint="swap the two values",
        )


def _tiers(raw: list[str]) -> list[str]:
    tiers = list(dict.fromkeys(tier.strip() for tier in raw))
    for tier in tiers:
        if not tier or len(tier) > TIER_LIMIT:
            raise UsageError(f"--tier {tier!r} is not a tier name", hint="e.g. --tier Gold")
    return tiers


def _statuses(raw: list[str]) -> list[MemberStatus]:
    statuses: list[MemberStatus] = []
    for value in raw:
        status = value.strip().lower()
        if status not in MEMBER_STATUSES:
            raise UsageError(
                f"--status {value!r} is not a member status",
                hint=f"use one of {', '.join(MEMBER_STATUSES)}",
            )
        if status not in statuses:
            statuses.append(cast(MemberStatus, status))
    return statuses


def _months(raw: list[int]) -> list[int]:
    for month in raw:
        if not 1 <= month <= 12:
            raise UsageError(f"--birthday-month {month} is not a month", hint="use 1 to 12")
    return sorted(set(raw))


def _bound(label: str, raw: str | None) -> str | None:
    """A stored bound: `Nd` as given, or a moment in UTC (a bare date means its midnight)."""
    if raw is None:
        return None
    text = raw.strip().lower()
    if _AGE.match(text):
        return text
    try:
        return values.moment(text, what=label).isoformat()
    except UsageError:
        raise UsageError(
            f"{label} {values.shown(raw)} is neither a date nor an age",
            hint=(
                "write 2026-01-31, 2026-01-31T12:00Z (from 1970-01-01 to 9999-12-30),"
                " or an age in days such as 90d"
            ),
        ) from None


def _check_window(after: str | None, before: str | None) -> None:
    if after is None or before is None:
        return
    now = datetime.now(UTC)
    start, end = _resolve(after, now), _resolve(before, now)
    if start is not None and end is not None and start >= end:
        raise UsageError(
            "--last-activity-after is not earlier than --last-activity-before:"
            " no customer could match",
            hint="check the two bounds",
        )


def _resolve(bound: str | None, now: datetime) -> str | None:
    if bound is None:
        return None
    age = _AGE.match(bound)
    if age is None:
        return bound
    return (now - timedelta(days=int(age.group(1)))).isoformat()


def _shown(bound: str) -> str:
    age = _AGE.match(bound)
    return f"{age.group(1)} days ago" if age else bound
