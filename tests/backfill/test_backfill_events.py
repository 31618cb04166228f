"""`joyctl backfill events` against a sandbox: every event once, quarantine, plans, options."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from tests.backfill.conftest import ShopFactory
from tests.backfill.support import (
    METRIC,
    Shop,
    event_record,
    recorded_sequence,
    write_csv,
    write_events,
    write_jsonl,
)


def test_twenty_thousand_events_from_a_file_arrive_exactly_once(shop: Shop, tmp_path: Path) -> None:
    source = write_events(tmp_path / "history.jsonl", 20_000)

    summary = shop.data("backfill", "events", "--source", str(source))

    assert summary["sent"] == 20_000
    assert summary["requests"] == 20
    assert summary["quarantined"] == 0
    state = shop.server.inspect()
    assert state["events"]["by_metric"] == {METRIC: 20_000}
    assert state["events"]["duplicates_dropped"] == 0
    assert recorded_sequence(shop.server) == list(range(20_000))


def test_sending_the_same_file_again_records_nothing_new(shop: Shop, tmp_path: Path) -> None:
    source = write_events(tmp_path / "history.jsonl", 300)
    shop.data("backfill", "events", "--source", str(source))

    again = shop.data("backfill", "events", "--source", str(source))

    assert again["sent"] == 300
    state = shop.server.inspect()
    assert state["events"]["total"] == 300
    assert state["events"]["duplicates_dropped"] == 300


def test_bad_lines_are_quarantined_with_line_and_reason_and_exit_7(
    shop: Shop, tmp_path: Path
) -> None:
    lines: list[dict[str, object] | str] = [event_record(0), "{not json", event_record(2)]
    lines.append(event_record(3, email="not-an-email"))
    lines.append(event_record(4, time="1989-12-31T00:00:00Z"))
    lines.append(event_record(5, metric="x" * 200))
    lines.append(event_record(6, properties={"big": "y" * 110_000}))
    lines.append(event_record(7, colour="blue"))
    source = write_jsonl(tmp_path / "history.jsonl", lines)

    result = shop("--json", "backfill", "events", "--source", str(source))

    assert result.exit_code == 7
    assert result.stderr == ""
    summary = json.loads(result.stdout)["data"]
    assert (summary["sent"], summary["quarantined"]) == (2, 6)
    quarantine = Path(summary["quarantine_file"])
    entries = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert [entry["line"] for entry in entries] == [2, 4, 5, 6, 7, 8]
    reasons = " | ".join(entry["reason"] for entry in entries)
    for expected in ("not valid JSON", "not an email", "before 1990", "128", "100 KB", "colour"):
        assert expected in reasons
    assert shop.server.inspect()["events"]["total"] == 2


def test_a_csv_file_takes_extra_columns_as_properties(shop: Shop, tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "history.csv",
        ["email", "metric", "time", "value", "Program name", "properties"],
        [
            ["ann@example.com", METRIC, "2025-01-02", "12.5", "Reviews", '{"seq": 1}'],
            ["bob@example.com", METRIC, "2025-01-03T10:00:00+02:00", "", "Orders", '{"seq": 2}'],
            ["", METRIC, "2025-01-04", "", "Orders", '{"seq": 3}'],
        ],
    )

    result = shop("backfill", "events", "--source", str(source))

    assert result.exit_code == 7
    assert "1 record quarantined" in result.stderr
    assert recorded_sequence(shop.server) == [1, 2]


def test_dry_run_plans_and_sends_nothing(shop: Shop, tmp_path: Path) -> None:
    source = write_events(tmp_path / "history.jsonl", 2_500)

    plan = shop.data("backfill", "events", "--source", str(source), "--dry-run")

    assert (plan["events"], plan["requests"], plan["quarantined"]) == (2_500, 3, 0)
    assert plan["rate_limit"] == "10/s, 150/min"
    assert plan["estimated_seconds"] == 0.2
    assert shop.server.inspect()["requests"]["total"] == 0


def test_since_until_and_metric_select_events(shop: Shop, tmp_path: Path) -> None:
    records = [event_record(n, time=f"2025-0{1 + n % 3}-15T00:00:00Z") for n in range(30)]
    records += [event_record(100, metric="Joy: Redeem Points")]
    source = write_jsonl(tmp_path / "history.jsonl", records)

    summary = shop.data(
        "backfill", "events", "--source", str(source), "--since", "2025-02-01",
        "--until", "2025-02-28", "--metric", METRIC,
    )  # fmt: skip

    assert (summary["sent"], summary["skipped"]) == (10, 21)
    assert recorded_sequence(shop.server) == list(range(1, 30, 3))


def test_events_without_an_id_get_one_from_their_content(shop: Shop, tmp_path: Path) -> None:
    records = [{k: v for k, v in event_record(n).items() if k != "id"} for n in range(5)]
    source = write_jsonl(tmp_path / "history.jsonl", records)

    shop.data("backfill", "events", "--source", str(source))
    shop.data("backfill", "events", "--source", str(source))

    state = shop.server.inspect()["events"]
    assert (state["total"], state["duplicates_dropped"]) == (5, 5)


def test_events_over_five_megabytes_go_in_several_requests(
    make_shop: ShopFactory, tmp_path: Path
) -> None:
    shop = make_shop()
    big = "z" * 100_000  # at Klaviyo's per-string cap: about 50 fit in one 5 MB request
    source = write_events(tmp_path / "big.jsonl", 120, properties={"blob": big})

    summary = shop.data("backfill", "events", "--source", str(source))

    assert summary["sent"] == 120
    assert summary["requests"] == 3
    state = shop.server.inspect()
    assert state["requests"]["by_status"] == {"202": 3}
    assert state["events"]["total"] == 120


def test_live_flows_leaves_out_the_backfill_flag(shop: Shop, tmp_path: Path) -> None:
    source = write_events(tmp_path / "history.jsonl", 3)

    summary = shop.data("backfill", "events", "--source", str(source), "--live-flows")

    assert summary["live_flows"] is True
    assert shop.server.inspect()["events"]["total"] == 3


def test_resume_refuses_new_options_and_unknown_runs(shop: Shop, tmp_path: Path) -> None:
    mixed = shop("backfill", "events", "--resume", "events-x", "--since", "2025-01-01")
    assert mixed.exit_code == 2
    assert "drop --since" in mixed.stderr

    unknown = shop("backfill", "events", "--resume", "events-x")
    assert unknown.exit_code == 2
    assert "joyctl --profile shop backfill status" in unknown.stderr


def test_a_completed_run_cannot_be_resumed(shop: Shop, tmp_path: Path) -> None:
    source = write_events(tmp_path / "history.jsonl", 10)
    run_id = shop.data("backfill", "events", "--source", str(source))["run_id"]

    again = shop("backfill", "events", "--resume", run_id)

    assert again.exit_code == 2
    assert "completed already" in again.stderr
    status = shop.data("backfill", "status", run_id)
    assert (status["status"], status["counters"]["sent"]) == ("completed", 10)
    assert status["resume_command"] is None


def test_bad_options_say_what_to_do(shop: Shop, tmp_path: Path) -> None:
    missing = shop("backfill", "events", "--source", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr

    unknown_format = write_events(tmp_path / "history.txt", 1)
    guessed = shop("backfill", "events", "--source", str(unknown_format))
    assert guessed.exit_code == 2
    assert "--format" in guessed.stderr

    bad_date = shop("backfill", "events", "--since", "yesterday")
    assert bad_date.exit_code == 2
    assert "ISO 8601" in bad_date.stderr

    too_big = shop("backfill", "events", "--batch-size", "5000")
    assert too_big.exit_code == 2


def test_resuming_on_a_changed_file_is_refused_and_the_run_kept(
    shop: Shop, tmp_path: Path, isolated_home: Path
) -> None:
    source = write_events(tmp_path / "history.jsonl", 20)
    run_id = shop.data("backfill", "events", "--source", str(source), "--batch-size", "5")["run_id"]
    with closing(sqlite3.connect(shop.ledger_file(isolated_home))) as connection:
        connection.execute("UPDATE runs SET status = 'interrupted' WHERE id = ?", (run_id,))
        connection.commit()
    write_events(source, 20, metric="Joy: Redeem Points")

    result = shop("backfill", "events", "--resume", run_id)

    assert result.exit_code == 3
    assert "not the file this run started on" in result.stderr
    assert shop.data("backfill", "status", run_id)["status"] == "interrupted"


def test_status_of_an_unknown_run_says_where_to_look(shop: Shop) -> None:
    result = shop("backfill", "status", "events-nope")
    assert result.exit_code == 2
    assert "no backfill run 'events-nope'" in result.stderr
    assert shop.data("backfill", "status") == []
