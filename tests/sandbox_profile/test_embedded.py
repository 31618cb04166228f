"""The built-in sandbox profile: seeded on first use, state kept across commands, reset."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Cli


def _data(cli: Cli, *args: str) -> Any:
    result = cli("--json", *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["data"]


def test_first_use_seeds_the_legacy_permissions_store(cli: Cli) -> None:
    exported = cli("--profile", "sandbox", "ledger", "export", "--format", "jsonl")
    assert exported.exit_code == 0
    customers = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(customers) == 30
    program = _data(cli, "--profile", "sandbox", "program", "show")
    assert program["program"]["enabled"] is True
    profiles = _data(cli, "profiles", "list")
    assert profiles[0]["account_id"]


def test_legacy_grant_cannot_read_reviews(cli: Cli) -> None:
    result = cli("--profile", "sandbox", "reviews", "replay")
    assert result.exit_code == 4
    assert "reviews:read" in result.stderr
    assert "joyctl connect" in result.stderr


def test_replay_on_a_healthy_store_is_idempotent_across_commands(cli: Cli) -> None:
    assert cli("sandbox", "reset", "--scenario", "healthy", "--yes").exit_code == 0
    first = _data(cli, "--profile", "sandbox", "reviews", "replay")
    assert first["awarded"] > 0
    assert first["points"] == first["awarded"] * 50
    second = _data(cli, "--profile", "sandbox", "reviews", "replay")
    assert second["awarded"] == 0
    assert second["unchanged"] == first["reviews"]
    listed = _data(cli, "--profile", "sandbox", "reviews", "list", "--outcome", "award")
    assert len(listed) == first["awarded"]
    shown = _data(cli, "--profile", "sandbox", "reviews", "show", listed[0]["review_id"])
    assert shown["explanation"] == "awarded 50 points"


def test_submit_then_replay_awards_the_new_review_once(cli: Cli) -> None:
    assert cli("sandbox", "reset", "--scenario", "healthy", "--yes").exit_code == 0
    _data(cli, "--profile", "sandbox", "reviews", "replay")
    submitted = _data(
        cli,
        "--profile",
        "sandbox",
        "reviews",
        "submit",
        "--email",
        "ava.martinez@example.com",
        "--product",
        "brand-new-product",
        "--content",
        "A wonderful blend that I brew every day.",
    )
    assert submitted["test_account"] is True
    replayed = _data(cli, "--profile", "sandbox", "reviews", "replay")
    assert replayed["awarded"] + replayed["rejected"].get("NOT_PUBLISHED", 0) == 1


def test_reset_rejects_an_unknown_scenario(cli: Cli) -> None:
    result = cli("sandbox", "reset", "--scenario", "nope", "--yes")
    assert result.exit_code == 2
    assert "joyctl sandbox scenarios" in result.stderr


def test_scenarios_lists_each_one(cli: Cli) -> None:
    names = [s["name"] for s in _data(cli, "sandbox", "scenarios")]
    assert {"empty", "legacy-permissions"} <= set(names)


def test_serve_prints_base_url_and_stops_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "joyctl",
            "--json",
            "sandbox",
            "serve",
            "--rate-limits",
            "off",
            "--webhook-payload",
            "no-review-id",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            lines.append(process.stdout.readline())
            if lines[-1].startswith("}"):
                break
        info = json.loads("".join(lines))["data"]
        assert info["private_key"].startswith("pk_")
        assert info["webhook_payload"] == "no-review-id"
        response = httpx.get(
            f"{info['base_url']}/api/accounts",
            headers={
                "Authorization": f"Klaviyo-API-Key {info['private_key']}",
                "revision": "2026-07-15",
            },
        )
        assert response.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err


def test_the_built_in_profile_takes_its_payload_shape_from_the_environment() -> None:
    from joyctl import envvars
    from joyctl.context import AppContext

    app = AppContext(environ={**os.environ, envvars.SANDBOX_WEBHOOK_PAYLOAD: "no-review-id"})
    try:
        state = httpx.get(f"{app.sandbox().base_url}/__sandbox/state?brief=1").json()
        assert state["settings"]["webhook_payload"] == "no-review-id"
    finally:
        app.close()


def test_an_unknown_payload_shape_is_a_usage_error(cli: Cli) -> None:
    result = cli("sandbox", "serve", "--webhook-payload", "partial")
    assert result.exit_code == 2
    assert "full, no-review-id" in result.stderr


def test_sandbox_state_prints_the_inspection_document(cli: Cli, isolated_home: Path) -> None:
    submitted = cli("--profile", "sandbox", "reviews", "list", "--limit", "1")
    assert submitted.exit_code == 0, submitted.stderr

    wrapped = cli("--json", "sandbox", "state")
    plain = cli("sandbox", "state", "--brief")

    assert wrapped.exit_code == 0, wrapped.stderr
    document = json.loads(wrapped.stdout)
    assert document["schema"] == "joyctl/1"
    data = document["data"]
    assert data["scenario"] == "legacy-permissions"
    assert {"requests", "events", "profiles", "reviews", "webhooks", "deliveries"} <= set(data)
    assert "items" in data["profiles"]
    assert plain.exit_code == 0, plain.stderr
    brief = json.loads(plain.stdout)
    assert brief["scenario"] == data["scenario"]
    assert "items" not in brief["profiles"] and "attempts" not in brief["deliveries"]
