"""Every command as a CI job runs it: no TTY, no credentials, `CI=true`, nothing to answer.

Each leaf of the command tree runs in its own process and its own JOYCTL_HOME, with its
required arguments filled with harmless values and the profile pointing at a loopback port
nothing listens on. Each must finish within a few seconds: exit 4 naming the variables or
flags to set, or 2 for usage, unless the allow-list below says the command needs no Klaviyo
credentials. None may prompt, hang or open a browser.
"""

from __future__ import annotations

import enum
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tools.generate_docs import root_command, walk

from joyctl import envvars
from joyctl.config_file import write_config
from tests.conftest import Cli

SECONDS_EACH = 10.0  # generous for a loaded 2-core runner; a healthy command takes under 2
SERVER_GRACE = 1.0  # how long a server that has started runs before it is sent SIGTERM
WORKERS = 4

# Commands that serve until signalled. They are started like the others and then sent SIGTERM,
# as a CI service container would be, and must stop cleanly (exit 0 or 130).
SERVERS = {"sandbox serve", "webhooks listen"}

# Commands that legitimately finish without Klaviyo credentials, and the exit codes they may
# give. Any other command must exit 4 naming what to set, or 2 for usage (a harmless value
# naming nothing that exists, a delete that wants --yes, a command that needs more input).
NEEDS_NO_CREDENTIALS: dict[str, set[int]] = {
    # Local settings and files only.
    "profiles list": {0},
    "profiles add": {0},
    "config path": {0},
    "config show": {0},
    "config get": {0},
    "config set": {0},
    "auth migrate": {0},  # nothing is stored in a plain file, so there is nothing to move
    "completion": {0},  # prints a script and reads nothing
    # The profile's own ledger, created empty on first use.
    "ledger path": {0},
    "ledger backup": {0},
    "ledger export": {0},
    "ledger verify": {0, 6},
    "program show": {0},
    "program history": {0},
    "reviews list": {0},
    "reviews pending": {0},
    "audiences create": {0},
    "audiences list": {0},
    "backfill status": {0},
    "webhooks replay": {0},  # deliveries stored in the ledger, and there are none
    "triggers list": {0},  # the catalogue and the ledger's choices
    # The built-in sandbox profile carries the emulator's own fake credentials.
    "sandbox scenarios": {0},
    "sandbox reset": {2},  # wipes the sandbox profile, so it wants --yes
    "sandbox state": {0},
    # Servers, stopped by SIGTERM once serving; one that needs credentials exits 4 first.
    "sandbox serve": {0, 130},
    "webhooks listen": {0, 4, 130},
}

# Harmless values for required parameters, by parameter name.
VALUES = {
    "email": "nobody@example.com",
    "name": "ci-sweep",
    "key": "keyring_timeout",
    "value": "3",
    "points": "1",
    "reason": "non-interactive sweep",
    "content": "A harmless review text from the non-interactive sweep.",
    "endpoint": "https://example.com/klaviyo/webhooks",
    "review_id": "sweep-review",
    "webhook_id": "sweep-webhook",
}
# A client id lets `connect` get as far as it can without credentials.
CI_PROFILE = {"client_id": "ci-sweep-client"}
NAMES_SETTING = re.compile(r"JOYCTL_[A-Z_]+|--[a-z][a-z-]+")


@dataclass
class Outcome:
    command: str
    exit_code: int | None  # None: still running after SECONDS_EACH (killed)
    stdout: str
    stderr: str
    seconds: float
    browser_opened: bool


def _leaves() -> list[tuple[str, Any]]:
    leaves = []
    for path, command in walk(root_command()):
        if not getattr(command, "commands", None) and len(path) > 1:
            leaves.append((" ".join(path[1:]), command))
    return leaves


def _value_for(param: Any, home: Path) -> str:
    if param.name in VALUES:
        return VALUES[param.name]
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str(next(iter(annotation)).value)
    if annotation in (int, float):
        return "1"
    if annotation is Path:
        return str(home / f"{param.name}.txt")  # a path in the private home; never exists
    return "ci-sweep"


def _arguments(command: Any, home: Path) -> list[str]:
    arguments: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        value = _value_for(param, home)
        if param.param_type_name == "argument":
            arguments.append(value)
        else:
            arguments += [param.opts[0], value]
    return arguments


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


def _environment(home: Path, browser: Path) -> dict[str, str]:
    names = {value for name, value in vars(envvars).items() if name.isupper()}
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key not in names
        and not key.startswith(("JOYCTL_", "PYTHON_KEYRING"))
        and key not in ("CI", "DISPLAY", "WAYLAND_DISPLAY")  # no desktop to open a browser on
    }
    return {
        **inherited,
        "CI": "true",
        envvars.HOME: str(home),
        envvars.PROFILE: "ci",
        # A runner without any keyring, the common case in CI.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "BROWSER": str(browser),
        "NO_COLOR": "1",
    }


def _prepare_home(root: Path, command: str) -> tuple[Path, Path]:
    home = root / command.replace(" ", "-")
    write_config(
        home / "config" / "config.toml",
        {"profiles": {"ci": {"base_url": f"http://127.0.0.1:{_unused_port()}", **CI_PROFILE}}},
    )
    # A browser that only leaves a trace: no command may try to open one here.
    browser = home / "browser"
    browser.write_text(f"#!/bin/sh\ntouch '{home / 'browser-opened'}'\n")
    browser.chmod(0o700)
    return home, browser


def _run(root: Path, command: str, tree_command: Any) -> Outcome:
    home, browser = _prepare_home(root, command)
    argv = [sys.executable, "-m", "joyctl", *command.split(), *_arguments(tree_command, home)]
    start = time.monotonic()
    with subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_environment(home, browser),
        start_new_session=True,  # no controlling terminal to fall back on
    ) as process:
        early = _wait_until_serving(process) if command in SERVERS else b""
        stdout, stderr, code = _finish(process)
    return Outcome(
        command,
        code,
        stdout.decode(errors="replace"),
        (early + stderr).decode(errors="replace"),
        time.monotonic() - start,
        (home / "browser-opened").exists(),
    )


def _wait_until_serving(process: subprocess.Popen[bytes]) -> bytes:
    """Let a server start (it says so on stderr) or exit, then send it SIGTERM.

    Reads the raw pipe: a buffered reader would keep what it read from `communicate`.
    """
    assert process.stderr is not None
    descriptor = process.stderr.fileno()
    said, deadline = b"", time.monotonic() + SECONDS_EACH
    while not said and time.monotonic() < deadline and process.poll() is None:
        if select.select([descriptor], [], [], 0.1)[0]:
            said += os.read(descriptor, 65536)
    try:
        process.wait(timeout=SERVER_GRACE)  # it may be on its way out after an error
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
    return said


def _finish(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes, int | None]:
    try:
        stdout, stderr = process.communicate(timeout=SECONDS_EACH)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        return stdout, stderr, None
    return stdout, stderr, process.returncode


LEAVES = _leaves()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Every command, run once, a few at a time (each is mostly interpreter start-up)."""
    root = tmp_path_factory.mktemp("noninteractive")
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        runs = [pool.submit(_run, root, name, command) for name, command in LEAVES]
        yield {run.result().command: run.result() for run in runs}


@pytest.mark.parametrize("command", [name for name, _ in LEAVES])
def test_command_finishes_without_input(command: str, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[command]
    shown = f"joyctl {command}: exit {outcome.exit_code}\n{outcome.stderr}{outcome.stdout}"
    assert outcome.exit_code is not None, f"still running after {SECONDS_EACH}s\n{shown}"
    assert not outcome.browser_opened, shown
    assert "Traceback" not in outcome.stderr, shown
    allowed = NEEDS_NO_CREDENTIALS.get(command, {2, 4})
    assert outcome.exit_code in allowed, shown
    if outcome.exit_code == 4:
        # On stderr, or in a report on stdout (diagnose lists its checks, each with a fix).
        said = outcome.stderr + outcome.stdout
        assert NAMES_SETTING.search(said), f"names nothing to set\n{shown}"
    if outcome.exit_code == 2:
        assert "error:" in outcome.stderr, shown


def test_connect_in_ci_never_opens_a_browser_to_wait(tmp_path: Path) -> None:
    """Even with the client secret at hand and a browser to open, CI gets a refusal at once."""
    home, browser = _prepare_home(tmp_path, "connect")
    env = {**_environment(home, browser), envvars.CLIENT_SECRET: "ci-sweep-secret"}
    finished = subprocess.run(
        [sys.executable, "-m", "joyctl", "connect"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        text=True,
        timeout=SECONDS_EACH,
        check=False,
    )
    assert finished.returncode == 2, finished.stderr
    assert not (home / "browser-opened").exists()
    assert envvars.ACCESS_TOKEN in finished.stderr


def test_environment_overrides_what_ci_needs(cli: Cli) -> None:
    assert cli("profiles", "add", "ci", "--base-url", "https://a.klaviyo.com").exit_code == 0
    env = {
        envvars.PROFILE: "ci",
        envvars.BASE_URL: "http://127.0.0.1:9",
        envvars.CLIENT_ID: "from-env",
        envvars.REVISION: "2026-01-15",
        envvars.KEYRING_TIMEOUT: "0.5",
    }
    shown = cli("--json", "config", "show", env=env)
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)["data"]
    assert (data["profile"], data["profile_source"]) == ("ci", "env")
    resolved = {item["key"]: (item["value"], item["source"]) for item in data["settings"]}
    assert resolved["base_url"] == ("http://127.0.0.1:9", "env")
    assert resolved["client_id"] == ("from-env", "env")
    assert resolved["revision"] == ("2026-01-15", "env")
    assert resolved["keyring_timeout"] == (0.5, "env")


def test_a_bad_environment_value_names_its_variable(cli: Cli) -> None:
    result = cli("config", "get", "keyring_timeout", env={envvars.KEYRING_TIMEOUT: "soon"})
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {envvars.KEYRING_TIMEOUT}: 'soon' is not a number")
    assert f"unset {envvars.KEYRING_TIMEOUT}" in result.stderr


def test_connect_no_browser_under_ci_fails_at_once(cli: Cli) -> None:
    assert (
        cli(
            "profiles", "add", "ci-shop", "--base-url", "http://127.0.0.1:9", "--client-id", "abc"
        ).exit_code
        == 0
    )
    result = cli(
        "-p",
        "ci-shop",
        "connect",
        "--no-browser",
        "--timeout",
        "300",
        env={"CI": "true", "JOYCTL_KLAVIYO_CLIENT_SECRET": "not-a-real-secret-value"},
    )
    assert result.exit_code == 2
    assert "JOYCTL_KLAVIYO_ACCESS_TOKEN" in result.stderr
