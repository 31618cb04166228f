"""No secret ends up anywhere joyctl writes: files, JSON output, `--debug` logs, messages."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.conftest import Cli, Result
from tests.connection.support import PROFILE, files_under, store_profile, stored_tokens
from tests.credentials.memory_keyring import MemoryKeyring


def test_secrets_appear_in_nothing_joyctl_wrote(
    cli: Cli,
    tmp_path: Path,
    isolated_home: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outputs: list[Result] = []
    secrets: set[str] = set()
    with store_profile(cli, tmp_path / "browser") as store:
        private_key = store.server.credentials.private_key
        secrets |= {private_key, store.client_secret}

        def run(*args: str) -> None:
            outputs.append(store.run("--debug", *args))
            outputs.append(store.run("--debug", "--json", *args))

        run("connect")
        tokens = stored_tokens(memory_keyring)
        secrets |= {tokens["access_token"], tokens["refresh_token"]}
        store.control("clock", {"advance_seconds": 7200})
        run("status")  # refreshes: a new access token
        secrets.add(stored_tokens(memory_keyring)["access_token"])
        run("disconnect")

        monkeypatch.setattr("sys.stdin", io.StringIO(private_key))
        outputs.append(store.run("--debug", "--json", "connect", "--api-key-stdin"))
        run("status")
        outputs.append(store.run("--debug", "connect", "--api-key-stdin"))  # stdin is used up

    assert all(len(secret) >= 16 for secret in secrets)
    assert "--> POST" in "".join(r.stderr for r in outputs), "the debug log was not produced"
    assert _leaks(secrets, outputs, isolated_home) == []
    assert f"{PROFILE}:api_key" in "".join(r.stdout for r in outputs)  # names are fine


def _leaks(secrets: set[str], outputs: list[Result], home: Path) -> list[tuple[str, str]]:
    """Where any secret shows up (by its first characters): outputs, then every file."""
    written = {str(path): path.read_bytes() for path in files_under(home)}
    assert any(path.endswith("ledger.sqlite3") for path in written)
    assert any(path.endswith("config.toml") for path in written)
    texts = {f"output {i}": r.stdout + r.stderr for i, r in enumerate(outputs)}
    texts |= {path: data.decode("utf-8", "replace") for path, data in written.items()}
    return [
        (where, secret[:6]) for where, text in texts.items() for secret in secrets if secret in text
    ]
