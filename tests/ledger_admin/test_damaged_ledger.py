"""A damaged ledger, through the real boundary: a clear error for every command, verify, restore.

Each kind of damage is made to a real ledger file the way it happens outside joyctl: a file
overwritten with other bytes, a copy cut short, a file emptied, a table or trigger dropped (or
replaced by one that does nothing) with another SQLite tool, a page overwritten on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from joyctl import envvars
from tests.conftest import Cli, Result

CUSTOMERS = "email,points\nann@example.com,120\nbob@example.com,30\n"


def _ledger(home: Path) -> Path:
    return home / "data" / "profiles" / "shop" / "ledger.sqlite3"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: a home whose store profile has two customers, and a good backup of it."""
    root = tmp_path_factory.mktemp("store")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JOYCTL_") and k != "CI"}
    cli = Cli({**environ, envvars.HOME: str(root / "home")})
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    assert cli("profiles", "use", "shop").exit_code == 0
    source = root / "customers.csv"
    source.write_text(CUSTOMERS, encoding="utf-8")
    assert cli("ledger", "import", str(source)).exit_code == 0
    assert cli("ledger", "backup", str(root / "good.sqlite3")).exit_code == 0
    return root


@pytest.fixture
def backup(store: Path, isolated_home: Path, tmp_path: Path) -> Path:
    """This test's copy of the store, and of its good backup."""
    shutil.copytree(store / "home", isolated_home)
    shutil.copy(store / "customers.csv", tmp_path / "customers.csv")
    target = tmp_path / "backups" / "good.sqlite3"
    target.parent.mkdir()
    shutil.copy(store / "good.sqlite3", target)
    return target


def _sql(path: Path, *statements: str) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        for statement in statements:
            connection.execute(statement)


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def _truncated(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 3)


def _emptied(path: Path) -> None:
    path.write_bytes(b"")


def _dropped_table(path: Path) -> None:
    _sql(path, "DROP TABLE audience_members")


def _dropped_trigger(path: Path) -> None:
    _sql(path, "DROP TRIGGER point_entries_no_update")


def _replaced_trigger(path: Path) -> None:
    _sql(
        path,
        "DROP TRIGGER point_entries_no_delete",
        "CREATE TRIGGER point_entries_no_delete BEFORE DELETE ON point_entries BEGIN SELECT 1; END",
    )


def _overwritten_page(path: Path) -> None:
    """The first page of the point entries' table, overwritten: the schema still reads."""
    with closing(sqlite3.connect(path)) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'point_entries'"
        ).fetchone()[0]
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xa5" * page_size)


# Each damage, and the check `ledger verify` fails on.
DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage": (_garbage, "file"),
    "truncated": (_truncated, "file_integrity"),
    "zero_bytes": (_emptied, "file"),
    "dropped_table": (_dropped_table, "schema"),
    "dropped_trigger": (_dropped_trigger, "schema"),
    "replaced_trigger": (_replaced_trigger, "schema"),
    "overwritten_page": (_overwritten_page, "file_integrity"),
}

# Commands that open the ledger, with what they need; none must call its damage a bug.
COMMANDS: list[tuple[str, ...]] = [
    ("ledger", "balance", "ann@example.com"),
    ("ledger", "history", "ann@example.com"),
    ("ledger", "adjust", "ann@example.com", "5", "--reason", "goodwill"),
    ("ledger", "export"),
    ("ledger", "backup", "{tmp}/copy.sqlite3"),
    ("ledger", "import", "{tmp}/customers.csv"),
    ("program", "show"),
    ("program", "history"),
    ("reviews", "list"),
    ("audiences", "list"),
    ("backfill", "status"),
    ("webhooks", "replay"),
]
# The overwritten page is met only by commands that read point entries.
READS_ENTRIES = {command for command in COMMANDS if command[0] == "ledger"}


def _damage(home: Path, kind: str) -> Path:
    path = _ledger(home)
    DAMAGE[kind][0](path)
    return path


def _assert_damage_error(result: Result, path: Path) -> None:
    shown = f"exit {result.exit_code}\n{result.stderr}{result.stdout}"
    assert result.exit_code == 3, shown
    assert "internal error" not in result.stderr, shown
    assert "Traceback" not in result.stderr, shown
    error, hint = result.stderr.splitlines()
    assert error.startswith(f"error: the ledger {path} is damaged: "), shown
    assert hint.startswith("hint: ") and "joyctl ledger restore FILE" in hint, shown
    # An empty file needs no diagnosis: its hint says how to start anew instead.
    assert "joyctl ledger verify" in hint or "delete the empty file" in hint, shown


@pytest.mark.parametrize("kind", sorted(DAMAGE))
@pytest.mark.parametrize("command", COMMANDS, ids=lambda args: " ".join(args[:2]))
def test_every_command_names_the_damaged_file_and_the_fix(
    cli: Cli, backup: Path, isolated_home: Path, tmp_path: Path, kind: str, command: tuple[str, ...]
) -> None:
    if kind == "overwritten_page" and command not in READS_ENTRIES:
        pytest.skip("this command never reads the overwritten page")
    path = _damage(isolated_home, kind)
    before = path.read_bytes()
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in command]
    _assert_damage_error(cli(*args), path)
    assert path.read_bytes() == before  # never re-created, never migrated on top
    assert not (tmp_path / "copy.sqlite3").exists()


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damage_under_json_is_an_envelope_with_an_empty_stderr(
    cli: Cli, backup: Path, isolated_home: Path, kind: str
) -> None:
    path = _damage(isolated_home, kind)
    result = cli("--json", "ledger", "history", "ann@example.com")
    assert (result.exit_code, result.stderr) == (3, "")
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "ledger_damaged"
    assert error["message"].startswith(f"the ledger {path} is damaged: ")
    assert "joyctl ledger restore FILE" in error["hint"]


def test_backup_of_a_damaged_ledger_says_the_copy_would_keep_the_damage(
    cli: Cli, backup: Path, isolated_home: Path, tmp_path: Path
) -> None:
    _damage(isolated_home, "overwritten_page")
    result = cli("ledger", "backup", str(tmp_path / "copy.sqlite3"))
    _assert_damage_error(result, _ledger(isolated_home))
    assert "a backup would copy the damage: database disk image is malformed" in result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".copy")] == []


def test_a_zero_byte_ledger_is_refused_with_the_fix_not_recreated(
    cli: Cli, backup: Path, isolated_home: Path
) -> None:
    path = _damage(isolated_home, "zero_bytes")
    result = cli("ledger", "balance", "ann@example.com")
    assert result.exit_code == 3
    assert f"the ledger {path} is damaged: the file is empty (0 bytes)" in result.stderr
    assert "delete the empty file to start a new, empty ledger" in result.stderr
    assert path.stat().st_size == 0
    path.unlink()  # the fix: a new, empty ledger
    assert cli("ledger", "verify").exit_code == 0


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_verify_exits_6_and_says_what_is_wrong(
    cli: Cli, backup: Path, isolated_home: Path, kind: str
) -> None:
    path = _damage(isolated_home, kind)
    human = cli("ledger", "verify")
    assert human.exit_code == 6, human.stderr
    assert "internal error" not in human.stderr
    failing = DAMAGE[kind][1]
    assert f"\n{failing}\tFAIL\t" in human.stdout
    error, hint = human.stderr.splitlines()
    assert error.startswith(f"error: the ledger {path} is damaged: {failing}: ")
    assert "joyctl ledger restore FILE" in hint
    machine = cli("--json", "ledger", "verify")
    assert (machine.exit_code, machine.stderr) == (6, "")
    data = json.loads(machine.stdout)["data"]
    assert (data["ok"], data["damaged"], data["file"]) == (False, True, str(path))
    assert failing in [check["name"] for check in data["checks"] if check["count"]]


def test_verify_skips_the_invariants_of_a_file_it_cannot_read(
    cli: Cli, backup: Path, isolated_home: Path
) -> None:
    _damage(isolated_home, "garbage")
    checks = json.loads(cli("--json", "ledger", "verify").stdout)["data"]["checks"]
    assert checks[0]["name"] == "file" and checks[0]["count"] == 1
    assert {check["skipped"] for check in checks[1:]} == {"the file cannot be opened"}
    assert all(not check["ok"] for check in checks)


def test_verify_of_a_sound_ledger_runs_the_full_integrity_check(
    cli: Cli, backup: Path, isolated_home: Path
) -> None:
    data = json.loads(cli("--json", "ledger", "verify").stdout)["data"]
    assert (data["ok"], data["damaged"], data["violations"]) == (True, False, 0)
    names = [check["name"] for check in data["checks"]]
    assert names[:3] == ["file", "file_integrity", "schema"]
    assert "balance_chain" in names and "append_only" in names
    # Verify changes nothing and leaves no log files behind.
    assert sorted(p.name for p in _ledger(isolated_home).parent.iterdir()) == ["ledger.sqlite3"]


# --- restore -----------------------------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _folder(home: Path) -> list[str]:
    return sorted(p.name for p in _ledger(home).parent.iterdir())


def _balance(cli: Cli, email: str = "ann@example.com") -> int:
    result = cli("--json", "ledger", "balance", email)
    assert result.exit_code == 0, result.stdout
    balance: int = json.loads(result.stdout)["data"]["balance"]
    return balance


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_restore_brings_the_data_back_and_keeps_the_damaged_file_aside(
    cli: Cli, backup: Path, isolated_home: Path, kind: str
) -> None:
    path = _damage(isolated_home, kind)
    damaged = _digest(path)
    result = cli("--json", "ledger", "restore", str(backup), "--yes")
    assert (result.exit_code, result.stderr) == (0, "")
    data = json.loads(result.stdout)["data"]
    assert (data["current"], data["customers"], data["entries"]) == ("damaged", 2, 2)
    aside = Path(data["kept_as"])
    assert aside.parent == path.parent
    assert aside.name.startswith("ledger.sqlite3.damaged-")
    assert _digest(aside) == damaged
    assert stat.S_IMODE(aside.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _folder(isolated_home) == sorted(["ledger.sqlite3", aside.name])
    assert _balance(cli) == 120
    assert cli("ledger", "verify").exit_code == 0


def test_restore_moves_the_damaged_files_log_aside_with_it(
    cli: Cli, backup: Path, isolated_home: Path
) -> None:
    path = _damage(isolated_home, "garbage")
    log = path.with_name("ledger.sqlite3-wal")
    log.write_bytes(b"the damaged file's own log")
    result = cli("--json", "ledger", "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.stdout
    aside = Path(json.loads(result.stdout)["data"]["kept_as"])
    assert aside.with_name(aside.name + "-wal").read_bytes() == b"the damaged file's own log"
    assert not log.exists() or log.read_bytes() != b"the damaged file's own log"
    assert _balance(cli) == 120


def test_restore_over_a_sound_ledger_keeps_it_as_replaced(
    cli: Cli, backup: Path, isolated_home: Path
) -> None:
    assert cli("ledger", "adjust", "ann@example.com", "-20", "--reason", "later").exit_code == 0
    result = cli("ledger", "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.stderr
    assert "the previous file is kept as" in result.stderr
    [aside] = [name for name in _folder(isolated_home) if name != "ledger.sqlite3"]
    assert aside.startswith("ledger.sqlite3.replaced-")
    assert _balance(cli) == 120
    with closing(sqlite3.connect(_ledger(isolated_home).with_name(aside))) as kept:
        assert kept.execute("SELECT count(*) FROM point_entries").fetchone()[0] == 3


def test_restore_into_a_profile_without_a_ledger(
    cli: Cli, backup: Path, isolated_home: Path
) -> None:
    _ledger(isolated_home).unlink()
    data = json.loads(cli("--json", "ledger", "restore", str(backup), "--yes").stdout)["data"]
    assert (data["current"], data["kept_as"]) == ("missing", None)
    assert _folder(isolated_home) == ["ledger.sqlite3"]
    assert _balance(cli, "bob@example.com") == 30


def _backup_breaking_an_invariant(path: Path) -> None:
    _sql(path, "DROP TRIGGER point_entries_no_update")
    _sql(path, "UPDATE point_entries SET balance_after = 7 WHERE id = 1")
    _sql(
        path,
        "CREATE TRIGGER point_entries_no_update BEFORE UPDATE ON point_entries\n"
        "BEGIN SELECT RAISE(ABORT, 'point entries are append-only'); END",
    )


def _not_a_ledger(path: Path) -> None:
    path.unlink()
    _sql(path, "CREATE TABLE notes (text TEXT)", "INSERT INTO notes VALUES ('hello')")


BAD_BACKUPS: dict[str, tuple[Callable[[Path], None], str]] = {
    "garbage": (_garbage, "the file is not a SQLite database"),
    "zero_bytes": (_emptied, "the file is empty (0 bytes)"),
    "truncated": (_truncated, "database disk image is malformed"),
    "dropped_trigger": (_dropped_trigger, "schema: trigger point_entries_no_update is missing"),
    "not_a_ledger": (_not_a_ledger, "schema: it has no schema_migrations table"),
    "broken_invariant": (_backup_breaking_an_invariant, "balance_chain: entry 1 says 7"),
}


@pytest.mark.parametrize("kind", sorted(BAD_BACKUPS))
def test_restore_refuses_a_bad_backup_and_changes_nothing(
    cli: Cli, backup: Path, isolated_home: Path, kind: str
) -> None:
    spoil, reason = BAD_BACKUPS[kind]
    spoil(backup)
    before = _digest(_ledger(isolated_home))
    result = cli("ledger", "restore", str(backup), "--yes")
    assert result.exit_code == 3, result.stderr
    assert "internal error" not in result.stderr
    error, hint = result.stderr.splitlines()
    assert error.startswith(f"error: {backup} is not a sound joyctl ledger backup: "), error
    assert reason in error
    assert "nothing was changed" in hint
    assert _digest(_ledger(isolated_home)) == before
    assert _folder(isolated_home) == ["ledger.sqlite3"]


def test_restore_needs_yes_without_a_terminal(cli: Cli, backup: Path, isolated_home: Path) -> None:
    _damage(isolated_home, "garbage")
    before = _digest(_ledger(isolated_home))
    for env in ({envvars.NO_INPUT: "1"}, {"CI": "true"}):
        result = cli("ledger", "restore", str(backup), env=env)
        assert result.exit_code == 2
        assert "without confirmation" in result.stderr and "--yes" in result.stderr
    assert _digest(_ledger(isolated_home)) == before
    assert _folder(isolated_home) == ["ledger.sqlite3"]


def test_restore_refuses_a_missing_backup_and_the_ledger_itself(
    cli: Cli, backup: Path, isolated_home: Path, tmp_path: Path
) -> None:
    missing = cli("ledger", "restore", str(tmp_path / "nowhere.sqlite3"), "--yes")
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr
    itself = cli("ledger", "restore", str(_ledger(isolated_home)), "--yes")
    assert itself.exit_code == 2
    assert "is the ledger itself" in itself.stderr


# Another process with the ledger open (as `webhooks listen` keeps it), until stdin closes.
HOLD_OPEN = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("SELECT count(*) FROM customers").fetchone()
print("open", flush=True)
sys.stdin.read()
"""


def test_restore_refuses_a_ledger_another_process_has_open(
    cli: Cli, backup: Path, isolated_home: Path
) -> None:
    path = _ledger(isolated_home)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        result = cli("ledger", "restore", str(backup), "--yes")
    finally:
        holder.communicate("")
    assert result.exit_code == 2
    assert f"the ledger {path} is in use by another joyctl process" in result.stderr
    assert _folder(isolated_home) == ["ledger.sqlite3"]


def test_a_real_process_reports_damage_without_a_traceback(
    backup: Path, isolated_home: Path
) -> None:
    path = _damage(isolated_home, "overwritten_page")
    env = {**os.environ, envvars.HOME: str(isolated_home)}
    finished = subprocess.run(
        [sys.executable, "-m", "joyctl", "ledger", "history", "ann@example.com"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 3
    assert finished.stderr.startswith(f"error: the ledger {path} is damaged: ")
    assert "Traceback" not in finished.stderr
