"""`joyctl connect` by OAuth against a local emulator, end to end, and its refusals."""

from __future__ import annotations

import io
import sqlite3
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from joyctl import envvars
from joyctl.api_contract import all_required_scopes
from joyctl.klaviyo.oauth import PkcePair, code_challenge, generate_pkce_pair
from tests.conftest import Cli
from tests.connection.support import (
    PROFILE,
    Store,
    keyring_entry,
    store_profile,
    stored_tokens,
    write_browser,
    write_failing_browser,
)
from tests.credentials.memory_keyring import MemoryKeyring


@pytest.fixture
def store(cli: Cli, tmp_path: Path) -> Iterator[Store]:
    """The emulator shows a consent page; the `$BROWSER` program approves it."""
    with store_profile(cli, tmp_path / "browser") as running:
        yield running


def _connection_facts(home: Path) -> dict[str, object]:
    config = tomllib.loads((home / "config" / "config.toml").read_text(encoding="utf-8"))
    facts: dict[str, object] = config["profiles"][PROFILE].get("connection", {})
    return facts


def _connections(home: Path) -> list[tuple[str, str | None]]:
    path = home / "data" / "profiles" / PROFILE / "ledger.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as ledger:
        rows = ledger.execute("SELECT method, disconnected_at FROM connections ORDER BY id")
        found = [(str(method), ended) for method, ended in rows]
    ledger.close()
    return found


def _nothing_stored(memory: MemoryKeyring, home: Path) -> bool:
    return memory.entries == {} and _connection_facts(home) == {} and _connections(home) == []


def test_connect_status_refresh_and_disconnect(
    store: Store, memory_keyring: MemoryKeyring, isolated_home: Path
) -> None:
    code, connected = store.json("connect")
    assert code == 0, connected
    _check_connected(store, connected["data"], isolated_home)

    code, status = store.json("status")
    assert code == 0, status
    assert status["data"]["ok"] is True
    assert status["data"]["credential"]["source"] == "keyring"
    assert status["data"]["token"]["refreshed"] is False

    # The emulator's clock moves past the access token's lifetime: status refreshes it.
    before = stored_tokens(memory_keyring)["access_token"]
    store.control("clock", {"advance_seconds": 7200})
    code, status = store.json("status")
    assert code == 0, status
    assert status["data"]["token"]["refreshed"] is True
    assert stored_tokens(memory_keyring)["access_token"] != before

    code, gone = store.json("disconnect")
    assert code == 0, gone
    _check_disconnected(store, gone["data"], memory_keyring, isolated_home)

    assert store.run("status").exit_code == 4
    again = store.run("disconnect")
    assert again.exit_code == 0
    assert "no OAuth grant to revoke" in again.stderr


def _check_connected(store: Store, data: dict[str, Any], home: Path) -> None:
    assert data["method"] == "oauth"
    assert data["account"]["id"] == store.server.credentials.account_id
    assert data["account"]["test_account"] is True
    assert set(data["scopes"]) == set(all_required_scopes())
    assert data["missing_scopes"] == []
    assert data["stored_in"] == "keyring"
    facts = _connection_facts(home)
    assert facts["method"] == "oauth"
    assert facts["account_id"] == store.server.credentials.account_id
    assert facts["public_api_key"] == store.server.credentials.public_api_key
    assert {"account_name", "test_account", "scopes", "expires_at", "connected_at"} <= set(facts)
    assert _connections(home) == [("oauth", None)]


def _check_disconnected(
    store: Store, data: dict[str, Any], memory: MemoryKeyring, home: Path
) -> None:
    assert data["revocation"] == "revoked"
    assert [s["name"] for s in data["removed"]] == [f"{PROFILE}:oauth_tokens"]
    tokens = store.server.inspect()["tokens"]
    assert tokens["refresh"]["active"] == 0 and tokens["refresh"]["revoked"] >= 1
    assert all(grant["revoked"] for grant in tokens["grants"])
    assert memory.entries == {}
    [(method, ended)] = _connections(home)
    assert method == "oauth" and ended is not None
    assert "disconnected_at" in _connection_facts(home)


def test_connect_with_auto_consent(cli: Cli, tmp_path: Path) -> None:
    with store_profile(cli, tmp_path, auto_consent=True) as store:
        result = store.run("connect")
        assert result.exit_code == 0, result.stderr
        assert "connected to" in result.stderr
        assert store.run("status").exit_code == 0


def test_reconnecting_replaces_the_grant(store: Store, isolated_home: Path) -> None:
    assert store.run("connect").exit_code == 0
    assert store.run("connect").exit_code == 0
    history = _connections(isolated_home)
    assert len(history) == 2
    assert history[0][1] is not None and history[1][1] is None
    assert len(store.server.inspect()["tokens"]["grants"]) == 1


def test_a_refresh_after_revocation_says_reconnect(
    store: Store, memory_keyring: MemoryKeyring
) -> None:
    assert store.run("connect").exit_code == 0
    store.revoke(stored_tokens(memory_keyring)["refresh_token"])
    store.control("clock", {"advance_seconds": 7200})

    result = store.run("status")
    assert result.exit_code == 4
    assert "disconnected" in result.stderr
    assert f"joyctl --profile {PROFILE} connect" in result.stderr

    code, report = store.json("status")
    assert code == 4
    assert report["data"]["problem"]["code"] == "disconnected"
    assert report["data"]["fix"] == f"joyctl --profile {PROFILE} connect"


def test_a_forged_state_is_rejected(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring, isolated_home: Path
) -> None:
    browser = write_browser(tmp_path / "forger", "forge-state")
    result = store.run("connect", env={"BROWSER": str(browser)})
    assert result.exit_code == 4
    assert "state does not match" in result.stderr
    assert _nothing_stored(memory_keyring, isolated_home)


def test_a_wrong_pkce_verifier_is_rejected(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    memory_keyring: MemoryKeyring,
    isolated_home: Path,
) -> None:
    def mismatched() -> PkcePair:
        sent, kept = generate_pkce_pair(), generate_pkce_pair()
        return PkcePair(verifier=kept.verifier, challenge=code_challenge(sent.verifier))

    monkeypatch.setattr("joyctl.services.connection.connect.generate_pkce_pair", mismatched)
    result = store.run("connect")
    assert result.exit_code == 4
    assert "Code challenge failed" in result.stderr
    assert _nothing_stored(memory_keyring, isolated_home)


def test_denied_consent_stores_nothing(
    store: Store, tmp_path: Path, memory_keyring: MemoryKeyring, isolated_home: Path
) -> None:
    browser = write_browser(tmp_path / "denier", "deny")
    result = store.run("--json", "connect", env={"BROWSER": str(browser)})
    assert result.exit_code == 4
    assert '"oauth_denied"' in result.stdout
    assert _nothing_stored(memory_keyring, isolated_home)


def test_a_login_nobody_finishes_times_out(store: Store) -> None:
    started = time.monotonic()
    result = store.run("connect", "--no-browser", "--timeout", "1")
    assert time.monotonic() - started < 5
    assert result.exit_code == 4
    assert "not finished within 1 seconds" in result.stderr
    assert f"{store.server.base_url}/oauth/authorize?" in result.stderr
    assert "code_challenge_method=S256" in result.stderr


def test_paste_accepts_the_redirected_url(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []

    class PastingUser:
        """Reads the authorize URL joyctl printed, approves, pastes where it was sent."""

        def isatty(self) -> bool:
            return False

        def readline(self) -> str:
            answer = httpx.get(shown[-1])
            return str(answer.headers["location"]) + "\n"

    from joyctl.services.connection.oauth_login import AuthorizationRequest

    original = AuthorizationRequest.url

    def recording(self: AuthorizationRequest, redirect_uri: str) -> str:
        shown.append(original(self, redirect_uri))
        return shown[-1]

    monkeypatch.setattr(AuthorizationRequest, "url", recording)
    monkeypatch.setattr("sys.stdin", PastingUser())
    with store_profile(cli, tmp_path, browser=None, auto_consent=True) as store:
        result = store.run("connect", "--paste")
        assert result.exit_code == 0, result.stderr
        assert "paste the full address" in result.stderr
        assert store.run("status").exit_code == 0


def test_without_a_browser_or_terminal_it_fails_fast(store: Store, tmp_path: Path) -> None:
    broken = write_failing_browser(tmp_path / "broken")
    started = time.monotonic()
    result = store.run("connect", env={"BROWSER": str(broken)})
    assert time.monotonic() - started < 5
    assert result.exit_code == 2
    assert "--no-browser" in result.stderr and "--api-key-stdin" in result.stderr


def test_a_missing_client_secret_fails_fast_naming_the_variable(
    store: Store, memory_keyring: MemoryKeyring
) -> None:
    store.env.pop(envvars.CLIENT_SECRET)
    result = store.run("--no-input", "connect")
    assert result.exit_code == 4
    assert envvars.CLIENT_SECRET in result.stderr
    assert memory_keyring.entries == {}


def test_a_client_secret_from_stdin_is_kept_for_refreshing(
    store: Store, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    secret = store.env.pop(envvars.CLIENT_SECRET)
    monkeypatch.setattr("sys.stdin", io.StringIO(secret + "\n"))
    assert store.run("connect", "--client-secret-stdin").exit_code == 0
    assert keyring_entry(memory_keyring, f"{PROFILE}:client_secret") == secret

    store.control("clock", {"advance_seconds": 7200})
    code, status = store.json("status")
    assert code == 0, status
    assert status["data"]["token"]["refreshed"] is True


def test_a_token_url_on_www_is_refused(cli: Cli) -> None:
    added = cli(
        "profiles",
        "add",
        "real",
        "--client-id",
        "abc",
        "--token-url",
        "https://www.klaviyo.com/oauth/token",
    )
    assert added.exit_code == 0
    result = cli("--profile", "real", "connect", env={envvars.CLIENT_SECRET: "s3cret-value"})
    assert result.exit_code == 2
    assert "www.klaviyo.com" in result.stderr
    assert "a.klaviyo.com" in result.stderr


def test_a_profile_without_client_id_says_how_to_set_it(cli: Cli) -> None:
    assert cli("profiles", "add", "bare").exit_code == 0
    result = cli("--profile", "bare", "connect")
    assert result.exit_code == 2
    assert "config set client_id" in result.stderr
