"""The bounds on every value joyctl reads from a file or a record, and the checks that hold them.

Whatever enters from outside (a line of a record file, a CSV cell, a JSON document, a webhook
body) is parsed here or with these checks, so a hostile value becomes a `DataError` naming what
is wrong, never an exception from deep inside Python: no `RecursionError` from deep nesting, no
`ValueError` from the interpreter's limit on digits, no `OverflowError` from a date at the edge
of the calendar, no NaN or infinity where a number is meant. The caller decides what a refusal
means; for a record of a file, it is quarantined and the run goes on.

The limits are generous for real data and far from the edges where Python or SQLite would fail.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from joyctl.errors import DataError

MAX_LINE_BYTES = 8 * 1024 * 1024
"""A line of a record file, its line end included. Klaviyo's cap on a whole request is 5 MB."""
MAX_RECORD_LINES = 1000
"""Lines one CSV record may span: a quoted cell may hold line breaks, an unclosed quote must not
swallow the rest of the file."""
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""A file read whole as one JSON document (a JSON array of reviews)."""
MAX_JSON_DEPTH = 64
"""Arrays and objects inside each other; Klaviyo's own documents nest fewer than ten deep."""
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**63 - 1
"""Every integer read must fit in 64 bits, as SQLite and most JSON readers need."""
MAX_POINTS = 10**12
"""Points in one entry or one balance: far beyond any program, far below SQLite's 64 bits."""
MAX_AMOUNT = 10**15
"""A monetary value (an event's `value`): below 2**53, where JSON numbers stay exact."""
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2200, 1, 1, tzinfo=UTC)
"""Times and dates outside these are refused, so arithmetic on them never leaves the calendar."""
EARLIEST_DATE, LATEST_DATE = EARLIEST_TIME.date(), LATEST_TIME.date()
SHOWN_CHARACTERS = 60
"""How much of a refused value a reason quotes."""

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_NUMBER_TEXT = 64  # characters of a number written out: more is not a real value
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]", re.ASCII)
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def shown(value: Any, limit: int = SHOWN_CHARACTERS) -> str:
    """A value as a reason quotes it: its repr, cut short."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value):,} characters)"
    text = repr(value) if isinstance(value, str) else _short_repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def shown_names(names: Iterable[str], most: int = 5) -> str:
    """Names as a reason lists them: sorted, each cut short, at most `most` of them."""
    ordered = sorted(names)
    listed = ", ".join(name if len(name) <= 40 else name[:40] + "..." for name in ordered[:most])
    return listed + (f" and {len(ordered) - most} more" if len(ordered) > most else "")


def _short_repr(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


class _Refused(Exception):
    """Raised inside the JSON decoder's hooks; becomes a DataError once the decoder is left."""


def load_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON value within every bound, or DataError: not UTF-8, not JSON, nested deeper than
    `max_depth`, an integer beyond 64 bits, a number too large for a float, NaN or Infinity
    (which JSON does not allow), or text with a lone surrogate (which no UTF-8 file can hold)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DataError("not valid UTF-8 text") from None
    if _too_deep(text, max_depth):
        raise DataError(f"JSON nested deeper than {max_depth} levels")
    try:
        value = _DECODER.decode(text)
    except _Refused as refused:
        raise DataError(str(refused)) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # a safety net: the checks above come first
        raise DataError(f"not valid JSON ({str(exc)[:100]})") from None
    if _SURROGATE_ESCAPE.search(text) and _holds_surrogate(value):
        raise DataError("JSON text with a lone surrogate (\\ud800 to \\udfff)")
    return value


def _too_deep(text: str, max_depth: int) -> bool:
    if text.count("[") + text.count("{") <= max_depth:
        return False  # the common case, decided at C speed
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        first = match.group()[0]
        if first in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif first in "]}":
            depth -= 1
    return False


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number JSON allows")


def _bounded_int(text: str) -> int:
    if len(text) < 19:  # 18 digits always fit: the usual case pays for nothing more
        return int(text)
    if len(text) > 20:  # the longest 64-bit integer written out, its sign included
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits is beyond 64 bits")
    value = int(text)
    if not MIN_INTEGER <= value <= MAX_INTEGER:
        raise _Refused(f"the integer {text} is beyond 64 bits")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {shown(text)} is too large")
    return value


# The hooks see every number as written, before Python's own limits could raise.
_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_int=_bounded_int, parse_float=_finite_float
)


def _holds_surrogate(value: Any) -> bool:
    return any(_SURROGATE.search(text) for text in _texts(value))


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def load_toml(text: str) -> dict[str, Any]:
    """A TOML document within the bounds, or DataError ("not valid TOML (why)"): not TOML,
    nested too deep, an integer beyond 64 bits (TOML's own limit), NaN or infinity, or a time
    outside the calendar."""
    try:
        document = tomllib.loads(text)
        _check_toml_value(document, "the document", 0)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"not valid TOML ({exc})") from None
    except RecursionError:
        raise DataError("not valid TOML (nested too deep)") from None
    except ValueError as exc:  # an integer past the interpreter's limit on digits
        raise DataError(f"not valid TOML ({str(exc)[:100]})") from None
    except DataError as exc:
        raise DataError(f"not valid TOML ({exc.message})") from None
    return document


def _check_toml_value(value: Any, where: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise DataError(f"TOML nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_toml_value(item, key, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_toml_value(item, where, depth + 1)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and not MIN_INTEGER <= value <= MAX_INTEGER:
        raise DataError(f"{where}: an integer beyond 64 bits")
    elif isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"{where}: {value} is not a finite number")
    elif isinstance(value, datetime) and value.tzinfo is not None:
        moment(value, where)


def whole_number(value: Any, name: str, *, low: int, high: int) -> int:
    """An integer, or its decimal text in ASCII digits, from `low` to `high`; else DataError."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_TEXT or not _INTEGER_TEXT.fullmatch(text):
            raise DataError(f"{name} {shown(value)} is not a whole number")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(f"{name} {shown(value)} is not a whole number")
    if not low <= value <= high:
        raise DataError(f"{name} {shown(value)} is out of range ({low:,} to {high:,})")
    return value


def finite_number(value: Any, name: str, *, low: float, high: float) -> float:
    """A finite number, or its decimal text in ASCII, from `low` to `high`; else DataError."""
    number: Any = value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_TEXT or not _DECIMAL_TEXT.fullmatch(text):
            raise DataError(f"{name} {shown(value)} is not a number")
        number = float(text)
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise DataError(f"{name} {shown(value)} is not a number")
    if isinstance(number, float) and not math.isfinite(number):
        raise DataError(f"{name} {shown(value)} is not a finite number")
    if not low <= number <= high:  # an int of any size compares exactly
        raise DataError(f"{name} {shown(value)} is out of range ({low:,} to {high:,})")
    return float(number)


def moment(
    value: Any,
    name: str,
    *,
    earliest: datetime = EARLIEST_TIME,
    latest: datetime = LATEST_TIME,
) -> datetime:
    """An ISO 8601 date-time (UTC when it names no offset) from `earliest` to `latest`.

    Returned as written, offset kept; its UTC form is within range, so converting it (or
    adding days to it) cannot overflow. DataError otherwise.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= _MAX_NUMBER_TEXT:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise DataError(f"{name} {shown(value)} is not an ISO 8601 date-time") from None
    else:
        raise DataError(f"{name} {shown(value)} is not an ISO 8601 date-time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        in_utc = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01 ahead of UTC, 9999-12-31 behind it
        in_utc = None
    if in_utc is None or not earliest <= in_utc <= latest:
        written = value if isinstance(value, str) else parsed.isoformat()
        raise DataError(
            f"{name} {shown(written)} is out of range ({earliest.date()} to {latest.date()})"
        )
    return parsed


def calendar_date(
    text: str,
    name: str,
    *,
    earliest: date = EARLIEST_DATE,
    latest: date = LATEST_DATE,
) -> date:
    """A YYYY-MM-DD date from `earliest` to `latest`; DataError otherwise."""
    try:
        day = date.fromisoformat(text.strip()) if len(text) <= _MAX_NUMBER_TEXT else None
    except ValueError:
        day = None
    if day is None:
        raise DataError(f"{name} {shown(text)} is not a date")
    if not earliest <= day <= latest:
        raise DataError(
            f"{name} {shown(text)} is out of range ({earliest.isoformat()} to {latest.isoformat()})"
        )
    return day


def bounded_text(value: Any, name: str, *, max_characters: int) -> str:
    """Text of at most `max_characters`; DataError for anything else."""
    if not isinstance(value, str):
        raise DataError(f"{name} must be text, not {type(value).__name__}")
    if len(value) > max_characters:
        raise DataError(f"{name} is longer than {max_characters:,} characters")
    return value
