"""`joyctl smoke` against the sandbox: every step, the JUnit report, refusals and exit codes."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from joyctl import envvars
from joyctl.errors import CheckFailedError
from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.client import KlaviyoClient, build_client
from joyctl.klaviyo.models import Review
from joyctl.klaviyo.resources.reviews import list_reviews
from joyctl.klaviyo.resources.webhooks import create_webhook
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.services.smoke.junit import JUnitCase, JUnitSuite, render_junit
from joyctl.services.smoke.model import SmokeOptions, SmokeRun
from joyctl.services.smoke.steps import STEPS
from tests.conftest import Cli, Result

STEP_IDS = [step.id for step in STEPS]
SUBMITTED_REVIEW = "event:klaviyo.submitted_review"
UNUSED_RECEIVER = "http://127.0.0.1:9/klaviyo/webhooks"  # deliveries fail fast; none is awaited


def _client(base_url: str, private_key: str) -> KlaviyoClient:
    return build_client(base_url=base_url, auth=ApiKeyAuth(private_key))


def _subscribe_reviews(base_url: str, private_key: str) -> None:
    with _client(base_url, private_key) as client:
        create_webhook(
            client,
            name="review rewards",
            endpoint_url=UNUSED_RECEIVER,
            secret_key="test-webhook-secret",  # noqa: S106 - a fake secret for the emulator
            topic_ids=[SUBMITTED_REVIEW],
        )


def _reviews(base_url: str, private_key: str) -> list[Review]:
    with _client(base_url, private_key) as client:
        return list(list_reviews(client))


def _smoke(cli: Cli, base_url: str, key: str | None, *args: str, json_mode: bool = False) -> Result:
    assert cli("profiles", "add", "ci", "--base-url", base_url).exit_code == 0
    env = {"CI": "true"}
    if key is not None:
        env["JOYCTL_KLAVIYO_API_KEY"] = key
    first = ["--json"] if json_mode else []
    return cli.run([*first, "--profile", "ci", "smoke", "--timeout", "5", *args], env=env)


def _cases(report: Path) -> dict[str, ET.Element]:
    root = ET.parse(report).getroot()  # noqa: S314 - our own file
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    return {case.attrib["name"]: case for case in suite.findall("testcase")}


def _read_ready(process: subprocess.Popen[bytes], seconds: float) -> dict[str, Any]:
    """The JSON `sandbox serve --json` prints once it accepts connections.

    Read from the raw pipe: a buffered reader would hide the rest of the output from select.
    """
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    text, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([descriptor], [], [], 0.2)
        if ready:
            text += os.read(descriptor, 65536)
            try:
                data: dict[str, Any] = json.loads(text)["data"]
            except ValueError:
                continue
            return data
    raise AssertionError(f"sandbox serve did not start: {text!r}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`joyctl sandbox serve` in its own process: an empty test account on Advanced KDP, so
    its private key may list webhooks; stopped with SIGTERM like a CI service container."""
    command = [sys.executable, "-m", "joyctl", "--json", "sandbox", "serve"]
    command += ["--scenario", "advanced-kdp", "--rate-limits", "x10"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    ) as process:
        try:
            yield _read_ready(process, 20)
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=20)


@pytest.fixture
def live_server() -> Iterator[SandboxServer]:
    server = SandboxServer(
        SandboxConfig(scenario="advanced-kdp", rate_limits="off", live_account=True)
    )
    server.start()
    yield server
    server.stop()


def test_smoke_passes_against_sandbox_serve_with_a_junit_report(
    cli: Cli, served: dict[str, Any], tmp_path: Path
) -> None:
    base_url, key = served["base_url"], served["private_key"]
    _subscribe_reviews(base_url, key)
    report = tmp_path / "report.xml"
    result = _smoke(cli, base_url, key, "--junit", str(report))
    assert result.exit_code == 0, result.stderr
    assert "9 passed, 0 failed, 0 skipped" in result.stdout
    for step in STEP_IDS:
        assert f"PASS  {step}" in result.stderr
    cases = _cases(report)
    assert list(cases) == STEP_IDS
    assert all(not list(case) or case[0].tag == "system-out" for case in cases.values())
    suite = ET.parse(report).getroot()[0]  # noqa: S314 - our own file
    assert suite.attrib | {"time": "", "timestamp": ""} == {
        "name": "joyctl smoke",
        "tests": "9",
        "failures": "0",
        "errors": "0",
        "skipped": "0",
        "time": "",
        "timestamp": "",
    }
    for text in (report.read_text(), result.stdout, result.stderr):
        assert key not in text
    (review,) = _reviews(base_url, key)
    assert review.status_value == "rejected"
    assert review.email == "joyctl-smoke@example.com"


def test_a_live_account_is_refused_before_anything_is_written(
    cli: Cli, live_server: SandboxServer, tmp_path: Path
) -> None:
    key = live_server.credentials.private_key
    report = tmp_path / "report.xml"
    result = _smoke(cli, live_server.base_url, key, "--junit", str(report))
    assert result.exit_code == 2
    assert "is a live Klaviyo account" in result.stderr
    assert "--allow-live-account" in result.stderr
    assert _reviews(live_server.base_url, key) == []
    cases = _cases(report)
    assert cases["authenticate"][0].tag == "failure"
    assert "live Klaviyo account" in cases["authenticate"][0].attrib["message"]
    assert all(cases[step][0].tag == "skipped" for step in STEP_IDS[1:])


def test_allow_live_account_runs_every_step(cli: Cli, live_server: SandboxServer) -> None:
    key = live_server.credentials.private_key
    _subscribe_reviews(live_server.base_url, key)
    result = _smoke(cli, live_server.base_url, key, "--allow-live-account")
    assert result.exit_code == 0, result.stderr
    assert "live account (--allow-live-account)" in result.stderr


def test_no_review_webhook_is_a_failing_step_and_the_rest_still_run(
    cli: Cli, live_server: SandboxServer, tmp_path: Path
) -> None:
    key = live_server.credentials.private_key
    report = tmp_path / "report.xml"
    result = _smoke(cli, live_server.base_url, key, "--allow-live-account", "--junit", str(report))
    assert result.exit_code == 6
    assert "FAIL  review_webhook" in result.stderr
    assert "joyctl --profile ci webhooks create --endpoint" in result.stderr
    assert "failed: review_webhook" in result.stdout
    failure = _cases(report)["review_webhook"][0]
    assert failure.tag == "failure"
    assert SUBMITTED_REVIEW in failure.attrib["message"]
    assert "hint: create one: `joyctl --profile ci webhooks create" in (failure.text or "")


def test_junit_to_stdout_puts_the_xml_there_and_the_summary_on_stderr(
    cli: Cli, live_server: SandboxServer
) -> None:
    key = live_server.credentials.private_key
    _subscribe_reviews(live_server.base_url, key)
    result = _smoke(cli, live_server.base_url, key, "--allow-live-account", "--junit", "-")
    assert result.exit_code == 0, result.stderr
    suite = ET.fromstring(result.stdout)  # noqa: S314 - our own output
    assert [case.attrib["name"] for case in suite.iter("testcase")] == STEP_IDS
    assert "joyctl smoke: 9 passed" in result.stderr


def test_keep_leaves_the_review_and_json_reports_every_step(
    cli: Cli, live_server: SandboxServer
) -> None:
    key = live_server.credentials.private_key
    _subscribe_reviews(live_server.base_url, key)
    result = _smoke(
        cli, live_server.base_url, key, "--allow-live-account", "--keep", json_mode=True
    )
    assert result.exit_code == 0
    assert result.stderr == ""
    data = json.loads(result.stdout)["data"]
    assert data["schema_version"] == "joyctl.smoke/1"
    assert [step["id"] for step in data["steps"]] == STEP_IDS
    assert data["steps"][-1]["status"] == "skip"
    assert "kept (--keep)" in data["steps"][-1]["detail"]
    assert data["summary"] == {"passed": 8, "failed": 0, "skipped": 1}
    (review,) = _reviews(live_server.base_url, key)
    assert review.status_value == "published"
    assert data["marker"] in (review.content or "")


def test_without_credentials_exits_4_naming_the_variables(cli: Cli, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    result = _smoke(cli, "http://127.0.0.1:9", None, "--junit", str(report))
    assert result.exit_code == 4
    assert "JOYCTL_KLAVIYO_API_KEY" in result.stderr
    assert "JOYCTL_KLAVIYO_ACCESS_TOKEN" in result.stderr
    assert _cases(report)["authenticate"][0].tag == "failure"


def test_a_junit_path_that_cannot_be_written_fails_before_the_run(cli: Cli, tmp_path: Path) -> None:
    result = _smoke(cli, "http://127.0.0.1:9", "pk_unused", "--junit", str(tmp_path / "no/r.xml"))
    assert result.exit_code == 2
    assert "no folder" in result.stderr
    assert "authenticate" not in result.stderr


def test_timeout_must_be_at_least_a_second(cli: Cli) -> None:
    result = _smoke(cli, "http://127.0.0.1:9", "pk_unused", "--timeout", "0")
    assert result.exit_code == 2


def test_polling_gives_up_after_the_timeout_with_a_hint() -> None:
    run = SmokeRun(
        SmokeOptions(timeout=0.05, first_poll_interval=0.01),
        open_session=lambda: pytest.fail("no session needed"),
        marker="m",
        started_at=datetime.now(UTC),
    )
    with pytest.raises(CheckFailedError) as raised:
        run.poll("the thing", lambda: None)
    assert "did not appear within 0.05s" in raised.value.message
    assert raised.value.hint is not None and "--timeout" in raised.value.hint


def test_junit_text_is_made_valid_xml() -> None:
    suite = JUnitSuite(
        name="joyctl smoke",
        timestamp=datetime.now(UTC),
        seconds=1.0,
        cases=[
            JUnitCase("a", "joyctl.smoke", 0.5, "fail", "bad \x1b[31mred\x00", "detail \x07"),
            JUnitCase("b", "joyctl.smoke", 0.5, "skip", "needs a"),
        ],
    )
    root = ET.fromstring(render_junit(suite))  # noqa: S314 - our own output
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.attrib["message"] == "bad \ufffd[31mred\ufffd"
    assert root.attrib["failures"] == "1"
    assert root.attrib["skipped"] == "1"


def test_readme_has_a_ci_job_and_every_environment_variable() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Environment variables", 1)[1].split("\n## ", 1)[0]
    for name, value in vars(envvars).items():
        if name.isupper() and isinstance(value, str):
            assert f"| `{value}` |" in table, f"{value} is not in the README's table"
    job = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "pip install" in job
    assert "joyctl smoke --junit" in job
    assert "JOYCTL_KLAVIYO_API_KEY: ${{ secrets." in job  # from the environment, never argv
