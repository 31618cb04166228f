"""`joyctl connect --api-key-stdin`, credential storage, and runs that must never prompt."""

from __future__ import annotations

import io
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from joyctl import envvars
from tests.conftest import Cli
from tests.connection.support import PROFILE, Store, keyring_entry, store_profile
from tests.credentials.memory_keyring import (
    HangingKeyring,
    MemoryKeyring,
    TripwireKeyring,
    no_backend,
)


@pytest.fixture
def store(cli: Cli, tmp_path: Path) -> Iterator[Store]:
    with store_profile(cli, tmp_path, browser=None) as running:
        yield running


@pytest.fixture
def key_on_stdin(store: Store, monkeypatch: pytest.MonkeyPatch) -> str:
    key = store.server.credentials.private_key
    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))
    return key


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_private_key_is_verified_probed_and_stored(
    store: Store, key_on_stdin: str, memory_keyring: MemoryKeyring
) -> None:
    code, connected = store.json("connect", "--api-key-stdin")
    assert code == 0, connected
    data = connected["data"]
    assert data["method"] == "api_key"
    assert data["account"]["id"] == store.server.credentials.account_id
    # The `empty` account is not on Advanced KDP: a private key may not manage webhooks.
    assert data["capabilities"] == {
        "events": "ok",
        "profiles": "ok",
        "lists": "ok",
        "webhooks": "plan_gate",
        "reviews": "ok",
    }
    assert "webhooks:read" not in data["scopes"] and "reviews:read" in data["scopes"]
    assert keyring_entry(memory_keyring, f"{PROFILE}:api_key") == key_on_stdin

    code, status = store.json("status")
    assert code == 4
    webhooks = next(f for f in status["data"]["features"] if f["feature"] == "webhooks")
    assert webhooks["access"] == "plan_gate"
    assert f"joyctl --profile {PROFILE} connect" in webhooks["fix"]
    assert status["data"]["scopes"]["granted"] is None


def test_an_advanced_kdp_key_has_every_capability(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store_profile(cli, tmp_path, browser=None, scenario="advanced-kdp") as store:
        monkeypatch.setattr("sys.stdin", io.StringIO(store.server.credentials.private_key))
        assert store.run("connect", "--api-key-stdin").exit_code == 0
        code, status = store.json("status")
        assert code == 0, status
        assert set(status["data"]["capabilities"].values()) == {"ok"}


def test_a_bad_key_leaves_nothing_behind(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
    isolated_home: Path,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pk_thisKeyIsNotKnownAnywhere01"))
    config_before = (isolated_home / "config" / "config.toml").read_bytes()
    result = store.run("connect", "--api-key-stdin")
    assert result.exit_code == 4
    assert "rejected the credentials" in result.stderr
    assert memory_keyring.entries == {}
    assert (isolated_home / "config" / "config.toml").read_bytes() == config_before
    assert not (isolated_home / "data" / "profiles" / PROFILE / "ledger.sqlite3").exists()


def test_environment_credentials_never_touch_the_keyring(store: Store) -> None:
    tripwire = TripwireKeyring()
    keyring.set_keyring(tripwire)
    env = {envvars.API_KEY: store.server.credentials.private_key}
    code, status = store.json("status", env=env)
    assert code == 4  # webhooks are plan-gated for private keys on this account
    assert status["data"]["credential"]["source"] == "env"
    assert status["data"]["credential"]["origin"] == envvars.API_KEY
    assert status["data"]["storage"] is None
    assert tripwire.calls == []


def test_insecure_storage_writes_a_0600_file_and_migrate_moves_it(
    store: Store, key_on_stdin: str, memory_keyring: MemoryKeyring
) -> None:
    keyring.set_keyring(no_backend())
    code, connected = store.json("connect", "--api-key-stdin", "--insecure-storage")
    assert code == 0, connected
    assert connected["data"]["stored_in"] == "file"
    assert "unencrypted" in connected["data"]["storage_note"]
    path = Path(connected["data"]["stored_at"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    code, status = store.json("status")
    assert status["data"]["credential"]["source"] == "file"
    assert status["data"]["storage"]["available"] is False
    assert status["data"]["storage"]["insecure_file_exists"] is True

    keyring.set_keyring(memory_keyring)
    code, migrated = store.json("auth", "migrate")
    assert code == 0, migrated
    assert migrated["data"]["moved"] == [f"{PROFILE}:api_key"]
    assert migrated["data"]["file_removed"] is True
    assert keyring_entry(memory_keyring, f"{PROFILE}:api_key") == key_on_stdin
    assert not path.exists()


def test_migrate_keeps_both_copies_of_a_conflicting_secret_and_exits_4(
    store: Store, key_on_stdin: str, memory_keyring: MemoryKeyring
) -> None:
    keyring.set_keyring(no_backend())
    assert store.run("connect", "--api-key-stdin", "--insecure-storage").exit_code == 0
    memory_keyring.set_password("joyctl", f"{PROFILE}:api_key", "pk_an_older_key")
    keyring.set_keyring(memory_keyring)

    human = store.run("auth", "migrate")
    assert human.exit_code == 4
    assert f"{PROFILE}:api_key differs in the keyring" in human.stderr
    assert "error: 1 secrets differ between the file and the keyring" in human.stderr

    code, migrated = store.json("auth", "migrate")
    assert code == 4
    assert migrated["data"]["conflicts"] == [f"{PROFILE}:api_key"]
    assert "error" not in migrated
    assert keyring_entry(memory_keyring, f"{PROFILE}:api_key") == "pk_an_older_key"


def test_an_unavailable_keyring_fails_with_advice(
    store: Store, key_on_stdin: str, isolated_home: Path
) -> None:
    keyring.set_keyring(no_backend())
    result = store.run("connect", "--api-key-stdin")
    assert result.exit_code == 4
    assert "keyring is unavailable" in result.stderr
    assert "--insecure-storage" in result.stderr
    assert list((isolated_home / "data").rglob("credentials.json")) == []


def test_a_hanging_keyring_times_out(store: Store, key_on_stdin: str) -> None:
    hanging = HangingKeyring()
    keyring.set_keyring(hanging)
    try:
        assert store.cli("config", "set", "keyring_timeout", "0.5").exit_code == 0
        started = time.monotonic()
        result = store.run("connect", "--api-key-stdin")
        assert time.monotonic() - started < 5
    finally:
        hanging.release()
    assert result.exit_code == 4
    assert "no answer within 0.5s" in result.stderr


def test_a_terminal_without_input_fails_fast_naming_the_flag(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal())
    result = store.run("--no-input", "connect", "--api-key-stdin")
    assert result.exit_code == 2
    assert "--api-key-stdin" in result.stderr


def test_ci_never_prompts(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", Terminal())
    result = store.run("connect", "--client-secret-stdin", env={"CI": "true"})
    assert result.exit_code == 2
    assert "--client-secret-stdin" in result.stderr


def test_an_empty_pipe_is_refused(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    result = store.run("connect", "--api-key-stdin")
    assert result.exit_code == 2
    assert "empty api key" in result.stderr


def test_oauth_options_do_not_mix_with_a_key(store: Store) -> None:
    result = store.run("connect", "--api-key-stdin", "--paste")
    assert result.exit_code == 2
    assert "takes no OAuth options" in result.stderr


def test_disconnecting_a_key_deletes_it(
    store: Store, key_on_stdin: str, memory_keyring: MemoryKeyring
) -> None:
    assert store.run("connect", "--api-key-stdin").exit_code == 0
    code, gone = store.json("disconnect")
    assert code == 0
    assert gone["data"]["revocation"] == "nothing_to_revoke"
    assert gone["data"]["removed"] == [{"name": f"{PROFILE}:api_key", "removed_from": ["keyring"]}]
    assert memory_keyring.entries == {}


def test_disconnect_also_removes_webhook_signing_secrets(
    store: Store, key_on_stdin: str, memory_keyring: MemoryKeyring, isolated_home: Path
) -> None:
    from joyctl.ledger.db import open_ledger
    from joyctl.ledger.deliveries import record_subscription

    assert store.run("connect", "--api-key-stdin").exit_code == 0
    ledger = open_ledger(isolated_home / "data" / "profiles" / PROFILE / "ledger.sqlite3")
    record_subscription(ledger, "01HOOK", "https://hooks.example.com/k", ["t"], "2026-01-01")
    ledger.close()
    keyring.set_password("joyctl", f"{PROFILE}:webhook:01HOOK", "a-signing-secret-value")
    code, gone = store.json("disconnect")
    assert code == 0
    names = {item["name"] for item in gone["data"]["removed"]}
    assert f"{PROFILE}:webhook:01HOOK" in names
    assert memory_keyring.entries == {}


def test_a_disabled_program_is_said_with_the_command_that_enables_it(
    store: Store, key_on_stdin: str
) -> None:
    enable = f"joyctl --profile {PROFILE} program set enabled true"
    connected = store.run("connect", "--api-key-stdin")
    assert connected.exit_code == 0, connected.stderr
    assert "the write-review program is disabled" in connected.stderr
    assert f"run `{enable}`" in connected.stderr
    status = store.run("status")  # exit 4 here: a private key meets the webhook plan gate
    assert f"run `{enable}`" in status.stderr
    # The default profile needs no --profile in the command it is told.
    as_default = store.cli("status", env={**store.env, envvars.PROFILE: PROFILE})
    assert "run `joyctl program set enabled true`" in as_default.stderr
    assert store.run("program", "set", "enabled", "true").exit_code == 0
    assert "write-review program" not in store.run("status").stderr
