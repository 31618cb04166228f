"""`joyctl ledger balance|history|adjust|import|export`, through the real boundary and files."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from joyctl import envvars
from tests.conftest import Cli


@pytest.fixture(autouse=True)
def store_profile(cli: Cli) -> None:
    """An empty store: the built-in sandbox profile comes seeded with its scenario's data."""
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    assert cli("profiles", "use", "shop").exit_code == 0


GOOD_CSV = """email,external_id,first_name,last_name,tier,birthday,member_status,referred,points
Ann@Example.com ,s-1,Ann,Lee,Gold,02/29,member,true,120
bob@example.com,s-2,Bob,,,1990-05-01,guest,no,0
"""
MIXED_CSV = """email,first_name,points,birthday
ann@example.com,Ann,100,
bob@example.com,Bob,lots,
carol@example.com,"Carol
Jones",50,13/01
not-an-email,X,5,
dan@example.com,Dan,25,12/24,extra
eve@example.com,Eve,30,
"""


def _ledger_file(home: Path, profile: str = "shop") -> Path:
    return home / "data" / "profiles" / profile / "ledger.sqlite3"


def _query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(_ledger_file(home))) as connection:
        return [tuple(row) for row in connection.execute(sql)]


def _json(cli: Cli, *args: str) -> Any:
    result = cli("--json", *args)
    assert result.stderr == ""
    return json.loads(result.stdout)


def _import(cli: Cli, tmp_path: Path, text: str, name: str = "customers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = cli("ledger", "import", str(path))
    assert result.exit_code == 0, result.stderr
    return path


def test_balance_and_history_of_an_imported_customer(cli: Cli, tmp_path: Path) -> None:
    _import(cli, tmp_path, GOOD_CSV)
    balance = _json(cli, "ledger", "balance", "  ANN@example.com")
    assert balance["data"] == {
        "email": "ann@example.com",
        "customer_id": 1,
        "member_status": "member",
        "tier": "Gold",
        "balance": 120,
    }
    human = cli("ledger", "history", "ann@example.com")
    assert human.exit_code == 0
    lines = human.stdout.splitlines()
    assert lines[0] == "ID\tWHEN\tKIND\tPOINTS\tBALANCE\tREASON"
    assert lines[1].startswith("1\t") and lines[1].endswith("\topening\t+120\t120\topening balance")


def test_unknown_and_malformed_emails_are_usage_errors(cli: Cli) -> None:
    missing = _json(cli, "ledger", "balance", "nobody@example.com")
    assert missing["error"]["code"] == "not_found"
    assert "ledger import" in missing["error"]["hint"]
    malformed = cli("ledger", "history", "nobody")
    assert malformed.exit_code == 2
    assert "is not an email address" in malformed.stderr


def test_history_pages_with_before(cli: Cli, tmp_path: Path) -> None:
    _import(cli, tmp_path, GOOD_CSV)
    for number in range(3):
        assert (
            cli("ledger", "adjust", "ann@example.com", "1", "--reason", f"r{number}").exit_code == 0
        )
    page = _json(cli, "ledger", "history", "ann@example.com", "--limit", "2")["data"]
    assert [e["reason"] for e in page["entries"]] == ["r2", "r1"]
    assert page["next_before"] == page["entries"][-1]["id"]
    rest = _json(cli, "ledger", "history", "ann@example.com", "--before", str(page["next_before"]))
    assert [e["reason"] for e in rest["data"]["entries"]] == ["r0", "opening balance"]
    assert rest["data"]["next_before"] is None
    assert cli("ledger", "history", "ann@example.com", "--limit", "0").exit_code == 2


def test_adjust_adds_and_takes_but_never_below_zero(cli: Cli, tmp_path: Path) -> None:
    _import(cli, tmp_path, GOOD_CSV)
    added = cli("ledger", "adjust", "ann@example.com", "30", "--reason", "goodwill")
    assert (added.exit_code, added.stdout) == (0, "150\n")
    taken = _json(cli, "ledger", "adjust", "ann@example.com", "-50", "--reason", "refund")["data"]
    assert (taken["created"], taken["balance"], taken["entry"]["delta"]) == (True, 100, -50)
    assert taken["entry"]["kind"] == "adjust" and taken["entry"]["reason"] == "refund"
    refused = cli("ledger", "adjust", "ann@example.com", "-101", "--reason", "too much")
    assert refused.exit_code == 3
    assert "ann@example.com has 100 points; -101 would leave -1" in refused.stderr
    assert "take at most 100 points" in refused.stderr
    as_json = _json(cli, "ledger", "adjust", "bob@example.com", "-1", "--reason", "x")
    assert as_json["error"]["code"] == "insufficient_points"
    assert _query(tmp_path / "joyctl-home", "SELECT sum(delta) FROM point_entries") == [(100,)]


def test_adjust_refuses_zero_and_a_blank_reason(cli: Cli, tmp_path: Path) -> None:
    _import(cli, tmp_path, GOOD_CSV)
    assert cli("ledger", "adjust", "ann@example.com", "0", "--reason", "x").exit_code == 2
    assert cli("ledger", "adjust", "ann@example.com", "5", "--reason", " ").exit_code == 2
    missing = cli("ledger", "adjust", "ann@example.com", "5")
    assert missing.exit_code == 2
    assert "--reason" in missing.stderr


def test_adjust_with_an_idempotency_key_records_once(
    cli: Cli, tmp_path: Path, isolated_home: Path
) -> None:
    _import(cli, tmp_path, GOOD_CSV)
    args = (
        "ledger",
        "adjust",
        "ann@example.com",
        "-20",
        "--reason",
        "r",
        "--idempotency-key",
        "k1",
    )
    first = _json(cli, *args)["data"]
    again = _json(cli, *args)["data"]
    assert (first["created"], again["created"]) == (True, False)
    assert again["entry"]["id"] == first["entry"]["id"]
    assert again["balance"] == 100
    human = cli(*args)
    assert f"already recorded as entry {first['entry']['id']}" in human.stderr
    other = cli(
        "ledger", "adjust", "ann@example.com", "-25", "--reason", "r", "--idempotency-key", "k1"
    )
    assert other.exit_code == 3
    assert "already recorded an adjustment of -20" in other.stderr
    count = "SELECT count(*) FROM point_entries WHERE kind = 'adjust'"
    assert _query(isolated_home, count) == [(1,)]


def test_import_quarantines_bad_records_and_keeps_the_rest(
    cli: Cli, tmp_path: Path, isolated_home: Path
) -> None:
    source = tmp_path / "mixed.csv"
    source.write_text(MIXED_CSV, encoding="utf-8")
    result = cli("ledger", "import", str(source))
    assert result.exit_code == 7
    assert "6 records: 2 customers added" in result.stderr
    assert "4 records quarantined" in result.stderr
    quarantine = tmp_path / "mixed.csv.quarantine.jsonl"
    bad = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert [(item["line"], item["reason"]) for item in bad] == [
        (3, "points 'lots' is not a whole number from 0 to 1,000,000,000,000"),
        (4, "birthday '13/01' is not a date"),
        (6, "'not-an-email' is not an email address"),
        (7, "5 fields, but the header has 4"),
    ]
    assert bad[1]["record"]["first_name"] == "Carol\nJones"
    balances = (
        "SELECT email, balance_after FROM point_entries JOIN customers c ON c.id = customer_id"
    )
    assert sorted(_query(isolated_home, balances)) == [
        ("ann@example.com", 100),
        ("eve@example.com", 30),
    ]


def test_quarantined_records_under_json_give_the_result_envelope_and_exit_7(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "mixed.csv"
    source.write_text(MIXED_CSV, encoding="utf-8")
    result = cli("--json", "ledger", "import", str(source))
    assert result.exit_code == 7
    assert result.stderr == ""
    envelope = json.loads(result.stdout)  # one document: the result, no error envelope after it
    assert set(envelope) == {"schema", "data"}
    assert (envelope["data"]["records"], envelope["data"]["quarantined"]) == (6, 4)


def test_reimporting_records_nothing_twice(cli: Cli, tmp_path: Path, isolated_home: Path) -> None:
    source = tmp_path / "mixed.csv"
    source.write_text(MIXED_CSV, encoding="utf-8")
    assert cli("ledger", "import", str(source)).exit_code == 7
    again = _json(cli, "ledger", "import", str(source))
    summary = again["data"]
    assert (summary["customers_created"], summary["customers_updated"]) == (0, 2)
    assert (summary["openings_recorded"], summary["openings_already_recorded"]) == (0, 2)
    assert summary["quarantined"] == 4
    assert _query(isolated_home, "SELECT count(*), sum(delta) FROM point_entries") == [(2, 130)]
    changed = tmp_path / "changed.csv"
    changed.write_text("email,points\nann@example.com,999\n", encoding="utf-8")
    result = cli("ledger", "import", str(changed))
    assert result.exit_code == 0
    assert "differ from the opening balance recorded earlier (lines 2)" in result.stderr
    assert _query(isolated_home, "SELECT count(*), sum(delta) FROM point_entries") == [(2, 130)]


def test_import_jsonl_with_a_chosen_quarantine_file(
    cli: Cli, tmp_path: Path, isolated_home: Path
) -> None:
    source = tmp_path / "customers.data"
    lines = [
        '{"email": "ann@example.com", "points": 10, "referred": true, "external_id": 17}',
        "",
        "{not json",
        "[1, 2]",
        '{"email": "bob@example.com", "pionts": 5}',
        '{"email": "carol@example.com", "points": -5}',
        '{"email": "dan@example.com", "last_activity_at": "2026-02-01T10:00:00+01:00"}',
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli("ledger", "import", str(source)).exit_code == 2  # no telling the format
    quarantine = tmp_path / "bad" / "rows.jsonl"
    result = cli(
        "ledger", "import", str(source), "--format", "jsonl", "--quarantine", str(quarantine)
    )
    assert result.exit_code == 7
    bad = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert [(item["line"], item["reason"].split(" (")[0]) for item in bad] == [
        (3, "not valid JSON"),
        (4, "not a JSON object"),
        (5, "unknown keys pionts"),
        (6, "points -5 is not a whole number from 0 to 1,000,000,000,000"),
    ]
    rows = "SELECT email, external_id, referred, last_activity_at FROM customers ORDER BY id"
    assert _query(isolated_home, rows) == [
        ("ann@example.com", "17", 1, None),
        ("dan@example.com", None, 0, "2026-02-01T09:00:00+00:00"),
    ]


def test_a_bad_header_or_file_stops_before_anything_is_written(
    cli: Cli, tmp_path: Path, isolated_home: Path
) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("email,pts\nann@example.com,5\n", encoding="utf-8")
    result = cli("ledger", "import", str(wrong))
    assert result.exit_code == 3
    assert "unknown columns pts" in result.stderr
    assert "email, external_id" in result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert cli("ledger", "import", str(empty)).exit_code == 3
    missing = cli("ledger", "import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr
    assert cli("ledger", "import", str(wrong), "--format", "xml").exit_code == 2
    assert _query(isolated_home, "SELECT count(*) FROM customers") == [(0,)]


def test_undecodable_bytes_and_a_byte_order_mark(
    cli: Cli, tmp_path: Path, isolated_home: Path
) -> None:
    source = tmp_path / "excel.csv"
    source.write_bytes(
        b"\xef\xbb\xbfemail,first_name\nann@example.com,Ann\nbob@example.com,B\xffb\n"
    )
    result = _json(cli, "ledger", "import", str(source))
    assert (result["data"]["customers_created"], result["data"]["quarantined"]) == (1, 1)
    quarantine = (tmp_path / "excel.csv.quarantine.jsonl").read_text(encoding="utf-8")
    assert json.loads(quarantine)["reason"] == "not valid UTF-8 text"


def test_a_bad_record_in_a_batch_loses_none_of_the_others(
    tmp_path: Path, isolated_home: Path
) -> None:
    from joyctl.ledger.db import open_ledger
    from joyctl.services.ledger_admin.operations import import_customers

    source = tmp_path / "many.csv"
    rows = [f"c{n}@example.com,{n}" if n != 5 else "broken,1" for n in range(1, 10)]
    source.write_text("email,points\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with closing(open_ledger(tmp_path / "ledger.sqlite3")) as connection:
        summary = import_customers(connection, source, batch_size=4)
        total = connection.execute("SELECT count(*), sum(delta) FROM point_entries").fetchone()
    assert (summary.batches, summary.quarantined, summary.customers_created) == (3, 1, 8)
    assert tuple(total) == (8, 45 - 5)


def test_export_round_trips_into_a_fresh_ledger(cli: Cli, tmp_path: Path) -> None:
    _import(cli, tmp_path, GOOD_CSV)
    assert cli("ledger", "adjust", "bob@example.com", "7", "--reason", "x").exit_code == 0
    for file_format in ("csv", "jsonl"):
        exported = tmp_path / f"out.{file_format}"
        summary = _json(cli, "ledger", "export", "--output", str(exported))["data"]
        assert summary == {
            "output": str(exported),
            "format": file_format,
            "customers": 2,
            "points": 127,
        }
        profile = f"copy-{file_format}"
        assert cli("profiles", "add", profile).exit_code == 0
        assert cli("-p", profile, "ledger", "import", str(exported)).exit_code == 0
        again = cli("-p", profile, "ledger", "export", "--format", file_format)
        assert again.stdout == exported.read_text(encoding="utf-8")
    first_line = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1]
    assert first_line == "ann@example.com,s-1,Ann,Lee,Gold,02/29,,member,true,,120"


def test_export_to_stdout_and_its_refusals(cli: Cli, tmp_path: Path) -> None:
    _import(cli, tmp_path, GOOD_CSV)
    piped = cli("ledger", "export", "--format", "jsonl")
    assert piped.exit_code == 0
    records = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [(r["email"], r["points"]) for r in records] == [
        ("ann@example.com", 120),
        ("bob@example.com", 0),
    ]
    assert "2 customers (120 points) written to stdout" in piped.stderr
    assert _json(cli, "ledger", "export")["error"]["code"] == "usage"
    target = tmp_path / "out.csv"
    target.write_text("keep me", encoding="utf-8")
    refused = cli("ledger", "export", "--output", str(target))
    assert refused.exit_code == 2
    assert target.read_text(encoding="utf-8") == "keep me"
    assert cli("ledger", "export", "--output", str(target), "--force").exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("email,external_id,")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.csv")]
    unwritable = cli("ledger", "export", "--output", str(target / "inside-a-file.csv"))
    assert unwritable.exit_code == 2  # a bad argument, refused before the ledger is read
    assert f"--output: {target} is not a folder" in unwritable.stderr
    assert "internal error" not in unwritable.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("ledger", "balance", "ann@example.com"),
        ("ledger", "history", "ann@example.com"),
        ("ledger", "adjust", "ann@example.com", "5", "--reason", "x"),
        ("ledger", "verify"),
    ],
)
def test_json_envelopes_keep_stderr_empty(cli: Cli, tmp_path: Path, args: tuple[str, ...]) -> None:
    _import(cli, tmp_path, GOOD_CSV)
    result = cli("--json", *args)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert set(json.loads(result.stdout)) == {"schema", "data"}


def test_partial_import_under_json_is_data_with_exit_7(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "mixed.csv"
    source.write_text(MIXED_CSV, encoding="utf-8")
    result = cli("--json", "ledger", "import", str(source))
    assert (result.exit_code, result.stderr) == (7, "")
    data = json.loads(result.stdout)["data"]
    assert data["quarantine_file"] == str(tmp_path / "mixed.csv.quarantine.jsonl")


def _adjust_in_a_process(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, envvars.HOME: str(home)}
    command = [sys.executable, "-m", "joyctl", "--json", "ledger", "adjust", *args]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_processes_retrying_one_key_record_a_single_entry(
    cli: Cli, tmp_path: Path, isolated_home: Path
) -> None:
    _import(cli, tmp_path, GOOD_CSV)
    args = ("ann@example.com", "-40", "--reason", "r", "--idempotency-key", "retry-1")
    processes = [_adjust_in_a_process(isolated_home, *args) for _ in range(4)]
    outputs = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], outputs
    created = [json.loads(stdout)["data"]["created"] for stdout, _ in outputs]
    assert sorted(created) == [False, False, False, True]
    assert _query(isolated_home, "SELECT count(*) FROM point_entries WHERE kind = 'adjust'") == [
        (1,)
    ]
    assert cli("ledger", "verify").exit_code == 0


def test_concurrent_takes_never_overdraw(cli: Cli, tmp_path: Path, isolated_home: Path) -> None:
    _import(cli, tmp_path, GOOD_CSV)  # ann has 120
    processes = [
        _adjust_in_a_process(isolated_home, "ann@example.com", "-50", "--reason", f"take {n}")
        for n in range(4)
    ]
    for process in processes:
        process.communicate(timeout=60)
    assert sorted(process.returncode for process in processes) == [0, 0, 3, 3]
    assert _json(cli, "ledger", "balance", "ann@example.com")["data"]["balance"] == 20
    assert cli("ledger", "verify").exit_code == 0
