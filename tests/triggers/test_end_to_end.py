"""On the emulator, end to end: enable a trigger, fire it, create its draft flow, diagnose why
no email went out, set the flow live, and see the Received Email (issue: loyalty triggers)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.client import build_client
from joyctl.klaviyo.resources.consent import subscribe_emails, suppress_emails
from joyctl.klaviyo.resources.flows import set_flow_status
from joyctl.sandbox import SandboxConfig, SandboxServer
from tests.conftest import Cli, Result
from tests.sandbox.conftest import FAST

TIER = "Joy: Tier Achieved"
HAPPY = "ava.happy@example.com"
SUPPRESSED = "sam.suppressed@example.com"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    started = SandboxServer(SandboxConfig(scenario="healthy", **FAST))
    started.start()
    yield started
    started.stop()


def _run(cli: Cli, server: SandboxServer, *args: str) -> Result:
    env = {"JOYCTL_KLAVIYO_API_KEY": server.credentials.private_key}
    return cli.run(["--json", "--profile", "ci", *args], env=env)


def _data(result: Result) -> Any:
    return json.loads(result.stdout)["data"]


def _checks(result: Result) -> dict[str, str]:
    return {check["id"]: check["status"] for check in _data(result)["checks"]}


def _evidence(result: Result, check_id: str) -> str:
    (check,) = [c for c in _data(result)["checks"] if c["id"] == check_id]
    return " ".join(check["evidence"])


def test_tier_achieved_from_enable_to_received_email(cli: Cli, server: SandboxServer) -> None:
    assert cli("profiles", "add", "ci", "--base-url", server.base_url).exit_code == 0
    with build_client(
        base_url=server.base_url, auth=ApiKeyAuth(server.credentials.private_key)
    ) as client:
        subscribe_emails(client, [HAPPY, SUPPRESSED])
        suppress_emails(client, [SUPPRESSED])

        enabled = _run(cli, server, "triggers", "enable", "Tier Achieved")
        assert enabled.exit_code == 0, enabled.stderr
        assert {t["name"]: t["enabled"] for t in _data(enabled)["triggers"]}[TIER] is True

        fired = _run(cli, server, "triggers", "test", TIER, "--email", HAPPY)
        assert fired.exit_code == 0, fired.stderr
        assert _data(fired)["properties"]["New tier name"]
        assert _data(fired)["unique_id"].startswith("joyctl-test-")

        created = _run(cli, server, "triggers", "flows", "--create-drafts")
        assert created.exit_code == 0, created.stderr
        (tier_flows,) = [t for t in _data(created)["triggers"] if t["trigger"] == TIER]
        (draft,) = tier_flows["flows"]
        assert draft["status"] == "draft" and draft["created_now"] is True

        diagnosed = _run(cli, server, "diagnose", "--email", HAPPY, "--trigger", TIER)
        assert diagnosed.exit_code == 6
        assert _checks(diagnosed)["trigger_flows"] == "fail"
        assert draft["id"] in _evidence(diagnosed, "trigger_flows")
        assert "draft" in _evidence(diagnosed, "trigger_flows")
        assert _checks(diagnosed)["received_email"] == "fail"

        set_flow_status(client, draft["id"], "live")
        again = _run(cli, server, "triggers", "test", TIER, "--email", HAPPY, "--wait", "5")
        assert again.exit_code == 0, again.stderr
        assert _data(again)["emails_sent"] == ["Tier Achieved"]

        passing = _run(cli, server, "diagnose", "--email", HAPPY, "--trigger", TIER)
        assert passing.exit_code == 0, passing.stdout
        assert set(_checks(passing).values()) == {"pass"}

        assert _run(cli, server, "triggers", "test", TIER, "--email", SUPPRESSED).exit_code == 0
        suppressed = _run(cli, server, "diagnose", "--email", SUPPRESSED, "--trigger", TIER)
        assert suppressed.exit_code == 6
        assert _checks(suppressed)["email_suppression"] == "fail"
        assert "USER_SUPPRESSED" in _evidence(suppressed, "email_suppression")
        assert _checks(suppressed)["received_email"] == "fail"


def test_a_live_account_is_refused_without_the_flag(cli: Cli) -> None:
    live = SandboxServer(SandboxConfig(scenario="healthy", live_account=True, **FAST))
    live.start()
    try:
        assert cli("profiles", "add", "ci", "--base-url", live.base_url).exit_code == 0
        refused = _run(cli, live, "triggers", "test", TIER, "--email", HAPPY)
        assert refused.exit_code == 2
        assert "live Klaviyo account" in refused.stdout
        allowed = _run(
            cli, live, "triggers", "test", TIER, "--email", HAPPY, "--allow-live-account"
        )
        assert allowed.exit_code == 0, allowed.stderr
    finally:
        live.stop()
