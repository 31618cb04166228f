"""What people read: plain words for where secrets live, granted scopes in the status table,
counts as people write them, confirmations that say what did not happen, warnings for partial
successes, and `sandbox reset` asking first."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.terminal import Terminal

CLASS_PATH = ("joyctl.services", "credential_store", "EmulatorSecretsFile", "MemoryKeyring")


def test_status_shows_granted_scopes_in_plain_words(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "status")

    assert result.exit_code == 4  # the legacy grant lacks the review scopes
    assert not any(name in result.stdout for name in CLASS_PATH)
    fields = dict(line.split(None, 1) for line in result.stdout.splitlines()[:9] if line)
    assert fields["credential"].startswith("OAuth grant from the sandbox profile's data folder")
    assert fields["scopes"].startswith("8 granted: accounts:read")
    header, *rows = result.stdout.split("\n\n", 1)[1].splitlines()
    assert header.split("\t") == ["FEATURE", "REQUIRED", "ACCESS", "GRANTED", "MISSING"]
    table = {row.split("\t")[0]: row.split("\t") for row in rows}
    assert table["events"][3] == "events:write events:read metrics:read"
    assert table["review_rewards"][3:] == ["-", "reviews:read webhooks:read webhooks:write"]


def test_connect_says_where_the_secret_went_in_plain_words(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "connect")
    assert result.exit_code == 0, result.stderr
    assert "stored in the sandbox profile's data folder" in result.stderr
    assert not any(name in result.stderr for name in CLASS_PATH)


def test_a_missing_confirmation_says_what_was_not_done(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "webhooks", "delete", "01ABC")
    assert result.exit_code == 2
    assert "error: will not delete webhook 01ABC without confirmation" in result.stderr
    assert "?" not in result.stderr.splitlines()[0]
    assert "pass --yes" in result.stderr


def test_a_partial_import_is_a_warning_naming_the_file_with_counts_people_read(
    cli: Cli, tmp_path: Path
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("email,points\nann@example.com,1234567\nbroken,5\n", encoding="utf-8")

    result = cli("--profile", "sandbox", "ledger", "import", str(customers))

    assert result.exit_code == 7
    assert "warning: 1 record quarantined" in result.stderr
    assert "error:" not in result.stderr
    assert f"import {customers} again" in result.stderr
    assert " FILE " not in result.stderr
    assert "(1,234,567 points)" in result.stderr


def test_the_export_summary_separates_thousands(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "ledger", "export")
    assert result.exit_code == 0
    points = result.stderr.split("(", 1)[1].split(" points)")[0]
    assert "," in points and points.replace(",", "").isdigit()


def test_one_pending_review_is_one_review(cli: Cli) -> None:
    assert cli("--profile", "sandbox", "diagnose", "--fix", "--yes").exit_code == 0
    report = json.loads(cli("--json", "--profile", "sandbox", "diagnose").stdout)["data"]
    [pending] = [check for check in report["checks"] if check["id"] == "pending_reviews"]
    assert pending["evidence"] == ["1 review is pending in Klaviyo; points arrive once published"]


def test_sandbox_reset_asks_at_a_terminal(isolated_home: Path) -> None:
    env = dict(os.environ)
    no = Terminal(["sandbox", "reset", "--scenario", "healthy"], env)
    no.read_until(r"Wipe the sandbox profile's ledger, connection and secrets .*\[y/N\]")
    no.send("n\r")
    assert no.finish() == 2
    assert "nothing was changed" in no.text

    yes = Terminal(["sandbox", "reset", "--scenario", "healthy"], env)
    yes.read_until(r"\[y/N\]")
    yes.send("y\r")
    assert yes.finish() == 0
    assert "sandbox reset to healthy" in yes.text


@pytest.mark.parametrize("flag", ["--yes", "-y"])
def test_sandbox_reset_takes_yes_without_a_terminal(cli: Cli, flag: str) -> None:
    result = cli("sandbox", "reset", "--scenario", "healthy", flag)
    assert result.exit_code == 0
    assert "sandbox reset to healthy: 30 customers" in result.stderr
