"""Backfill file records as Klaviyo events: checked, selected, or set aside with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from joyctl.errors import DataError
from joyctl.files.reader import Position, Record
from joyctl.klaviyo.bulk.batches import Outgoing, Rejected, Skipped
from joyctl.services.backfill.records import Selection, file_item, parse_event_record

NOW = datetime(2026, 7, 20, tzinfo=UTC)


def event(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "email": " Ann@Example.com ",
        "metric": "Joy: Earn Point",
        "time": "2025-03-01T12:00:00.250+02:00",
        "properties": {"Earned points": "10 points"},
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def test_a_record_becomes_an_event_with_utc_seconds_and_a_stable_id() -> None:
    profile, first = parse_event_record(event(), now=NOW, loose_columns=False)
    _, second = parse_event_record(event(), now=NOW, loose_columns=False)

    assert profile == {"email": "ann@example.com"}
    assert first.time == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert first.unique_id == second.unique_id
    assert first.unique_id is not None and first.unique_id.startswith("joyctl-")
    _, other = parse_event_record(event(value=3), now=NOW, loose_columns=False)
    assert other.unique_id != first.unique_id


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"email": None}, "email or external_id"),
        ({"metric": None}, "metric is missing"),
        ({"time": "soon"}, "not an ISO 8601 date-time"),
        ({"time": "2028-01-01T00:00:00Z"}, "a year ahead"),
        ({"value": "lots"}, "not a number"),
        ({"value_currency": "dollars"}, "ISO 4217"),
        ({"properties": [1, 2]}, "must be an object"),
        ({"properties": {str(n): n for n in range(401)}}, "at most 400"),
        ({"properties": {"deep": [[[[[[[[[[[1]]]]]]]]]]]}}, "deeper than 10"),
        ({"id": 1.5}, "id must be text"),
    ],
)
def test_records_klaviyo_would_refuse_are_named(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(DataError, match=reason):
        parse_event_record(event(**changes), now=NOW, loose_columns=False)


def test_file_items_are_selected_rejected_or_sent() -> None:
    selection = Selection(since=datetime(2025, 3, 2, tzinfo=UTC))
    position = {"offset": 10, "line": 1}
    late = Record(1, event(time="2025-03-05T00:00:00Z", id="a"), Position(10, 1))
    early = Record(2, event(id="b"), Position(20, 2))
    broken = Record(3, {"_raw": "{"}, Position(30, 3), "not valid JSON")

    sent = file_item(late, selection, now=NOW, loose_columns=False)
    assert isinstance(sent, Outgoing)
    assert (sent.event.unique_id, sent.position) == ("a", position)
    assert isinstance(file_item(early, selection, now=NOW, loose_columns=False), Skipped)
    rejected = file_item(broken, selection, now=NOW, loose_columns=False)
    assert isinstance(rejected, Rejected)
    assert (rejected.origin, rejected.reason) == (3, "not valid JSON")
