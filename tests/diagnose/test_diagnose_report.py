"""Diagnose for humans: the whole repair, a ticket-ready markdown report, a careful bundle, and
`skip` (with the reason) wherever a check cannot know."""

from __future__ import annotations

import io
import json
import stat
import tarfile
from pathlib import Path
from typing import Any

from joyctl import __version__
from tests.conftest import Cli

REPAIR = [
    "joyctl connect",
    "joyctl webhooks create --endpoint http://127.0.0.1:8780/klaviyo/webhooks",
    "joyctl reviews replay --since 2",
    "joyctl reviews replay --push",
]


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in report["checks"]}


def test_the_table_ends_with_every_step_of_the_repair_and_names_fix(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "diagnose")

    assert result.exit_code == 6
    tail = result.stdout.split("skipped\n", 1)[1]
    assert "diagnose --fix" in tail
    steps = [
        line.strip() for line in tail.splitlines() if line.strip()[:2] in ("1.", "2.", "3.", "4.")
    ]
    assert [step[3:][: len(prefix)] for step, prefix in zip(steps, REPAIR, strict=True)] == REPAIR


def test_a_healthy_report_has_no_repair(cli: Cli) -> None:
    assert cli("--profile", "sandbox", "diagnose", "--fix", "--yes").exit_code == 0
    result = cli("--profile", "sandbox", "diagnose")
    assert result.exit_code == 0
    assert "To repair" not in result.stdout
    report = json.loads(cli("--json", "--profile", "sandbox", "diagnose").stdout)["data"]
    assert report["repair"] == []


def test_json_carries_the_version_and_the_repair(cli: Cli) -> None:
    report = json.loads(cli("--json", "--profile", "sandbox", "diagnose").stdout)["data"]
    assert report["joyctl_version"] == __version__
    assert [step["id"] for step in report["repair"]] == ["reconnect", "webhook", "replay", "push"]
    scopes = _checks(report)["review_scopes"]
    assert scopes["fix"] == "joyctl connect"
    assert "approve every requested permission" in scopes["advice"]


def test_markdown_is_ready_for_a_ticket(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "diagnose", "--format", "markdown")

    text = result.stdout
    assert f"- joyctl {__version__}, report joyctl.diagnose/1" in text
    assert "- profile: `sandbox`" in text
    assert "- account: `" in text and "`None`" not in text
    assert "| FAIL | `review_scopes` |" in text  # check ids, in code spans
    # The command is a code span and the advice is prose beside it, not inside it.
    assert "`joyctl connect`<br>approve every requested permission" in text
    assert "`joyctl connect (" not in text
    assert "1. `joyctl connect`" in text and "4. `joyctl reviews replay --push`" in text


def test_markdown_says_not_connected_without_an_account(cli: Cli) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    text = cli("--profile", "shop", "diagnose", "--format", "markdown").stdout
    assert "- account: not connected" in text
    assert "None" not in text


def test_a_check_that_cannot_know_says_skip_with_the_reason(cli: Cli) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    report = json.loads(cli("--json", "--profile", "shop", "diagnose").stdout)["data"]
    checks = _checks(report)
    scopes = checks["review_scopes"]
    assert scopes["status"] == "skip"
    assert scopes["evidence"] == ["not connected: there is no grant to check"]
    silent = [c["id"] for c in report["checks"] if c["status"] == "pass" and not c["evidence"]]
    assert silent == []


def test_unreachable_klaviyo_with_a_key_skips_the_scope_check(cli: Cli) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    env = {"JOYCTL_KLAVIYO_API_KEY": "pk_" + "x" * 30}
    result = cli("--json", "--profile", "shop", "diagnose", env=env)
    scopes = _checks(json.loads(result.stdout)["data"])["review_scopes"]
    assert scopes["status"] == "skip"
    assert "could not be reached" in scopes["evidence"][0]


def test_the_bundle_records_versions_and_is_private(cli: Cli, tmp_path: Path) -> None:
    bundle = tmp_path / "ticket.tar.gz"

    result = cli("--profile", "sandbox", "diagnose", "--bundle", str(bundle))

    assert result.exit_code == 6
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o600
    with tarfile.open(bundle) as archive:
        member = archive.extractfile("joyctl-diagnose/versions.json")
        assert member is not None
        versions = json.load(io.TextIOWrapper(member, encoding="utf-8"))
    assert versions["joyctl"] == __version__
    assert {"python", "platform", "sqlite", "ledger_schema", "klaviyo_revision"} <= set(versions)


def test_the_bundle_refuses_a_missing_folder_and_an_existing_file(cli: Cli, tmp_path: Path) -> None:
    missing = cli("--profile", "sandbox", "diagnose", "--bundle", str(tmp_path / "no" / "t.tgz"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr
    assert not (tmp_path / "no").exists()

    existing = tmp_path / "ticket.tar.gz"
    existing.write_text("keep me", encoding="utf-8")
    refused = cli("--profile", "sandbox", "diagnose", "--bundle", str(existing))
    assert refused.exit_code == 2
    assert "--force" in refused.stderr
    assert existing.read_text(encoding="utf-8") == "keep me"

    forced = cli("--profile", "sandbox", "diagnose", "--bundle", str(existing), "--force")
    assert forced.exit_code == 6
    assert tarfile.is_tarfile(existing)
