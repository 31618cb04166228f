"""`joyctl ledger restore FILE`: put a verified backup in the ledger's place, keeping the old file.

The backup is copied beside the ledger first and that copy is verified (the file, SQLite's
integrity check, the schema, every invariant), so what is installed is exactly what passed. The
current file, damaged or not, is kept aside as `ledger.sqlite3.damaged-TIMESTAMP` (or
`.replaced-` when it was sound) together with its write-ahead log, and the copy takes its place
in one rename: at every moment the ledger's path names a whole file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.errors import DataError, UsageError
from joyctl.ledger.copies import contents, copy_database, leave_wal_mode, quick_check
from joyctl.ledger.db import (
    SIDE_FILES,
    connect_read_only,
    open_ledger,
    side_file,
    staged_beside,
)
from joyctl.ledger.health import (
    UNREADABLE,
    describe,
    file_problem,
    structure_problems,
    summarize,
)
from joyctl.ledger.verify import verify_file
from joyctl.paths import PRIVATE_FILE_MODE, make_private_folder, restrict_to_owner

LedgerState = Literal["missing", "damaged", "sound"]
# How long to wait for other processes to let go of the ledger before saying it is in use.
IN_USE_WAIT_MS = 2_000


class RestorePlan(BaseModel):
    """What restore is about to do; shown for confirmation before anything changes."""

    ledger: str
    backup: str
    current: LedgerState
    current_problems: list[str]
    kept_as: str | None
    customers: int
    entries: int
    schema_version: int


class RestoreResult(RestorePlan):
    restored_at: str


def restore_ledger(
    ledger: Path, backup: Path, *, confirm: Callable[[RestorePlan], None]
) -> RestoreResult:
    """Verify `backup`, let `confirm` see the plan (it raises to cancel), then swap the files."""
    _check_backup_path(ledger, backup)
    make_private_folder(ledger.parent)
    with staged_beside(ledger, ".restore") as staged:
        counts = _stage(backup, staged)
        state, problems = _current_state(ledger)
        aside = _aside_name(ledger, state)
        plan = RestorePlan(
            ledger=str(ledger),
            backup=str(backup),
            current=state,
            current_problems=problems,
            kept_as=str(aside) if aside is not None else None,
            **counts,
        )
        confirm(plan)
        if state == "sound":
            _settle(ledger)
        _swap(staged, ledger, aside)
    open_ledger(ledger).close()  # brings an older backup's schema up to date
    return RestoreResult(**plan.model_dump(), restored_at=datetime.now(UTC).isoformat())


def _check_backup_path(ledger: Path, backup: Path) -> None:
    if not backup.is_file():
        what = "does not exist" if not backup.exists() else "is not a file"
        raise UsageError(f"{backup} {what}", hint=_written_by_backup())
    if ledger.exists() and backup.resolve() == ledger.resolve():
        raise UsageError(f"{backup} is the ledger itself", hint=_written_by_backup())


def _written_by_backup() -> str:
    return f"give a file written by `{command('ledger', 'backup')}`"


def _stage(backup: Path, staged: Path) -> dict[str, int]:
    """Copy the backup through SQLite (its own log included), then verify the copy."""
    problem = file_problem(backup)
    if problem is not None:
        raise _bad_backup(backup, [problem])
    try:
        copy_database(backup, staged)
    except UNREADABLE as exc:
        raise _bad_backup(backup, [describe(exc)]) from None
    failed = [
        f"{check.name}: {detail}"
        for check in verify_file(staged, require_ledger=True)
        if not check.ok
        for detail in ([e.detail for e in check.examples] or [check.skipped or "failed"])
    ]
    if failed:
        raise _bad_backup(backup, failed)
    customers, entries, version = contents(staged)
    return {"customers": customers, "entries": entries, "schema_version": version}


def _bad_backup(backup: Path, problems: list[str]) -> DataError:
    return DataError(
        f"{backup} is not a sound joyctl ledger backup: {summarize(problems)}",
        hint=f"nothing was changed; choose another backup (`{command('ledger', 'verify')}` shows"
        " what is wrong with the ledger itself)",
    )


def _current_state(ledger: Path) -> tuple[LedgerState, list[str]]:
    """Whether the ledger in place opens as a sound file (the cheap checks and a quick check)."""
    if not ledger.exists():
        return "missing", []
    problem = file_problem(ledger)
    if problem is not None:
        return "damaged", [problem]
    try:
        with contextlib.closing(connect_read_only(ledger, own=True)) as connection:
            problems = structure_problems(connection, require_ledger=True)
            # The quick check: enough to name the file kept aside; `verify` runs the full one.
            problems += quick_check(connection)
    except (*UNREADABLE, DataError) as exc:
        problems = [describe(exc)]
    return ("damaged" if problems else "sound"), problems


def _aside_name(ledger: Path, state: LedgerState) -> Path | None:
    if state == "missing":
        return None
    label = "damaged" if state == "damaged" else "replaced"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = ledger.with_name(f"{ledger.name}.{label}-{stamp}")
    number = 1
    while candidate.exists():
        number += 1
        candidate = ledger.with_name(f"{ledger.name}.{label}-{stamp}-{number}")
    return candidate


def _settle(ledger: Path) -> None:
    """Fold the write-ahead log into the file, which also proves no other process has it open.

    Leaving WAL mode needs the only connection to the file; a `webhooks listen` or a backfill
    still writing would otherwise keep writing to the file kept aside.
    """
    if leave_wal_mode(ledger, IN_USE_WAIT_MS / 1000) != "delete":
        raise UsageError(
            f"the ledger {ledger} is in use by another joyctl process",
            hint="stop it (a `webhooks listen`, a backfill) and run the restore again",
        )


def _swap(staged: Path, ledger: Path, aside: Path | None) -> None:
    """Keep the current file (and its logs) as `aside`, then rename the copy into place."""
    restrict_to_owner(staged, PRIVATE_FILE_MODE, always=True)
    if aside is not None:
        for suffix in SIDE_FILES:
            # A log left beside the new file would be replayed into it; beside the old one it
            # still belongs to it.
            with contextlib.suppress(FileNotFoundError):
                os.replace(side_file(ledger, suffix), side_file(aside, suffix))
        try:
            os.link(ledger, aside)  # the ledger's path keeps naming a whole file throughout
        except OSError:
            os.replace(ledger, aside)
        restrict_to_owner(aside, PRIVATE_FILE_MODE, always=True)
    os.replace(staged, ledger)
