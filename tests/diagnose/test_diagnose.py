"""`joyctl diagnose` on the embedded sandbox: each failing check from a scenario or a change."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

from joyctl.config_file import read_config, write_config
from tests.conftest import Cli


def _report(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("--json", "--profile", "sandbox", "diagnose", *args)
    assert result.stderr == ""
    return result.exit_code, json.loads(result.stdout)["data"]


def _status(report: dict[str, Any]) -> dict[str, str]:
    return {check["id"]: check["status"] for check in report["checks"]}


def _check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    return next(check for check in report["checks"] if check["id"] == check_id)


def test_legacy_permissions_fail_with_evidence_and_fix(cli: Cli) -> None:
    code, report = _report(cli)
    assert code == 6
    assert report["schema_version"] == "joyctl.diagnose/1"
    scopes = _check(report, "review_scopes")
    assert scopes["status"] == "fail"
    evidence = " ".join(scopes["evidence"])
    assert "missing: reviews:read webhooks:read webhooks:write" in evidence
    assert "403 on GET /api/webhooks" in evidence
    assert scopes["fix"].startswith("joyctl connect")
    assert _status(report)["authentication"] == "pass"


def test_human_output_lists_fixes_and_exits_6(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "diagnose")
    assert result.exit_code == 6
    assert "FAIL  review_scopes" in result.stdout
    assert "fix: joyctl connect" in result.stdout


def test_markdown_is_a_table_for_tickets(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "diagnose", "--format", "markdown")
    assert result.exit_code == 6
    assert "| status | check | what is checked | evidence | fix |" in result.stdout
    assert "| FAIL | `review_scopes` | The grant has the scopes review rewards need |" in (
        result.stdout
    )


def test_no_credentials_exits_4(cli: Cli) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    result = cli("--json", "--profile", "shop", "diagnose")
    assert result.exit_code == 4
    report = json.loads(result.stdout)["data"]
    assert _status(report)["credentials"] == "fail"
    assert _check(report, "credentials")["fix"]


def test_healthy_store_without_webhook_or_replay(cli: Cli) -> None:
    assert cli("sandbox", "reset", "--scenario", "healthy", "--yes").exit_code == 0
    code, report = _report(cli)
    assert code == 6
    status = _status(report)
    assert status["review_scopes"] == "pass"
    assert status["reviews_enabled"] == "pass"
    assert status["review_webhook"] == "fail"
    missed = _check(report, "missed_reviews")
    assert missed["status"] == "fail"
    assert "not rewarded" in missed["evidence"][0]
    assert missed["fix"].startswith("joyctl reviews replay --since ")
    assert cli("--profile", "sandbox", "reviews", "replay").exit_code == 0
    _, after = _report(cli)
    assert _status(after)["missed_reviews"] == "pass"
    assert _status(after)["outbox"] == "warn"  # the awards wait to be sent


def test_reviews_disabled(cli: Cli) -> None:
    assert cli("sandbox", "reset", "--scenario", "reviews-disabled", "--yes").exit_code == 0
    code, report = _report(cli)
    assert code == 6
    assert _status(report)["reviews_enabled"] == "fail"


def test_program_turned_off(cli: Cli) -> None:
    assert cli("--profile", "sandbox", "program", "set", "enabled", "false").exit_code == 0
    _, report = _report(cli)
    assert _status(report)["program"] == "fail"
    assert _check(report, "program")["fix"] == "joyctl program set enabled true"


def test_account_mismatch(cli: Cli, isolated_home: Path) -> None:
    _report(cli)  # seeds the profile
    config = isolated_home / "config" / "config.toml"
    data = read_config(config)
    data["profiles"]["sandbox"]["connection"]["account_id"] = "OTHER1"
    write_config(config, data)
    _, report = _report(cli)
    account = _check(report, "account")
    assert account["status"] == "fail"
    assert "recorded OTHER1" in account["evidence"][0]


def test_broken_ledger_fails_integrity(cli: Cli, isolated_home: Path) -> None:
    _report(cli)
    path = isolated_home / "data/profiles/sandbox/ledger.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute(
        "INSERT INTO point_entries (customer_id, kind, delta, balance_after, idempotency_key,"
        " created_at) VALUES (1, 'earn', 10, 999999, 'forged', 'now')"
    )
    connection.commit()
    connection.close()
    _, report = _report(cli)
    assert _status(report)["ledger"] == "fail"


def test_focus_on_email_and_review(cli: Cli) -> None:
    assert cli("sandbox", "reset", "--scenario", "healthy", "--yes").exit_code == 0
    assert cli("--profile", "sandbox", "reviews", "replay").exit_code == 0
    listed = json.loads(cli("--json", "--profile", "sandbox", "reviews", "list").stdout)["data"]
    review = listed[0]
    _, report = _report(cli, "--email", review["email"], "--review", review["review_id"])
    subjects = {focus["subject"]: focus["findings"] for focus in report["focus"]}
    assert any("balance" in line for line in subjects[review["email"]])
    assert "awarded 50 points" in subjects[f"review {review['review_id']}"]
    _, stranger = _report(cli, "--email", "nobody@example.com")
    assert "not a loyalty member" in stranger["focus"][0]["findings"][0]


def test_bundle_holds_no_secret(cli: Cli, isolated_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "ticket.tar.gz"
    result = cli("--profile", "sandbox", "diagnose", "--bundle", str(target))
    assert result.exit_code == 6
    secrets_file = isolated_home / "data/profiles/sandbox/emulator-secrets.json"
    stored = json.loads(secrets_file.read_text(encoding="utf-8"))
    tokens = json.loads(next(iter(stored.values())))
    secrets = [tokens["access_token"], tokens["refresh_token"]]
    with tarfile.open(target) as archive:
        names = archive.getnames()
        text = ""
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            assert handle is not None
            text += io.TextIOWrapper(handle, encoding="utf-8").read()
    assert "joyctl-diagnose/report.json" in names
    assert all(secret not in text for secret in secrets)
    assert '"review_scopes"' in text


def test_fix_without_a_terminal_prints_the_plan_and_exits_6(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "diagnose", "--fix")
    assert result.exit_code == 6
    assert "--fix would take these steps" in result.stdout
    assert "  1. joyctl connect" in result.stdout
    assert (
        "joyctl webhooks create --endpoint http://127.0.0.1:8780/klaviyo/webhooks" in result.stdout
    )


def test_fix_yes_repairs_the_legacy_store_end_to_end(cli: Cli, isolated_home: Path) -> None:
    result = cli("--json", "--profile", "sandbox", "diagnose", "--fix", "--yes")
    assert result.exit_code == 0, result.stdout
    fixed = json.loads(result.stdout)["data"]
    assert [step["status"] for step in fixed["steps"]] == ["done"] * 4
    after = {check["id"]: check["status"] for check in fixed["after"]["checks"]}
    assert "fail" not in after.values()
    assert after["missed_reviews"] == "pass" and after["outbox"] == "pass"
    # The customers with eligible reviews have their points ...
    awarded = json.loads(
        cli(
            "--json",
            "--profile",
            "sandbox",
            "reviews",
            "list",
            "--outcome",
            "award",
            "--limit",
            "100",
        ).stdout
    )["data"]
    assert len(awarded) == 24
    balance = json.loads(
        cli("--json", "--profile", "sandbox", "ledger", "balance", awarded[0]["email"]).stdout
    )["data"]["balance"]
    # ... and the emulator has their events and updated profile properties.
    state = json.loads(
        (isolated_home / "data/profiles/sandbox/sandbox-state.json").read_text(encoding="utf-8")
    )
    earn_events = [
        event
        for event in state["events"].values()
        if state["metrics"][event["metric_id"]]["name"] == "Joy: Earn Point"
    ]
    assert len(earn_events) == 24
    profile = next(p for p in state["profiles"].values() if p["email"] == awarded[0]["email"])
    assert profile["properties"]["Joy Loyalty Points"] == balance


def test_forged_deliveries_fail_the_signature_check(cli: Cli, isolated_home: Path) -> None:
    from joyctl.ledger.db import open_ledger
    from joyctl.ledger.deliveries import (
        NewDelivery,
        RejectReason,
        Verdict,
        record_verdict,
        store_delivery,
    )

    _report(cli)  # seeds the profile
    connection = open_ledger(isolated_home / "data/profiles/sandbox/ledger.sqlite3")
    body = b'{"data": [], "meta": {}}'
    stored = store_delivery(
        connection, NewDelivery("2026-11-01T00:00:00+00:00", "01HOOK", {}, body, len(body))
    )
    record_verdict(
        connection,
        stored,
        Verdict(verdict="rejected", status_code=401, reason=RejectReason.BAD_SIGNATURE),
    )
    connection.close()
    _, report = _report(cli)
    signatures = _check(report, "signatures")
    assert signatures["status"] == "fail"
    assert "1 of 1 deliveries failed verification" in signatures["evidence"][0]


def test_after_the_fix_deliveries_still_need_a_listener(cli: Cli) -> None:
    assert cli("--profile", "sandbox", "diagnose", "--fix", "--yes").exit_code == 0
    _, report = _report(cli)
    deliveries = _check(report, "deliveries")
    assert deliveries["status"] == "warn"
    assert "last delivery received: never" in deliveries["evidence"]


def test_a_mapped_list_deleted_in_klaviyo_fails(cli: Cli, isolated_home: Path) -> None:
    sandbox = ("--profile", "sandbox")
    assert cli(*sandbox, "audiences", "create", "gold", "--tier", "Gold").exit_code == 0
    mapped = cli(
        "--json", *sandbox, "audiences", "map", "gold", "--list-name", "Joy Gold", "--create-list"
    )
    list_id = json.loads(mapped.stdout)["data"]["list_id"]
    _, report = _report(cli)
    assert _status(report)["audience_lists"] == "pass"
    state_file = isolated_home / "data/profiles/sandbox/sandbox-state.json"
    state = json.loads(state_file.read_text(encoding="utf-8"))
    del state["lists"][list_id]  # deleted in Klaviyo while joyctl was not looking
    state_file.write_text(json.dumps(state), encoding="utf-8")
    _, report = _report(cli)
    lists = _check(report, "audience_lists")
    assert lists["status"] == "fail"
    assert f"list {list_id} no longer exists" in lists["evidence"][0]
    assert lists["fix"].startswith("joyctl audiences map gold")


def test_revoked_grant_cannot_authenticate_and_exits_4(cli: Cli, isolated_home: Path) -> None:
    _report(cli)
    secrets_file = isolated_home / "data/profiles/sandbox/emulator-secrets.json"
    stored = json.loads(secrets_file.read_text(encoding="utf-8"))
    for key, value in stored.items():
        tokens = json.loads(value)
        tokens["access_token"], tokens["refresh_token"] = "revoked-access", "revoked-refresh"
        stored[key] = json.dumps(tokens)
    secrets_file.write_text(json.dumps(stored), encoding="utf-8")
    code, report = _report(cli)
    assert code == 4
    authentication = _check(report, "authentication")
    assert authentication["status"] == "fail"
    assert "joyctl connect" in (authentication["fix"] or "")


def test_profile_drift_after_a_local_adjustment(cli: Cli) -> None:
    assert cli("--profile", "sandbox", "diagnose", "--fix", "--yes").exit_code == 0
    listed = json.loads(
        cli("--json", "--profile", "sandbox", "reviews", "list", "--outcome", "award").stdout
    )["data"]
    email = listed[0]["email"]
    adjust = cli("--profile", "sandbox", "ledger", "adjust", email, "7", "--reason", "goodwill")
    assert adjust.exit_code == 0
    _, report = _report(cli)
    drift = _check(report, "profile_drift")
    assert drift["status"] == "warn"
    assert any(email in line for line in drift["evidence"])
    assert drift["fix"] == "joyctl backfill profiles"


def test_an_unreachable_klaviyo_exits_5_not_4() -> None:
    from joyctl.services.diagnose.model import DiagnoseReport, failed, passed, summarize
    from joyctl.services.diagnose.run import exit_code_for

    checks = [
        passed("credentials", "Credentials are found", "API key from the environment"),
        failed("authentication", "Klaviyo accepts the credentials", ["connection failed"], "-"),
    ]
    report = DiagnoseReport(
        profile="down",
        account_id=None,
        generated_at="2026-01-01T00:00:00+00:00",
        authenticated=False,
        checks=checks,
        summary=summarize(checks),
    )
    assert exit_code_for(report, unreachable=True) == 5
    assert exit_code_for(report) == 4
