"""Every file joyctl writes is the user's alone: 0600 files in 0700 folders, whatever the umask.

The commands run as real processes with the usual umask 022, so nothing here depends on the
mode the test runner happens to have.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _joyctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "joyctl", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # JOYCTL_HOME is the test's own (conftest)
        umask=0o022,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _run(expected: int, *args: str) -> None:
    finished = _joyctl(*args)
    assert finished.returncode == expected, f"joyctl {' '.join(args)}\n{finished.stderr}"


def _modes(root: Path) -> dict[str, str]:
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in sorted(root.rglob("*")):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.stat().st_mode))
    return found


def test_a_fresh_home_after_a_day_of_commands_is_private(
    isolated_home: Path, tmp_path: Path
) -> None:
    assert not isolated_home.exists()
    bad = tmp_path / "customers.csv"
    bad.write_text("email,points\nann@example.com,5\nnot-an-email,1\n", encoding="utf-8")
    _run(0, "-p", "sandbox", "diagnose", "--fix", "--yes")
    backup = str(isolated_home / "backups" / "ledger.sqlite3")
    _run(0, "-p", "sandbox", "ledger", "export", "-o", str(isolated_home / "exports/all.csv"))
    _run(0, "-p", "sandbox", "ledger", "backup", backup)
    (isolated_home / "bundles").mkdir(mode=0o700)  # --bundle creates no folder unasked
    _run(0, "-p", "sandbox", "diagnose", "--bundle", str(isolated_home / "bundles/d.tar.gz"))
    quarantine = str(isolated_home / "quarantine" / "customers.jsonl")
    _run(7, "-p", "sandbox", "ledger", "import", str(bad), "--quarantine", quarantine)
    _run(0, "-p", "sandbox", "ledger", "restore", backup, "--yes")
    _run(0, "profiles", "add", "shop", "--base-url", "http://127.0.0.1:9")
    _run(0, "-p", "shop", "ledger", "verify")

    modes = _modes(isolated_home)
    expected_files = {
        "config/config.toml",
        "data/profiles/sandbox/ledger.sqlite3",
        "data/profiles/sandbox/emulator-secrets.json",
        "data/profiles/sandbox/sandbox-state.json",
        "data/profiles/shop/ledger.sqlite3",
        "exports/all.csv",
        "backups/ledger.sqlite3",
        "bundles/d.tar.gz",
        "quarantine/customers.jsonl",
    }
    assert expected_files <= set(modes)
    assert any(name.startswith("data/profiles/sandbox/ledger.sqlite3.replaced-") for name in modes)
    loose = {
        name: mode
        for name, mode in modes.items()
        if mode != ("0o700" if (isolated_home / name).is_dir() else "0o600")
    }
    assert loose == {}


def test_joyctls_own_folders_are_tightened_a_chosen_folder_is_not(
    isolated_home: Path, tmp_path: Path
) -> None:
    """What an older joyctl left open to everyone is closed; the user's own folder is theirs."""
    profile = isolated_home / "data" / "profiles" / "shop"
    profile.mkdir(parents=True, mode=0o755)
    (isolated_home / "config").mkdir(mode=0o755)
    for folder in (isolated_home, isolated_home / "data", profile.parent, profile):
        folder.chmod(0o755)
    (isolated_home / "config").chmod(0o755)
    _run(0, "profiles", "add", "shop", "--base-url", "http://127.0.0.1:9")
    _run(0, "-p", "shop", "ledger", "verify")
    ledger = profile / "ledger.sqlite3"
    ledger.chmod(0o644)
    chosen = tmp_path / "shared-exports"
    chosen.mkdir(mode=0o755)
    chosen.chmod(0o755)
    _run(0, "-p", "shop", "ledger", "export", "-o", str(chosen / "customers.csv"))

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(ledger) == 0o600
    for own in (isolated_home / "config", isolated_home / "data", profile.parent, profile):
        assert mode(own) == 0o700, own
    assert mode(isolated_home) == 0o755  # JOYCTL_HOME is the user's choice
    assert mode(chosen) == 0o755
    assert mode(chosen / "customers.csv") == 0o600
