"""`joyctl ledger path|backup`: where the ledger is, and a consistent copy of it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pydantic import BaseModel

from joyctl.errors import UsageError
from joyctl.ledger.db import copy_into
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
    connection: sqlite3.Connection, source: Path, target: Path, *, force: bool
) -> LedgerBackup:
    """A consistent, compact copy, taken while other processes keep writing."""
    if target.exists():
        if not force:
            raise UsageError(f"{target} exists already", hint="pass --force to replace it")
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    copy_into(connection, target)
    version = schema_version(connection)
    return LedgerBackup(
        source=str(source), backup=str(target), bytes=target.stat().st_size, schema_version=version
    )
