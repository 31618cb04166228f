"""The shared bounds: every hostile value is a DataError with a reason, never another exception."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joyctl.errors import DataError
from joyctl.files import limits
from joyctl.files.limits import MAX_INTEGER, MIN_INTEGER

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=MIN_INTEGER, max_value=MAX_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9" * 5000, "an integer of 5000 digits is beyond 64 bits"),
        ('{"n": -' + "9" * 5000 + "}", "an integer of 5000 digits is beyond 64 bits"),
        (str(2**64), f"the integer {2**64} is beyond 64 bits"),
        (str(-(2**63) - 1), "beyond 64 bits"),
        ("1e400", "the number '1e400' is too large"),
        ("-1" + "0" * 400 + ".5", "is too large"),
        ("NaN", "NaN is not a number JSON allows"),
        ('{"x": Infinity}', "Infinity is not a number JSON allows"),
        ("[-Infinity]", "-Infinity is not a number JSON allows"),
        (nested(10_000), "JSON nested deeper than 64 levels"),
        ('{"a":' * 10_000 + "1" + "}" * 10_000, "JSON nested deeper than 64 levels"),
        (nested(65), "JSON nested deeper than 64 levels"),
        ('"\\ud800"', "lone surrogate"),
        ('{"\\udfff": 1}', "lone surrogate"),
        ("{oops", "not valid JSON (Expecting property name enclosed in double quotes)"),
        ("", "not valid JSON (Expecting value)"),
    ],
)
def test_hostile_json_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(DataError, match=re.escape(reason)):
        limits.load_json(text)


def test_json_within_the_bounds_is_kept() -> None:
    assert limits.load_json(nested(64)) == json.loads(nested(64))
    assert limits.load_json(f"[{MAX_INTEGER}, {MIN_INTEGER}]") == [MAX_INTEGER, MIN_INTEGER]
    assert limits.load_json('"\\ud83d\\ude00"') == "\U0001f600"  # a surrogate pair is one letter
    assert limits.load_json('"' + "[" * 100 + '"') == "[" * 100  # brackets in text are no depth
    assert limits.load_json(b'\xef\xbb\xbf{"a": 1.5e300}') == {"a": 1.5e300}
    with pytest.raises(DataError, match="not valid UTF-8"):
        limits.load_json(b'{"a": "\xff"}')


@settings(max_examples=300)
@given(value=JSON_VALUES)
def test_json_within_the_bounds_round_trips(value: Any) -> None:
    assert limits.load_json(json.dumps(value)) == value
    assert limits.load_json(json.dumps(value, ensure_ascii=False).encode("utf-8")) == value


_JSON_PIECES = st.sampled_from(
    [
        "[",
        "]",
        "{",
        "}",
        '"',
        ":",
        ",",
        "1",
        "9" * 25,
        "e999",
        "-",
        ".",
        "NaN",
        "Infinity",
        "\\ud800",
        "\\",
        "true",
        "null",
        " ",
        "\n",
        "é",
        "\x00",
    ]  # fmt: skip
)


@settings(max_examples=500)
@given(text=st.lists(_JSON_PIECES, max_size=60).map("".join) | st.text(max_size=80))
def test_any_text_is_a_value_or_a_data_error(text: str) -> None:
    try:
        limits.load_json(text)
    except DataError as exc:
        assert exc.message and "\n" not in exc.message


@settings(max_examples=200)
@given(data=st.binary(max_size=80))
def test_any_bytes_are_a_value_or_a_data_error(data: bytes) -> None:
    try:
        value = limits.load_json(data)
    except DataError:
        return
    assert limits.load_json(json.dumps(value)) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("9" * 5000, "is not a whole number"),
        (str(2**64), "is out of range"),
        (2**64, "is out of range"),
        ("١٢", "is not a whole number"),  # digits, but not ASCII ones
        ("²", "is not a whole number"),
        ("1.5", "is not a whole number"),
        (1.0, "is not a whole number"),
        (True, "is not a whole number"),
        ("-1", "is out of range"),
        ("", "is not a whole number"),
    ],
)
def test_whole_numbers_out_of_bounds(value: Any, reason: str) -> None:
    with pytest.raises(DataError, match=reason):
        limits.whole_number(value, "points", low=0, high=limits.MAX_POINTS)


def test_whole_numbers_within_bounds() -> None:
    assert limits.whole_number(" +42 ", "n", low=0, high=100) == 42
    assert limits.whole_number(limits.MAX_POINTS, "n", low=0, high=limits.MAX_POINTS) > 0


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "inf", "-Infinity", "1e999", float("nan"), float("inf"), "1_000"]
)
def test_nan_and_infinity_are_not_numbers(value: Any) -> None:
    with pytest.raises(DataError, match="not a (finite )?number"):
        limits.finite_number(value, "value", low=-1e15, high=1e15)


def test_finite_numbers_within_their_range() -> None:
    assert limits.finite_number(" -12.5e1 ", "value", low=-1e15, high=1e15) == -125.0
    assert limits.finite_number(3, "value", low=0, high=10) == 3.0
    with pytest.raises(DataError, match="out of range"):
        limits.finite_number(2**64, "value", low=-1e15, high=1e15)
    with pytest.raises(DataError, match="out of range"):
        limits.finite_number("1e16", "value", low=-1e15, high=1e15)


@settings(max_examples=300)
@given(value=st.text(max_size=30) | st.integers() | st.floats() | st.booleans() | st.none())
def test_any_value_is_a_bounded_number_or_a_data_error(value: Any) -> None:
    try:
        number = limits.finite_number(value, "value", low=-1e15, high=1e15)
    except DataError:
        return
    assert -1e15 <= number <= 1e15


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59.999999-00:01",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01+00:01",
        "0001-01-01T00:00:00",
        "2200-01-01T00:00:01Z",
        "1899-12-31T23:59:59Z",
    ],
)
def test_times_at_the_edge_of_the_calendar_are_out_of_range(text: str) -> None:
    with pytest.raises(DataError, match="is out of range"):
        limits.moment(text, "time")


def test_times_are_kept_as_written_with_utc_assumed() -> None:
    written = limits.moment("2026-01-31T14:00+02:00", "time")
    assert written.utcoffset() == timedelta(hours=2)
    assert written.astimezone(UTC) == datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert limits.moment("2026-01-31", "time") == datetime(2026, 1, 31, tzinfo=UTC)
    for text in ("soon", "2026-13-01", "1" * 5000, 20260131):
        with pytest.raises(DataError, match="not an ISO 8601 date-time"):
            limits.moment(text, "time")


_OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(max_examples=300)
@given(moment=st.datetimes(timezones=st.none() | _OFFSETS), as_text=st.booleans())
def test_any_date_time_is_in_range_or_a_data_error(moment: datetime, as_text: bool) -> None:
    value: Any = moment.isoformat() if as_text else moment
    try:
        found = limits.moment(value, "time")
    except DataError:
        return
    in_utc = found.astimezone(UTC)
    assert limits.EARLIEST_TIME <= in_utc <= limits.LATEST_TIME
    assert in_utc + timedelta(days=3650) > in_utc  # arithmetic stays inside the calendar


def test_dates_of_the_calendar_within_range() -> None:
    assert limits.calendar_date("1990-05-01", "birthday") == date(1990, 5, 1)
    with pytest.raises(DataError, match="is out of range"):
        limits.calendar_date("0001-01-01", "birthday")
    with pytest.raises(DataError, match="is not a date"):
        limits.calendar_date("1990-02-30", "birthday")


def test_reasons_quote_a_long_value_cut_short() -> None:
    with pytest.raises(DataError) as caught:
        limits.whole_number("x" * 200_000, "points", low=0, high=1)
    assert len(caught.value.message) < 200
    assert "200,000 characters" in caught.value.message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a = " + "[" * 10_000 + "]" * 10_000, "not valid TOML (nested"),
        ("a = " + "9" * 5000, "not valid TOML ("),
        (f"a = {2**63}", "not valid TOML (a: an integer beyond 64 bits)"),
        ("a = nan", "not valid TOML (a: nan is not a finite number)"),
        ("[t]\nb = [inf]", "not valid TOML (b: inf is not a finite number)"),
        ("a = 9999-12-31T23:59:59-14:00", "not valid TOML (a '9999-12-31T23:59:59-14:00' is out"),
        ("a = maybe", "not valid TOML (Invalid value"),
    ],
)
def test_hostile_toml_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(DataError, match=re.escape(reason)):
        limits.load_toml(text)


@settings(max_examples=200)
@given(text=st.text(st.sampled_from('ab=[]{}."\n 1e+-:#,'), max_size=60))
def test_any_text_is_toml_or_a_data_error(text: str) -> None:
    try:
        limits.load_toml(text)
    except DataError as exc:
        assert exc.message.startswith("not valid TOML")
