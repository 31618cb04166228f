"""joyctl's own flows with the emulator's `realistic` latency: 202 writes readable seconds
later, bulk jobs queued then processing, deliveries minutes later.

The delays are the preset's own, in sandbox time; a pump moves the sandbox clock ahead of the
wall clock (a second every 20 ms) so the tests wait for them without sleeping through them.
joyctl still has to poll for each asynchronous result, as it must against Klaviyo.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.client import build_client
from joyctl.klaviyo.resources.webhooks import create_webhook
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.ledger.points import EntryKind, NewEntry, append_entry
from joyctl.sandbox import SandboxConfig, SandboxServer
from tests.conftest import Cli

REALISTIC: dict[str, Any] = {"latency": "realistic", "rate_limits": "off"}


class ClockPump:
    """Advances a sandbox's clock by `step` seconds every `every` seconds until stopped."""

    def __init__(self, server: SandboxServer, step: float = 1.0, every: float = 0.02) -> None:
        self._url = f"{server.base_url}/__sandbox/clock"
        self._step, self._every = step, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(trust_env=False) as client:
            while not self._stop.wait(self._every):
                client.post(self._url, json={"advance_seconds": self._step})

    def __enter__(self) -> ClockPump:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def realistic_server() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(scenario="advanced-kdp", **REALISTIC)) as server:
        yield server


def test_the_realistic_preset_delays_what_klaviyo_does_later(
    realistic_server: SandboxServer,
) -> None:
    settings = realistic_server.inspect()["settings"]
    assert settings["latency"] == "realistic"
    key = realistic_server.credentials.private_key
    headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": "2026-07-15"}
    event = {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {},
                "metric": {"data": {"type": "metric", "attributes": {"name": "Later"}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": "l@example.com"}}},
            },
        }
    }
    with httpx.Client(base_url=realistic_server.base_url, headers=headers) as client:
        assert client.post("/api/events", json=event).status_code == 202
        assert realistic_server.inspect()["events"]["total"] == 0  # accepted, not yet readable
        client.post("/__sandbox/clock", json={"advance_seconds": 5})
        assert realistic_server.inspect()["events"]["total"] == 1


def test_smoke_passes_with_realistic_latency(cli: Cli, realistic_server: SandboxServer) -> None:
    base_url = realistic_server.base_url
    key = realistic_server.credentials.private_key
    with build_client(base_url=base_url, auth=ApiKeyAuth(key)) as client:
        create_webhook(
            client,
            name="review rewards",
            endpoint_url="http://127.0.0.1:9/klaviyo/webhooks",
            secret_key="latency-test-secret-0123",  # noqa: S106 - the emulator's fake secret
            topic_ids=["event:klaviyo.submitted_review"],
        )
    assert cli("profiles", "add", "ci", "--base-url", base_url).exit_code == 0
    env = {"CI": "true", "JOYCTL_KLAVIYO_API_KEY": key}
    with ClockPump(realistic_server):
        result = cli("--profile", "ci", "smoke", "--timeout", "20", env=env)
    assert result.exit_code == 0, result.stderr
    assert "9 passed, 0 failed, 0 skipped" in result.stdout


def test_backfill_profiles_waits_for_its_jobs_with_realistic_latency(
    cli: Cli, isolated_home: Path
) -> None:
    with SandboxServer(SandboxConfig(scenario="empty", **REALISTIC)) as server:
        assert cli("profiles", "add", "shop", "--base-url", server.base_url).exit_code == 0
        ledger = isolated_home / "data" / "profiles" / "shop" / "ledger.sqlite3"
        with closing(open_ledger(ledger)) as connection, transaction(connection):
            for number in range(3):
                fields = CustomerFields(email=f"late{number}@example.com")
                customer = upsert_customer(connection, fields).customer_id
                entry = NewEntry(customer_id=customer, kind=EntryKind.ADJUST, delta=10 + number,
                                 idempotency_key=f"late-{number}", reason="seed")  # fmt: skip
                append_entry(connection, entry)
        env = {"JOYCTL_KLAVIYO_API_KEY": server.credentials.private_key}
        with ClockPump(server):
            result = cli("--json", "-p", "shop", "backfill", "profiles", env=env)
        assert result.exit_code == 0, result.stderr
        summary = json.loads(result.stdout)["data"]
        assert (summary["profiles"], summary["imported"]) == (3, 3)
        [job] = server.inspect()["import_jobs"]
        assert job["status"] == "complete"
        points = {p["email"]: p["properties"] for p in server.inspect()["profiles"]["items"]}
        assert points["late2@example.com"]["Joy Loyalty Points"] == 12


def test_diagnose_fix_repairs_the_legacy_store_with_realistic_latency(cli: Cli) -> None:
    env = {"JOYCTL_SANDBOX_LATENCY": "realistic"}
    result = cli("--json", "--profile", "sandbox", "diagnose", "--fix", "--yes", env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    fixed = json.loads(result.stdout)["data"]
    assert [step["status"] for step in fixed["steps"]] == ["done"] * 4
    after = {check["id"]: check["status"] for check in fixed["after"]["checks"]}
    assert "fail" not in after.values()
