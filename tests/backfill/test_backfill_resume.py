"""A backfill killed half-way (kill -9, in another process) and resumed ends as if never stopped.

The sandbox adds latency so the run lasts a few seconds; the test watches the run's checkpoint
in the ledger, as `backfill status` would, and kills the process once a good part was sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.backfill.conftest import ShopFactory
from tests.backfill.support import Shop, recorded_sequence, runs_table, write_events

EVENTS = 20_000
BATCH = 500  # 40 requests: several checkpoints before the kill, several after
KILL_AFTER = 6_000
FAULTS = "5xx=0.08,429=0.04,drop=0.04,drop_after=0.04"


def start_backfill(shop: Shop, source: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "joyctl", "-p", "shop", "backfill", "events",
               "--source", str(source), "--batch-size", str(BATCH)]  # fmt: skip
    return subprocess.Popen(
        command,
        env={**os.environ, **shop.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_half_way(process: subprocess.Popen[bytes], ledger: Path) -> str:
    """SIGKILL once the checkpoint shows KILL_AFTER events sent; returns the run id."""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            runs = runs_table(ledger)
            if runs and runs[-1]["counters"].get("sent", 0) >= KILL_AFTER:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                return str(runs[-1]["id"])
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.02)
        raise AssertionError("the run never got half-way")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def resume_and_check(shop: Shop, run_id: str, home: Path) -> None:
    before = shop.data("backfill", "status", run_id)
    assert before["status"] == "stopped"
    assert before["resume_command"] == f"joyctl --profile shop backfill events --resume {run_id}"
    sent_before = before["counters"]["sent"]
    assert KILL_AFTER <= sent_before < EVENTS

    summary = shop.data("backfill", "events", "--resume", run_id)

    assert summary["already_sent"] == sent_before
    assert summary["sent"] == EVENTS - sent_before
    state = shop.server.inspect()
    assert state["events"]["total"] == EVENTS
    assert recorded_sequence(shop.server) == list(range(EVENTS))
    after = shop.data("backfill", "status", run_id)
    assert (after["status"], after["counters"]["sent"]) == ("completed", EVENTS)


@pytest.mark.slow
def test_a_run_killed_half_way_resumes_with_nothing_lost_or_twice(
    make_shop: ShopFactory, tmp_path: Path, isolated_home: Path
) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=40ms", seed=1)
    source = write_events(tmp_path / "history.jsonl", EVENTS)
    run_id = kill_half_way(start_backfill(shop, source), shop.ledger_file(isolated_home))

    resume_and_check(shop, run_id, isolated_home)
    # Only requests accepted after the last checkpoint can arrive twice: at most those in flight.
    assert shop.server.inspect()["events"]["duplicates_dropped"] <= 3 * BATCH


@pytest.mark.slow
def test_with_server_errors_throttling_and_dropped_connections_too(
    make_shop: ShopFactory, tmp_path: Path, isolated_home: Path
) -> None:
    shop = make_shop(rate_limits="x50", faults=f"{FAULTS},latency=40ms", seed=7)
    source = write_events(tmp_path / "history.jsonl", EVENTS)
    run_id = kill_half_way(start_backfill(shop, source), shop.ledger_file(isolated_home))

    resume_and_check(shop, run_id, isolated_home)
    state = shop.server.inspect()
    assert len(state["faults"]["by_kind"]) >= 2, state["faults"]


def test_a_run_stopped_by_sigterm_is_saved_as_interrupted_and_resumable(
    make_shop: ShopFactory, tmp_path: Path, isolated_home: Path
) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=40ms", seed=3)
    source = write_events(tmp_path / "history.jsonl", 5_000)
    command = [sys.executable, "-m", "joyctl", "-p", "shop", "backfill", "events",
               "--source", str(source), "--batch-size", "250"]  # fmt: skip
    process = subprocess.Popen(
        command, env={**os.environ, **shop.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    ledger = shop.ledger_file(isolated_home)
    while not (runs_table(ledger) and runs_table(ledger)[-1]["counters"].get("sent")):
        assert process.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)  # as Ctrl-C (SIGINT) does
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    run = runs_table(ledger)[-1]
    assert run["status"] == "interrupted"
    assert f"--resume {run['id']}" in stderr.decode()
    summary = shop.data("backfill", "events", "--resume", str(run["id"]))
    assert summary["sent"] + summary["already_sent"] == 5_000
    assert recorded_sequence(shop.server) == list(range(5_000))
