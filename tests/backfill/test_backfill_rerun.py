"""Running a stopped backfill's command again continues it, as `audiences sync` does.

The reference case is a run killed with SIGKILL half-way, in another process: the same command
line, run again, continues the run (and says so) instead of starting over from line 1, sends at
most what was in flight at the kill a second time, and its summary adds up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from joyctl.commands.backfill import _shared
from joyctl.klaviyo.bulk.sender import DEFAULT_IN_FLIGHT
from tests.backfill.conftest import ShopFactory
from tests.backfill.support import Shop, recorded_sequence, runs_table, write_events
from tests.backfill.test_backfill_resume import kill_half_way

EVENTS = 12_000
BATCH = 500
KILL_AFTER = 4_000


def _command(source: Path) -> list[str]:
    return ["backfill", "events", "--source", str(source), "--batch-size", str(BATCH)]


def _start(shop: Shop, source: Path) -> subprocess.Popen[bytes]:
    line = [sys.executable, "-m", "joyctl", "-p", "shop", *_command(source)]
    env = {**os.environ, **shop.env}
    return subprocess.Popen(line, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_the_same_command_after_a_kill_continues_the_run(
    make_shop: ShopFactory, tmp_path: Path, isolated_home: Path
) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=40ms", seed=5)
    source = write_events(tmp_path / "history.jsonl", EVENTS)
    ledger = shop.ledger_file(isolated_home)
    run_id = kill_half_way(_start(shop, source), ledger)
    sent_before = runs_table(ledger)[-1]["counters"]["sent"]

    again = shop(*_command(source))

    assert again.exit_code == 0, again.stderr
    assert f"continuing run {run_id}" in again.stderr
    assert "--restart" in again.stderr
    assert len(runs_table(ledger)) == 1  # no second run
    summary = shop.data("backfill", "status", run_id)
    assert (summary["status"], summary["counters"]["sent"]) == ("completed", EVENTS)
    assert recorded_sequence(shop.server) == list(range(EVENTS))
    # Only requests Klaviyo accepted after the last checkpoint go twice: those in flight.
    assert shop.server.inspect()["events"]["duplicates_dropped"] <= DEFAULT_IN_FLIGHT * BATCH
    # The summary adds up: what this run sent, and what the killed one had sent.
    fields = dict(line.split(None, 1) for line in again.stdout.splitlines() if "  " in line)
    assert fields["run"].startswith(f"{run_id} (continued)")
    assert fields["sent"].startswith(f"{EVENTS - sent_before:,} events")
    assert again.stdout.count(f"{sent_before:,}") >= 1


def _interrupted_run(shop: Shop, source: Path, ledger: Path) -> str:
    """A run stopped by SIGTERM after its first checkpoint; its id."""
    line = [sys.executable, "-m", "joyctl", "-p", "shop", *_command(source)]
    process = subprocess.Popen(
        line, env={**os.environ, **shop.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    while not (runs_table(ledger) and runs_table(ledger)[-1]["counters"].get("sent")):
        assert process.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 130
    return str(runs_table(ledger)[-1]["id"])


def test_progress_line_and_summary_agree_on_a_continued_run(
    make_shop: ShopFactory, tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=40ms", seed=2)
    source = write_events(tmp_path / "history.jsonl", 5_000)
    ledger = shop.ledger_file(isolated_home)
    run_id = _interrupted_run(shop, source, ledger)
    monkeypatch.setattr(_shared, "PLAIN_EVERY_SECONDS", 0.0)  # a plain line per checkpoint

    again = shop("--json", *_command(source))

    assert again.exit_code == 0, again.stderr
    summary = json.loads(again.stdout)["data"]
    assert (summary["run_id"], summary["continued"]) == (run_id, True)
    assert summary["sent"] + summary["already_sent"] == 5_000
    assert recorded_sequence(shop.server) == list(range(5_000))


def test_the_last_progress_line_shows_the_summary_numbers(
    make_shop: ShopFactory, tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=40ms", seed=4)
    source = write_events(tmp_path / "history.jsonl", 5_000)
    _interrupted_run(shop, source, shop.ledger_file(isolated_home))
    monkeypatch.setattr(_shared, "PLAIN_EVERY_SECONDS", 0.0)

    again = shop(*_command(source))

    assert again.exit_code == 0, again.stderr
    last = [line for line in again.stderr.splitlines() if line.startswith("backfill events:")][-1]
    fields = dict(line.split(None, 1) for line in again.stdout.splitlines())
    sent = fields["sent"].split(" events")[0]
    already = fields["already"].split()[-1]  # "already sent  N"
    assert f"{sent} sent, {already} already sent" in last


def test_restart_starts_a_new_run_and_the_stopped_one_stays(
    make_shop: ShopFactory, tmp_path: Path, isolated_home: Path
) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=40ms", seed=6)
    source = write_events(tmp_path / "history.jsonl", 3_000)
    ledger = shop.ledger_file(isolated_home)
    stopped = _interrupted_run(shop, source, ledger)

    fresh = shop.data(*_command(source), "--restart")

    assert fresh["run_id"] != stopped and fresh["continued"] is False
    assert fresh["sent"] == 3_000
    assert shop.data("backfill", "status", stopped)["status"] == "interrupted"


def test_other_arguments_or_a_changed_file_start_a_new_run(
    make_shop: ShopFactory, tmp_path: Path, isolated_home: Path
) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=40ms", seed=8)
    source = write_events(tmp_path / "history.jsonl", 3_000)
    ledger = shop.ledger_file(isolated_home)
    stopped = _interrupted_run(shop, source, ledger)

    other = shop.data(*_command(source), "--since", "2025-01-01")
    assert other["run_id"] != stopped and other["continued"] is False

    write_events(source, 3_000, customers=7)  # a different file under the same name
    changed = shop.data(*_command(source))
    assert changed["run_id"] != stopped and changed["continued"] is False


def test_the_dry_run_plans_the_rest_of_the_stopped_run(
    make_shop: ShopFactory, tmp_path: Path, isolated_home: Path
) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=40ms", seed=9)
    source = write_events(tmp_path / "history.jsonl", 3_000)
    stopped = _interrupted_run(shop, source, shop.ledger_file(isolated_home))

    plan = shop.data(*_command(source), "--dry-run")

    assert plan["run_id"] == stopped
    sent = shop.data("backfill", "status", stopped)["counters"]["sent"]
    assert plan["events"] == 3_000 - sent


def test_a_completed_run_is_not_continued(shop: Shop, tmp_path: Path) -> None:
    source = write_events(tmp_path / "history.jsonl", 50)
    first = shop.data("backfill", "events", "--source", str(source))
    second = shop.data("backfill", "events", "--source", str(source))
    assert second["run_id"] != first["run_id"] and second["continued"] is False


def test_profiles_rerun_continues_the_stopped_run(shop: Shop, isolated_home: Path) -> None:
    import sqlite3
    from contextlib import closing

    assert shop("ledger", "import", _customers(isolated_home)).exit_code == 0
    started = shop.data("backfill", "profiles")
    ledger = shop.ledger_file(isolated_home)
    with closing(sqlite3.connect(ledger)) as connection:  # as a kill would leave it
        connection.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = NULL WHERE id = ?",
            (started["run_id"],),
        )
        connection.commit()

    again = shop("--json", "backfill", "profiles")

    assert again.exit_code == 0, again.stderr
    summary = json.loads(again.stdout)["data"]
    assert (summary["run_id"], summary["continued"]) == (started["run_id"], True)
    assert summary["profiles"] == 0 and summary["already_submitted"] == started["profiles"]


def _customers(home: Path) -> str:
    path = home.parent / "customers.csv"
    rows = ["email,points"] + [f"c{n}@example.com,{n}" for n in range(25)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)
