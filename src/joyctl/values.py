"""Parsing the values people type, within stated bounds: whole numbers, seconds and moments.

Arguments, environment variables and settings all pass through here, so a value out of range
gets the same answer wherever it is given: a joyctl error naming the value and what is allowed,
never an OverflowError or a ValueError. The caller picks the error class (a bad argument is a
UsageError, a bad setting a ConfigError) and names the value (`--since`, `JOYCTL_KEYRING_TIMEOUT`,
`config.toml: keyring_timeout`). Text is checked for its shape before Python converts it, so
thousands of digits never reach `int()` and an `inf` never reaches arithmetic.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from joyctl.errors import JoyctlError, UsageError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# A day short of the calendar's end, so that an offset or a day's arithmetic never overflows.
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
MOMENT_RANGE = "from 1970-01-01 to 9999-12-30"
MOMENT_EXAMPLE = "e.g. 2026-01-31 or 2026-01-31T12:00:00Z"
LONGEST_DB_INTEGER = 2**63 - 1  # SQLite's INTEGER

URL_LIMIT = 2048
URL_HINT = "use an http(s) URL, e.g. https://a.klaviyo.com"

_WHOLE = re.compile(r"[+-]?\d{1,20}")
_DECIMAL = re.compile(r"[+-]?(?:\d{1,20}(?:\.\d{0,20})?|\.\d{1,20})(?:[eE][+-]?\d{1,3})?")
_MOMENT_TEXT_LIMIT = 64
_SHOWN_LIMIT = 40

ErrorClass = type[JoyctlError]


def shown(value: object, limit: int = _SHOWN_LIMIT) -> str:
    """A value as a message quotes it: on one line, and cut short when it is long."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[-1]}"


def whole_number(
    text: str,
    *,
    what: str,
    low: int,
    high: int,
    error: ErrorClass = UsageError,
    allowed: str | None = None,
) -> int:
    """A whole number from `low` to `high` (`allowed` says so in other words)."""
    allowed = allowed or f"a whole number from {low} to {high}"
    raw = text.strip()
    if not _WHOLE.fullmatch(raw):
        raise error(f"{what}: {shown(text)} is not a whole number", hint=f"use {allowed}")
    value = int(raw)
    if not low <= value <= high:
        raise error(f"{what}: {shown(raw)} is out of range", hint=f"use {allowed}")
    return value


def seconds(
    text: str, *, what: str, low: float, high: float, error: ErrorClass = UsageError
) -> float:
    """A finite number of seconds from `low` to `high` (no NaN, no infinity)."""
    allowed = f"a number of seconds from {low:g} to {high:g}"
    raw = text.strip()
    value = float(raw) if _DECIMAL.fullmatch(raw) else math.nan
    if not math.isfinite(value):
        raise error(f"{what}: {shown(text)} is not a number of seconds", hint=f"use {allowed}")
    if not low <= value <= high:
        raise error(f"{what}: {shown(raw)} is out of range", hint=f"use {allowed}")
    return value


def moment(text: str, *, what: str, error: ErrorClass = UsageError) -> datetime:
    """An ISO 8601 date or date-time in UTC; one without an offset is taken as UTC.

    A bare date means its midnight. Moments outside 1970-01-01 to 9999-12-30 are refused.
    """
    hint = f"{MOMENT_EXAMPLE}, {MOMENT_RANGE}"
    raw = text.strip()
    parsed: datetime | None = None
    if len(raw) <= _MOMENT_TEXT_LIMIT and raw.isascii():
        try:
            parsed = datetime.fromisoformat(_with_offset(raw))
        except ValueError:
            parsed = None
    if parsed is None:
        raise error(f"{what}: {shown(text)} is not an ISO 8601 date or date-time", hint=hint)
    try:
        utc = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise error(f"{what}: {shown(raw)} is out of range", hint=hint)
    return utc


def _with_offset(raw: str) -> str:
    # Python 3.11 reads "Z" already; older spellings like "+0000" are left to fromisoformat.
    return raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw


def http_url(value: str, *, what: str, error: ErrorClass = UsageError) -> str:
    """An http or https URL with a host (and a valid port, if any), without a trailing slash."""
    checked = text(value, what=what, limit=URL_LIMIT, error=error)
    try:
        parts = urlsplit(checked)
        parts.port  # noqa: B018 - reading it checks that the port is a number in range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise error(f"{what}: {shown(value)} is not an http(s) URL", hint=URL_HINT)
    if " " in checked:
        raise error(f"{what}: {shown(value)} holds a space", hint=URL_HINT)
    return checked.rstrip("/")


def text(value: str, *, what: str, limit: int, error: ErrorClass = UsageError) -> str:
    """Trimmed single-line printable text of at most `limit` characters."""
    trimmed = value.strip()
    if len(trimmed) > limit:
        raise error(f"{what}: {shown(trimmed)} is too long", hint=f"use at most {limit} characters")
    if not trimmed.isprintable():
        raise error(
            f"{what}: {shown(trimmed)} holds control characters",
            hint="use printable characters on one line",
        )
    return trimmed
