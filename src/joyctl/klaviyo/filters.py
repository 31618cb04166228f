"""Klaviyo's JSON:API `filter` expressions, e.g. `equals(name,'Gold')`.

Values are quoted here, once, so that a list name with an apostrophe cannot break (or change)
the expression. Conditions joined with a comma must all hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from joyctl.errors import UsageError

FilterValue = str | int | float | bool | datetime


def literal(value: FilterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, int | float):
        return repr(value)
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise UsageError(f"a filter value cannot hold both kinds of quote: {value!r}")


def equals(field: str, value: FilterValue) -> str:
    return f"equals({field},{literal(value)})"


def any_of(field: str, values: Iterable[FilterValue]) -> str:
    return f"any({field},[{','.join(literal(value) for value in values)}])"


def greater_or_equal(field: str, value: FilterValue) -> str:
    return f"greater-or-equal({field},{literal(value)})"


def less_or_equal(field: str, value: FilterValue) -> str:
    return f"less-or-equal({field},{literal(value)})"


def greater_than(field: str, value: FilterValue) -> str:
    return f"greater-than({field},{literal(value)})"


def all_of(*conditions: str | None) -> str | None:
    """Conditions that must all hold; None when there are none."""
    present = [condition for condition in conditions if condition]
    return ",".join(present) if present else None
