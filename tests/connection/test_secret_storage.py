"""Where a connected profile keeps its secrets, end to end through the commands.

The choice is made once (`connect --insecure-storage` on a machine without a keyring), kept
in config.toml, shown by `status`, followed by every later write, and undone by `auth
migrate`. Without a usable keyring and without the flag, `connect` fails before any browser
is opened.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

from joyctl import envvars
from tests.conftest import Cli
from tests.connection.support import PROFILE, Store, keyring_entry, store_profile
from tests.credentials.memory_keyring import MemoryKeyring, no_backend


@pytest.fixture
def store(cli: Cli, tmp_path: Path) -> Iterator[Store]:
    with store_profile(cli, tmp_path / "browser", scenario="healthy") as running:
        yield running


def _remembered(home: Path) -> Any:
    config = tomllib.loads((home / "config" / "config.toml").read_text(encoding="utf-8"))
    return config["profiles"][PROFILE].get("connection", {}).get("secret_storage")


def test_without_a_keyring_connect_fails_before_the_browser_opens(
    store: Store, tmp_path: Path, isolated_home: Path
) -> None:
    keyring.set_keyring(no_backend())
    opened = tmp_path / "browser-opened"
    store.env["BROWSER"] = str(_recording_browser(tmp_path, opened))
    grants = len(store.server.inspect()["tokens"]["grants"])

    result = store.run("connect")

    assert result.exit_code == 4
    assert "keyring is unavailable" in result.stderr
    assert "--insecure-storage" in result.stderr
    assert not opened.exists()
    assert len(store.server.inspect()["tokens"]["grants"]) == grants  # no login took place


def _recording_browser(folder: Path, opened: Path) -> Path:
    import stat
    import sys

    path = folder / "recording-browser.py"
    path.write_text(
        f"#!{sys.executable}\nimport pathlib\npathlib.Path({str(opened)!r}).touch()\n",
        encoding="utf-8",
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_file_once_chosen_is_remembered_shown_and_migrated_away(
    store: Store, isolated_home: Path, memory_keyring: MemoryKeyring
) -> None:
    keyring.set_keyring(no_backend())
    code, connected = store.json("connect", "--insecure-storage")
    assert code == 0, connected
    assert connected["data"]["stored_in"] == "file"
    assert _remembered(isolated_home) == "file"

    code, status = store.json("status")
    assert code == 0, status
    assert status["data"]["secret_storage"]["kind"] == "file"
    assert status["data"]["secret_storage"]["remembered"] is True
    plain = store.run("status")
    assert "insecure file" in plain.stdout and "joyctl --profile shop auth migrate" in plain.stdout

    # A keyring appears later (the desktop session came back): the profile moves to it.
    keyring.set_keyring(memory_keyring)
    code, migrated = store.json("auth", "migrate")
    assert code == 0, migrated
    assert migrated["data"]["secret_storage"] == "keyring"
    assert _remembered(isolated_home) == "keyring"
    assert keyring_entry(memory_keyring, f"{PROFILE}:oauth_tokens") is not None
    code, status = store.json("status")
    assert status["data"]["secret_storage"]["kind"] == "keyring"
    assert status["data"]["credential"]["source"] == "keyring"


def test_connecting_again_keeps_the_choice(store: Store, isolated_home: Path) -> None:
    keyring.set_keyring(no_backend())
    assert store.run("connect", "--insecure-storage").exit_code == 0

    again = store.run("connect")  # no flag: the profile remembers the file

    assert again.exit_code == 0, again.stderr
    assert "insecure file" in again.stderr
    assert _remembered(isolated_home) == "file"


def test_status_shows_the_storage_without_touching_the_keyring_for_env_credentials(
    store: Store,
) -> None:
    env = {envvars.ACCESS_TOKEN: "at_from_the_environment"}
    code, status = store.json("status", env=env)
    assert status["data"]["secret_storage"] == {
        "kind": "keyring",
        "remembered": False,
        "location": "OS keyring, service 'joyctl'",
    }
