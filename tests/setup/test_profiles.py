"""`joyctl profiles`: the built-in sandbox profile, add, use, remove (never losing a ledger)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli


def _names(cli: Cli) -> list[str]:
    result = cli("--json", "profiles", "list")
    assert result.exit_code == 0
    return [p["name"] for p in json.loads(result.stdout)["data"]]


def test_sandbox_is_always_listed(cli: Cli) -> None:
    assert _names(cli) == ["sandbox"]
    assert cli("profiles", "add", "shop").exit_code == 0
    assert _names(cli) == ["sandbox", "shop"]


def test_add_twice_is_refused(cli: Cli) -> None:
    assert cli("profiles", "add", "shop").exit_code == 0
    again = cli("profiles", "add", "shop")
    assert again.exit_code == 2
    assert "exists already" in again.stderr


def test_bad_names_and_urls_are_refused(cli: Cli) -> None:
    assert cli("profiles", "add", "no/slash").exit_code == 2
    bad_url = cli("profiles", "add", "shop", "--base-url", "ftp://x")
    assert bad_url.exit_code == 2
    assert "not an http(s) URL" in bad_url.stderr


def test_remove_without_yes_and_without_a_terminal_fails_fast(cli: Cli) -> None:
    assert cli("profiles", "add", "shop").exit_code == 0
    result = cli("profiles", "remove", "shop")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert "shop" in _names(cli)


def test_remove_keeps_the_ledger_unless_asked(cli: Cli, isolated_home: Path) -> None:
    assert cli("profiles", "add", "shop").exit_code == 0
    assert cli("-p", "shop", "ledger", "backup", str(isolated_home / "b.db")).exit_code == 0
    ledger = isolated_home / "data" / "profiles" / "shop" / "ledger.sqlite3"
    assert ledger.exists()
    removed = cli("profiles", "remove", "shop", "--yes")
    assert removed.exit_code == 0
    assert "kept" in removed.stderr
    assert ledger.exists()
    assert "shop" not in _names(cli)


def test_remove_with_delete_ledger(cli: Cli, isolated_home: Path) -> None:
    assert cli("profiles", "add", "shop").exit_code == 0
    assert cli("-p", "shop", "ledger", "backup", str(isolated_home / "b.db")).exit_code == 0
    result = cli("profiles", "remove", "shop", "--yes", "--delete-ledger")
    assert result.exit_code == 0
    assert not (isolated_home / "data" / "profiles" / "shop").exists()


def test_sandbox_cannot_be_removed(cli: Cli) -> None:
    result = cli("profiles", "remove", "sandbox", "--yes")
    assert result.exit_code == 2
    assert "cannot be removed" in result.stderr


def test_removing_the_default_profile_falls_back_to_sandbox(cli: Cli) -> None:
    assert cli("profiles", "add", "shop").exit_code == 0
    assert cli("profiles", "use", "shop").exit_code == 0
    assert cli("profiles", "remove", "shop", "--yes").exit_code == 0
    listed = json.loads(cli("--json", "profiles", "list").stdout)["data"]
    assert [p["name"] for p in listed if p["active"]] == ["sandbox"]
