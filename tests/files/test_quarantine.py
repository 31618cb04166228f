"""The quarantine file: bad records in input order, started afresh, never written twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from joyctl.errors import UsageError
from joyctl.files.quarantine import QuarantineLog, default_quarantine_path


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


def test_entries_name_their_origin_and_keep_any_record(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "q.jsonl"
    log = QuarantineLog(path, resumed=False, origin_name="entry_id")
    log.add(12, "refused", {"when": Path("x"), "text": "é"})
    log.close()

    assert json.loads(path.read_text(encoding="utf-8")) == {
        "entry_id": 12,
        "reason": "refused",
        "record": {"when": "x", "text": "é"},
    }


def test_an_unwritable_quarantine_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(UsageError, match="cannot replace the quarantine file") as caught:
        QuarantineLog(blocker / "q.jsonl", resumed=False)
    assert caught.value.hint == "choose another place with --quarantine PATH"


def test_the_default_quarantine_sits_beside_its_input() -> None:
    assert default_quarantine_path(Path("in/customers.csv")) == Path(
        "in/customers.csv.quarantine.jsonl"
    )


def test_a_line_torn_by_a_kill_is_cut_off_and_written_again_whole(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    first = QuarantineLog(path, resumed=False)
    first.add(3, "bad", {"a": 1})
    first.close()
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"line": 8, "reason": "wor')  # the run was killed mid-write

    again = QuarantineLog(path, resumed=True)
    again.add(8, "worse", {"a": 2})
    again.close()

    entries = [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]
    assert [(entry["line"], entry["reason"]) for entry in entries] == [(3, "bad"), (8, "worse")]


def test_text_no_utf8_file_can_hold_is_written_as_its_escape(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    log = QuarantineLog(path, resumed=False)
    log.add(1, "odd", {"name": "a\ud800b"})
    log.close()

    assert json.loads(path.read_text(encoding="utf-8"))["record"] == {"name": "a\ud800b"}
