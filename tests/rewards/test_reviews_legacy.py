"""Issue 5's must-show on the built-in sandbox: the legacy-permissions store, reconnected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import Cli

SANDBOX = ("--profile", "sandbox")


def _data(cli: Cli, *args: str) -> Any:
    result = cli("--json", *SANDBOX, *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["data"]


def test_replay_after_reconnect_awards_eligible_and_rejects_short_and_duplicates(
    cli: Cli,
) -> None:
    assert cli(*SANDBOX, "connect").exit_code == 0
    first = _data(cli, "reviews", "replay")
    assert first["reviews"] == 36
    assert first["awarded"] > 0
    assert first["rejected"]["TOO_SHORT"] == 4
    assert first["rejected"]["DUPLICATE_CONTENT"] >= 2
    assert first["rejected"]["NOT_PUBLISHED"] == 1
    second = _data(cli, "reviews", "replay")
    assert second["awarded"] == 0
    assert second["unchanged"] == 36
    short = _data(cli, "reviews", "list", "--outcome", "reject", "--limit", "100")
    reasons = {row["reason"] for row in short}
    assert {"TOO_SHORT", "DUPLICATE_CONTENT"} <= reasons


def test_simulate_shows_too_short_and_award(cli: Cli) -> None:
    assert cli(*SANDBOX, "connect").exit_code == 0
    customer = "ava.martinez@example.com"
    short = _data(cli, "reviews", "simulate", "--email", customer, "--content", "ok")
    assert short["decisions"][0]["reason"] == "TOO_SHORT"
    assert short["decisions"][0]["rule_values"]["min_characters"] == 20
    long = _data(
        cli,
        "reviews",
        "simulate",
        "--email",
        customer,
        "--product",
        "a-new-product",
        "--content",
        "A wonderful, fragrant blend that I now brew every single morning.",
    )
    assert (long["decisions"][0]["outcome"], long["decisions"][0]["points"]) == ("award", 50)
    assert long["summary"]["committed"] is False


def test_two_replays_at_once_award_each_review_once(cli: Cli, isolated_home: Path) -> None:
    assert cli(*SANDBOX, "connect").exit_code == 0
    command = [sys.executable, "-m", "joyctl", "--json", *SANDBOX, "reviews", "replay"]
    env = {**os.environ, "JOYCTL_HOME": str(isolated_home)}
    workers = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], results
    awarded = sum(json.loads(out)["data"]["awarded"] for out, _ in results)
    entries = _data(cli, "reviews", "list", "--outcome", "award", "--limit", "100")
    assert awarded == len(entries) > 0
    verify = cli(*SANDBOX, "ledger", "verify")
    assert verify.exit_code == 0
