"""The `email-not-sent` scenario: diagnose --email --trigger finds each customer's cause."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.sandbox.scenarios.email_cases import CASES
from tests.conftest import Cli
from tests.sandbox.conftest import FAST

# The triggers the merchant enabled; the last case's is left out on purpose.
ENABLED = ("Tier Achieved", "Birthday", "Redeem Points", "Milestone Achieved", "Member Anniversary")


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    started = SandboxServer(SandboxConfig(scenario="email-not-sent", **FAST))
    started.start()
    yield started
    started.stop()


def _customers(server: SandboxServer) -> list[str]:
    return [customer.email for customer in server.scenario_seed.customers]


def test_each_cause_is_found_on_its_customer(cli: Cli, server: SandboxServer) -> None:
    assert cli("profiles", "add", "ci", "--base-url", server.base_url).exit_code == 0
    env = {"JOYCTL_KLAVIYO_API_KEY": server.credentials.private_key}
    assert cli("--profile", "ci", "triggers", "enable", *ENABLED, env=env).exit_code == 0
    emails = _customers(server)
    assert len(emails) == len(CASES)
    for email, case in zip(emails, CASES, strict=True):
        result = cli(
            "--json",
            "--profile",
            "ci",
            "diagnose",
            "--email",
            email,
            "--trigger",
            case.trigger,
            env=env,
        )
        checks = {c["id"]: c for c in json.loads(result.stdout)["data"]["checks"]}
        failing = {check_id for check_id, c in checks.items() if c["status"] == "fail"}
        expected = case.cause.split(":")[0]
        if expected == "none":
            assert (result.exit_code, failing) == (0, set()), checks
            continue
        assert result.exit_code == 6, (case, checks)
        assert expected in failing, (case, failing)
        if case.suppression:
            evidence = " ".join(checks[expected]["evidence"])
            assert case.suppression in evidence or case.consent in evidence
