"""Reading backfill files as streams with exact positions, and checking their records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from joyctl.errors import DataError
from joyctl.klaviyo.bulk.batches import Outgoing, Rejected, Skipped
from joyctl.quarantine import QuarantineLog
from joyctl.services.backfill.files import SourceRecord, read_records
from joyctl.services.backfill.records import Selection, file_item, parse_event_record

NOW = datetime(2026, 7, 20, tzinfo=UTC)


def records(path: Path, file_format: str, **start: int) -> list[SourceRecord]:
    with path.open("rb") as handle:
        return list(read_records(handle, file_format, **start))


def test_jsonl_resumes_exactly_after_a_record(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"n": 1}\n\n{"n": "\xc3\xa9"}\n{"n": 3}\n')
    everything = records(path, "jsonl")
    assert [(r.line, r.values) for r in everything] == [
        (1, {"n": 1}),
        (3, {"n": "é"}),
        (4, {"n": 3}),
    ]

    rest = records(path, "jsonl", offset=everything[0].offset, line=everything[0].last_line)

    assert [(r.line, r.values) for r in rest] == [(3, {"n": "é"}), (4, {"n": 3})]
    assert everything[-1].offset == path.stat().st_size


def test_jsonl_lines_that_cannot_be_read_carry_their_problem(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"n": 1}\n{oops\n[1, 2]\n{"n": "\xff"}\n')
    problems = [(r.line, r.problem) for r in records(path, "jsonl")]
    assert problems == [
        (1, None),
        (2, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (3, "not a JSON object"),
        (4, "not valid UTF-8 text"),
    ]


def test_csv_positions_survive_quoted_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        'email,metric,note\na@example.com,M,"two\nlines"\nb@example.com,M,x\nc@example.com,M\n',
        encoding="utf-8",
    )
    everything = records(path, "csv")
    assert [(r.line, r.last_line) for r in everything] == [(2, 3), (4, 4), (5, 5)]
    assert everything[0].values["note"] == "two\nlines"
    assert everything[2].problem == "2 fields, but the header has 3"

    rest = records(path, "csv", offset=everything[0].offset, line=everything[0].last_line)

    assert [r.values.get("email") for r in rest] == ["b@example.com", "c@example.com"]


def test_a_csv_without_a_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty"):
        records(path, "csv")


def test_the_quarantine_of_a_resumed_run_writes_no_line_twice(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    first = QuarantineLog(path, resumed=False)
    first.add(3, "bad", {"a": 1})
    first.add(7, "worse", {"a": 2})
    first.close()

    again = QuarantineLog(path, resumed=True)
    again.add(7, "worse", {"a": 2})  # quarantined after the last checkpoint, met again
    again.add(9, "new", {"a": 3})
    again.close()

    lines = [json.loads(text)["line"] for text in path.read_text().splitlines()]
    assert lines == [3, 7, 9]
    assert again.count == 2
    QuarantineLog(path, resumed=False).close()
    assert not path.exists()


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
        ({"time": "soon"}, "not ISO 8601"),
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
    late = SourceRecord(1, event(time="2025-03-05T00:00:00Z", id="a"), 10, 1)
    early = SourceRecord(2, event(id="b"), 20, 2)
    broken = SourceRecord(3, {"_raw": "{"}, 30, 3, "not valid JSON")

    sent = file_item(late, selection, now=NOW, loose_columns=False)
    assert isinstance(sent, Outgoing)
    assert (sent.event.unique_id, sent.position) == ("a", position)
    assert isinstance(file_item(early, selection, now=NOW, loose_columns=False), Skipped)
    rejected = file_item(broken, selection, now=NOW, loose_columns=False)
    assert isinstance(rejected, Rejected)
    assert (rejected.origin, rejected.reason) == (3, "not valid JSON")
