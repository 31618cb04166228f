"""`joyctl ledger path|backup`: where the ledger is, and a consistent copy of it."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.errors import UsageError
from joyctl.ledger.db import copy_into, staged_beside
from joyctl.ledger.health import DamagedLedgerError, describe, is_damage, summarize
from joyctl.ledger.migrations import schema_version


class LedgerLocation(BaseModel):
    profile: str
    path: str
    exists: bool


class LedgerBackup(BaseModel):
    source: str
    backup: str
    bytes: int
    schema_version: int


def ledger_location(profile: str, path: Path) -> LedgerLocation:
    return LedgerLocation(profile=profile, path=str(path), exists=path.exists())


def backup_ledger(
    ledger: Callable[[], sqlite3.Connection], source: Path, target: Path, *, force: bool
) -> LedgerBackup:
    """A consistent, compact copy (mode 0600), taken while other processes keep writing.

    `ledger` opens the source. A damaged source is refused: its copy would keep the damage, or
    stop half-way at the first page SQLite cannot read.
    """
    if target.exists() and not force:
        raise UsageError(f"{target} exists already", hint="pass --force to replace it")
    try:
        connection = ledger()
        version = schema_version(connection)
        size = _copy_privately(connection, target)
    except DamagedLedgerError as exc:
        raise _cannot_back_up(source, exc.problems) from None
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        raise _cannot_back_up(source, [describe(exc)]) from None
    return LedgerBackup(source=str(source), backup=str(target), bytes=size, schema_version=version)


def _copy_privately(connection: sqlite3.Connection, target: Path) -> int:
    """Written beside the target and renamed: a failure leaves no half copy, nor a lost old one.

    VACUUM INTO accepts an empty file, so the copy is born 0600 instead of with the umask's mode.
    """
    with staged_beside(target, ".tmp") as staged:
        copy_into(connection, staged)
        os.replace(staged, target)
    return target.stat().st_size


def _cannot_back_up(source: Path, problems: list[str]) -> DamagedLedgerError:
    return DamagedLedgerError(
        source,
        [f"a backup would copy the damage: {summarize(problems)}"],
        hint=f"see what is wrong with `{command('ledger', 'verify')}`; put an earlier backup back"
        f" with `{command('ledger', 'restore', 'FILE')}`; to keep the damaged file as it is, copy"
        " it with cp",
    )
