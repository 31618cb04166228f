"""A CI runner: credentials only in the environment, no keyring at all, nobody to answer.

The README tells CI users to create the review webhook once and run smoke every night; on a
runner without a keyring the webhook's signing secret comes from JOYCTL_WEBHOOK_SECRET (kept
in the CI's secret store, like the private key), so both work there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

from joyctl import envvars
from joyctl.errors import CheckFailedError, ExitCode, RemoteError
from joyctl.klaviyo.resources.webhooks import list_webhooks
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.services.smoke.run import SmokeStep as Step
from joyctl.services.smoke.run import StepStatus, _Outcome, exit_code_for
from tests.conftest import Cli
from tests.credentials.memory_keyring import no_backend
from tests.smoke.test_smoke import UNUSED_RECEIVER, _client

SIGNING_SECRET = "ci-vault-signing-secret-0123456789"


@pytest.fixture
def served() -> Iterator[dict[str, Any]]:
    """An empty test account on Advanced KDP, so its private key may manage webhooks."""
    with SandboxServer(SandboxConfig(scenario="advanced-kdp", rate_limits="x10")) as server:
        yield {"base_url": server.base_url, "private_key": server.credentials.private_key}


@pytest.fixture
def runner(cli: Cli, served: dict[str, Any]) -> Iterator[dict[str, str]]:
    """A profile `ci` for the served emulator, and the variables a CI job sets."""
    keyring.set_keyring(no_backend())
    assert cli("profiles", "add", "ci", "--base-url", served["base_url"]).exit_code == 0
    yield {"CI": "true", envvars.PROFILE: "ci", envvars.API_KEY: served["private_key"]}


def test_ci_creates_the_review_webhook_and_smoke_passes_with_environment_credentials_only(
    cli: Cli, served: dict[str, Any], runner: dict[str, str], isolated_home: Path
) -> None:
    env = {**runner, envvars.WEBHOOK_SECRET: SIGNING_SECRET}
    created = cli.run(["--json", "webhooks", "create", "--endpoint", UNUSED_RECEIVER], env=env)
    assert created.exit_code == 0, created.stdout
    assert json.loads(created.stdout)["data"]["secret"] == "env"

    smoke = cli.run(["smoke", "--timeout", "5"], env=env)
    assert smoke.exit_code == 0, smoke.stderr
    assert "9 passed, 0 failed, 0 skipped" in smoke.stdout
    assert not list(isolated_home.rglob("credentials.json"))  # no secret was written anywhere
    for text in (created.stdout, smoke.stdout, smoke.stderr):
        assert SIGNING_SECRET not in text


def test_without_a_home_for_its_secret_no_webhook_is_created_and_the_advice_fits(
    cli: Cli, served: dict[str, Any], runner: dict[str, str]
) -> None:
    refused = cli.run(["webhooks", "create", "--endpoint", UNUSED_RECEIVER], env=runner)

    assert refused.exit_code == ExitCode.AUTH
    hint = refused.stderr.split("hint:", 1)[1]
    assert hint.index(envvars.WEBHOOK_SECRET) < hint.index("--insecure-storage")
    assert hint.index("--insecure-storage") < hint.index("Secret Service")
    assert f"set {envvars.API_KEY}" not in refused.stderr  # it is set already
    with _client(served["base_url"], served["private_key"]) as client:
        assert list_webhooks(client) == []


def test_a_missing_credential_under_ci_names_the_variables_first(
    cli: Cli, runner: dict[str, str]
) -> None:
    env = {key: value for key, value in runner.items() if key != envvars.API_KEY}
    result = cli.run(["webhooks", "list"], env=env)

    assert result.exit_code == ExitCode.AUTH
    hint = result.stderr.split("hint:", 1)[1]
    assert hint.index(envvars.API_KEY) < hint.index("Secret Service")


def test_smoke_exits_5_when_klaviyo_cannot_be_reached(cli: Cli) -> None:
    keyring.set_keyring(no_backend())
    assert cli("profiles", "add", "down", "--base-url", "http://127.0.0.1:9").exit_code == 0
    env = {"CI": "true", envvars.API_KEY: "pk_unreachable_0000000000"}
    result = cli.run(["--profile", "down", "smoke", "--timeout", "5"], env=env)

    assert result.exit_code == ExitCode.REMOTE, result.stderr
    assert "FAIL  authenticate" in result.stderr


def _step(step_id: str, status: StepStatus) -> Step:
    return Step(id=step_id, title=step_id, status=status, seconds=0.0, detail="")


def test_smoke_exits_5_only_when_nothing_but_the_network_failed() -> None:
    remote = RemoteError("the connection failed")
    failing = _Outcome(
        [_step("authenticate", StepStatus.PASS), _step("find_review", StepStatus.FAIL)],
        {"find_review": remote},
    )
    assert exit_code_for(failing, "authenticate") == ExitCode.REMOTE
    failing.steps.append(_step("review_webhook", StepStatus.FAIL))
    failing.errors["review_webhook"] = CheckFailedError("no webhook")
    assert exit_code_for(failing, "authenticate") == ExitCode.CHECK_FAILED
