"""Properties of the backfill record parser: any record is an event or a reason, never a crash."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joyctl.errors import DataError
from joyctl.files.formats import FileFormat
from joyctl.files.limits import MAX_AMOUNT, MAX_INTEGER, MIN_INTEGER
from joyctl.files.reader import read_records
from joyctl.klaviyo.bulk.batches import Outgoing, Rejected, Skipped
from joyctl.services.backfill.records import (
    KNOWN_KEYS,
    Selection,
    file_item,
    parse_event_record,
)

NOW = datetime(2026, 7, 20, tzinfo=UTC)

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "9" * 5000,
            str(2**64),
            "NaN",
            "inf",
            "-Infinity",
            "1e999",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "2025-03-01T12:00:00Z",
            "a@example.com",
            "USD",
            "١٢",
        ]
    )  # fmt: skip
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
_RECORDS = st.dictionaries(
    st.sampled_from([*KNOWN_KEYS, "properties", "Properties", "EMAIL", "extra"])
    | st.text(max_size=5),
    _VALUES,
    max_size=9,
)


@settings(max_examples=500)
@given(values=_RECORDS, loose_columns=st.booleans())
def test_any_record_is_an_event_or_a_data_error(
    values: dict[str, Any], loose_columns: bool
) -> None:
    try:
        profile, event = parse_event_record(values, now=NOW, loose_columns=loose_columns)
    except DataError as exc:
        assert exc.message and len(exc.message) < 400
        return
    assert profile
    assert event.time is not None and datetime(1990, 1, 1, tzinfo=UTC) <= event.time
    assert event.value is None or abs(event.value) <= MAX_AMOUNT
    json.dumps(dict(event.properties), allow_nan=False)  # Klaviyo can be sent every event


_CELLS = st.text(max_size=12) | st.sampled_from(["9" * 5000, "NaN", "1e999", '{"a": 1}', "{", "[]"])


@settings(max_examples=300)
@given(
    cells=st.fixed_dictionaries(
        dict.fromkeys(("email", "metric", "time", "value", "properties", "note"), _CELLS)
    )
)
def test_any_csv_row_is_an_event_or_a_data_error(cells: dict[str, str]) -> None:
    try:
        _, event = parse_event_record(cells, now=NOW, loose_columns=True)
    except DataError:
        return
    assert event.properties.get("note", "") == cells["note"]


_PROPERTY_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=MIN_INTEGER, max_value=MAX_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_GOOD = st.fixed_dictionaries(
    {
        "id": st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=20),
        "email": st.from_regex(r"[a-z0-9]{1,10}@[a-z]{1,8}\.[a-z]{2,4}", fullmatch=True),
        "metric": st.text(
            st.characters(codec="utf-8", categories=["L", "N", "Zs"]), min_size=1, max_size=127
        ).filter(lambda name: name.strip() == name and bool(name)),
        "time": st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2026, 7, 20), timezones=st.just(UTC)
        ),
        "value": st.none() | st.floats(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT),
        "properties": st.dictionaries(st.text(max_size=8), _PROPERTY_VALUES, max_size=5),
    }
)


@settings(max_examples=300)
@given(record=_GOOD)
def test_valid_records_round_trip_through_a_file(record: dict[str, Any]) -> None:
    written = {**record, "time": record["time"].isoformat()}
    if written["value"] is None:
        del written["value"]
    data = (json.dumps(written) + "\n").encode("utf-8")

    (found,) = list(read_records(io.BytesIO(data), FileFormat.JSONL))
    item = file_item(found, Selection(), now=NOW, loose_columns=False)

    assert isinstance(item, Outgoing), getattr(item, "reason", item)
    assert dict(item.profile) == {"email": record["email"]}
    event = item.event
    assert (event.metric_name, event.unique_id) == (record["metric"], record["id"])
    assert event.time == record["time"].replace(microsecond=0)
    assert event.value == record["value"]
    assert dict(event.properties) == record["properties"]


def jsonl(*records: dict[str, Any] | str) -> bytes:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8")


GOOD = '{"email": "ann@example.com", "metric": "M", "time": "2025-03-01T12:00:00Z"'


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (GOOD + ', "value": ' + "9" * 5000 + "}", "an integer of 5000 digits is beyond 64 bits"),
        (GOOD + f', "value": {2**64}' + "}", f"the integer {2**64} is beyond 64 bits"),
        (GOOD + f', "value": {2**63 - 1}' + "}", "value 9223372036854775807 is out of range"),
        (GOOD + ', "value": NaN}', "NaN is not a number JSON allows"),
        (GOOD + ', "value": "inf"}', "value 'inf' is not a number"),
        (GOOD + ', "value": "NaN"}', "value 'NaN' is not a number"),
        (
            GOOD + ', "properties": {"n": ' + "[" * 10_000 + "]" * 10_000 + "}}",
            "JSON nested deeper than 64",
        ),
        (GOOD + ', "properties": {"x": "' + "y" * 200_000 + '"}}', "a string over 100 KB"),
        (
            '{"email": "a@b.co", "metric": "M", "time": "9999-12-31T23:59:59-14:00"}',
            "time '9999-12-31T23:59:59-14:00' is out of range (1900-01-01 to 2200-01-01)",
        ),
        (
            '{"email": "a@b.co", "metric": "M", "time": "0001-01-01T00:00:00+14:00"}',
            "time '0001-01-01T00:00:00+14:00' is out of range (1900-01-01 to 2200-01-01)",
        ),
        (
            '{"email": "a@b.co", "metric": "M", "time": "2150-01-01T00:00:00Z"}',
            "more than a year ahead",
        ),
        ('{"email": "a@b.co", "metric": "M", "time": ' + "9" * 30 + "}", "beyond 64 bits"),
    ],
)
def test_each_hostile_value_is_a_rejected_record_with_its_reason(line: str, reason: str) -> None:
    data = jsonl(line, GOOD + "}")

    first, second = (
        file_item(record, Selection(), now=NOW, loose_columns=False)
        for record in read_records(io.BytesIO(data), FileFormat.JSONL)
    )

    assert isinstance(first, Rejected), first
    assert reason in first.reason
    assert isinstance(second, Outgoing)


def test_hostile_csv_cells_are_rejected_records() -> None:
    data = (
        "email,metric,time,value,properties\n"
        f"a@b.co,M,2025-01-01T00:00:00Z,{'9' * 5000},\n"
        "a@b.co,M,2025-01-01T00:00:00Z,1e999,\n"
        "a@b.co,M,9999-12-31T23:59:59-14:00,1,\n"
        f'a@b.co,M,2025-01-01T00:00:00Z,1,"{{""n"": {"9" * 5000}}}"\n'
        'a@b.co,M,2025-01-01T00:00:00Z,1,"{""n"": 1}\n'
        "a@b.co,M,2025-01-01T00:00:00Z,2,\n"
    ).encode()

    items = [
        file_item(record, Selection(), now=NOW, loose_columns=True)
        for record in read_records(io.BytesIO(data), FileFormat.CSV)
    ]

    assert [type(item).__name__ for item in items] == ["Rejected"] * 5 + ["Outgoing"]
    reasons = [item.reason for item in items if isinstance(item, Rejected)]
    assert reasons[0].startswith("value '99999")
    assert reasons[1] == "value '1e999' is not a finite number"
    assert "out of range" in reasons[2]
    assert reasons[3] == "properties: an integer of 5000 digits is beyond 64 bits"
    assert reasons[4].startswith("not valid CSV: a quoted cell opened on this line does not close")


def test_a_selection_window_compares_times_without_overflow() -> None:
    selection = Selection(since=datetime(1990, 1, 1, tzinfo=UTC), until=NOW + timedelta(days=1))
    record = next(read_records(io.BytesIO(jsonl(GOOD + "}")), FileFormat.JSONL))
    assert not isinstance(file_item(record, selection, now=NOW, loose_columns=False), Skipped)
