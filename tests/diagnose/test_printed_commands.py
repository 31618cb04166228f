"""Every command `joyctl --profile shop diagnose` prints runs as printed and acts on `shop`.

`shop` is not the default profile (the built-in `sandbox` is), so a printed command that left
out `--profile shop` would act on the sandbox instead. The store is broken in several ways at
once (a grant without the review scopes, the program off, no webhook, reviews never replayed),
and each command diagnose prints is run exactly as printed, with placeholders filled in. Each
must resolve the `shop` profile, and nothing may ever touch the default profile.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from joyctl.api_contract import all_required_scopes
from joyctl.cli import run
from joyctl.context import AppContext
from joyctl.output import Output
from joyctl.sandbox.scenarios.catalogue import LEGACY_SCOPES
from tests.conftest import Cli
from tests.connection.support import Store, store_profile

ENDPOINT = "http://127.0.0.1:9/klaviyo/webhooks"
COMMAND_WORDS = (
    "connect|disconnect|status|diagnose|auth|profiles|config|ledger|program|reviews|sandbox"
    "|audiences|webhooks|backfill|smoke"
)
ANY_COMMAND = re.compile(
    rf"joyctl (?:--profile \S+ )?(?:{COMMAND_WORDS})(?![\w:])"
)  # not the title
PRINTED = re.compile(r"^\s+(?:fix: |\d+\. )(joyctl .+)$|`(joyctl [^`]+)`", re.MULTILINE)


@pytest.fixture
def shop(cli: Cli, tmp_path: Path) -> Iterator[Store]:
    """A store connected by OAuth before review scopes were needed, with its program off."""
    with store_profile(cli, tmp_path / "browser", scenario="legacy-permissions") as store:
        assert store.run("config", "set", "required_scopes", " ".join(LEGACY_SCOPES)).exit_code == 0
        assert store.run("connect").exit_code == 0
        scopes = " ".join(all_required_scopes())
        assert store.run("config", "set", "required_scopes", scopes).exit_code == 0
        assert store.run("config", "set", "webhook_endpoint", ENDPOINT).exit_code == 0
        assert store.run("program", "set", "enabled", "false").exit_code in (0, 2)
        yield store


def printed_commands(text: str) -> list[str]:
    """The commands in diagnose's output: fixes, repair steps and commands in backticks."""
    found = []
    for match in PRINTED.finditer(text):
        line = match.group(1) or match.group(2)
        found += [part.strip() for part in line.split(" && ")]
    return list(dict.fromkeys(found))


def run_as_printed(store: Store, line: str, values: dict[str, str]) -> tuple[int, str]:
    """Run one printed command line as a shell would; the profile it acted on and its output."""
    args = shlex.split(line)
    assert args[0] == "joyctl"
    args = [values.get(arg, arg) for arg in args[1:]]
    if args[2:4] == ["webhooks", "listen"]:
        return _listen(store, args), "shop"
    stdout, stderr = io.StringIO(), io.StringIO()
    app = AppContext(
        environ={**store.cli.environ, **store.env},
        output=Output(stdout=stdout, stderr=stderr),
    )
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run(args, app)
    assert code in (0, 6, 7), f"{line}: exit {code}\n{stdout.getvalue()}{stderr.getvalue()}"
    return code, app.settings.profile.name


def _listen(store: Store, args: list[str]) -> int:
    """`webhooks listen` serves until stopped: start it, see it listen for shop's account."""
    command = [sys.executable, "-m", "joyctl", *args, "--port", "0"]
    env = {**store.cli.environ, **store.env}
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    line = process.stderr.readline()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    account = json.loads(store.run("--json", "status").stdout)["data"]["account"]["id"]
    assert f"for account {account}" in line, line
    return process.returncode


def _placeholders(store: Store) -> dict[str, str]:
    # Before the grant has the review scopes, listing webhooks fails: nothing to fill in yet.
    reviews = json.loads(store.run("--json", "reviews", "list").stdout).get("data") or []
    webhooks = json.loads(store.run("--json", "webhooks", "list").stdout).get("data") or []
    return {
        "URL": ENDPOINT,
        "REVIEW_ID": reviews[0]["review_id"] if reviews else "none",
        "ID": webhooks[0]["id"] if webhooks else "none",
        "NAME": "Joy list",
    }


def _diagnose(store: Store) -> str:
    """The table report, checked against the markdown one: both name the same commands."""
    result = store.run("diagnose")
    assert result.exit_code in (0, 6), result.stderr
    markdown = store.run("diagnose", "--format", "markdown").stdout
    assert set(printed_commands(markdown)) == set(printed_commands(result.stdout))
    return result.stdout


@pytest.mark.slow
def test_every_printed_command_acts_on_the_profile_diagnose_ran_for(
    shop: Store, isolated_home: Path
) -> None:
    ran: list[str] = []
    for _ in range(3):  # each round's fixes uncover the next round's checks
        shown = _diagnose(shop)
        mentioned = ANY_COMMAND.findall(shown)
        assert mentioned, shown
        assert all(m.startswith("joyctl --profile shop ") for m in mentioned), mentioned
        commands = [line for line in printed_commands(shown) if line not in ran]
        values = _placeholders(shop)
        for line in commands:
            _, profile = run_as_printed(shop, line, values)
            assert profile == "shop", line
            ran.append(line)
        time.sleep(0.1)
    assert any(" connect" in line for line in ran)
    assert any("program set enabled true" in line for line in ran)
    assert any("webhooks create" in line for line in ran)
    assert any("reviews replay" in line for line in ran)
    # The default profile was never used: not even its data folder exists.
    assert not (isolated_home / "data" / "profiles" / "sandbox").exists()
    final = json.loads(shop.run("--json", "diagnose").stdout)["data"]
    assert final["summary"]["failed"] == 0, final
