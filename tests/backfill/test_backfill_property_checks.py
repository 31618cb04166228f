"""An event's properties are checked in one pass that tells JSON's plain types apart by type.

The pass must refuse exactly what a plain walk by `isinstance` refuses, with the same reason and
the first problem found first: these compare the two on any nesting of any values, subclasses
of dict and int included.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from joyctl.errors import DataError
from joyctl.files.limits import MAX_INTEGER, MIN_INTEGER
from joyctl.services.backfill.records import MAX_DEPTH, MAX_STRING_BYTES, parse_event_record

NOW = datetime(2026, 7, 20, tzinfo=UTC)
RECORD = {"email": "ann@example.com", "metric": "Joy: Earn Point", "time": "2026-01-01T00:00:00Z"}


class Level(IntEnum):
    LOW = 1


def plain_walk(value: Any, depth: int = 0) -> str | None:
    """The reason a plain walk gives, or None: the rule the fast pass keeps."""
    if isinstance(value, str):
        if len(value.encode("utf-8")) > MAX_STRING_BYTES:
            return "a property holds a string over 100 KB"
    elif isinstance(value, float) and not math.isfinite(value):
        return "a property holds a number JSON cannot carry (NaN or infinity)"
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            return f"properties nest deeper than {MAX_DEPTH} levels"
        for item in value.values() if isinstance(value, dict) else value:
            if (reason := plain_walk(item, depth + 1)) is not None:
                return reason
    elif isinstance(value, int) and not MIN_INTEGER <= value <= MAX_INTEGER:
        return "a property holds an integer beyond 64 bits"
    return None


def nested(value: Any, levels: int) -> Any:
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**63 + 2)
    | st.floats()
    | st.text(max_size=8)
    | st.just(Level.LOW)
    | st.sampled_from(["z" * (MAX_STRING_BYTES + 1), "é" * 40_000, "é" * 60_000])
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
        | st.dictionaries(st.text(max_size=4), inner, max_size=2).map(OrderedDict)
    ),
    max_leaves=10,
)
_DEEP = st.builds(nested, _VALUES, st.integers(min_value=0, max_value=MAX_DEPTH + 2))
_PROPERTIES = st.dictionaries(st.text(max_size=6), _VALUES | _DEEP, max_size=5)


def reason_given(properties: dict[str, Any]) -> str | None:
    try:
        parse_event_record({**RECORD, "properties": properties}, now=NOW, loose_columns=False)
    except DataError as refusal:
        return refusal.message
    return None


@given(_PROPERTIES)
def test_the_one_pass_refuses_what_a_plain_walk_refuses(properties: dict[str, Any]) -> None:
    assert reason_given(properties) == plain_walk(properties)


def test_each_bound_is_met_at_its_edge() -> None:
    assert reason_given({"a": nested(1, MAX_DEPTH - 1)}) is None
    assert reason_given({"a": nested(1, MAX_DEPTH)}) == "properties nest deeper than 10 levels"
    assert reason_given({"a": [MAX_INTEGER, MIN_INTEGER]}) is None
    assert reason_given({"a": {"b": MAX_INTEGER + 1}}) == (
        "a property holds an integer beyond 64 bits"
    )
    assert reason_given({"a": ["z" * MAX_STRING_BYTES]}) is None
    assert reason_given({"a": OrderedDict(b=float("nan"))}) == (
        "a property holds a number JSON cannot carry (NaN or infinity)"
    )
