"""Program versions: every change to a program's settings, kept with its time.

The ledger stores settings as JSON and knows nothing of their meaning; the services layer turns
them into the engine's program model. The latest row of a program is its current settings.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ProgramVersion:
    id: int
    program: str
    settings: dict[str, Any]
    changed_keys: list[str]
    changed_at: str


def record_program_version(
    connection: sqlite3.Connection,
    program: str,
    settings: Mapping[str, Any],
    changed_keys: Sequence[str],
    *,
    changed_at: datetime | None = None,
) -> ProgramVersion:
    """Append a version; `settings` must be JSON-ready (the full settings, not only changes)."""
    stamp = (changed_at or datetime.now(UTC)).astimezone(UTC).isoformat()
    row = connection.execute(
        "INSERT INTO program_versions (program, settings, changed_keys, changed_at)"
        " VALUES (?, ?, ?, ?) RETURNING id, program, settings, changed_keys, changed_at",
        (program, json.dumps(dict(settings)), json.dumps(list(changed_keys)), stamp),
    ).fetchone()
    return _version_from_row(row)


def latest_program_version(connection: sqlite3.Connection, program: str) -> ProgramVersion | None:
    row = connection.execute(
        "SELECT id, program, settings, changed_keys, changed_at FROM program_versions"
        " WHERE program = ? ORDER BY id DESC LIMIT 1",
        (program,),
    ).fetchone()
    return None if row is None else _version_from_row(row)


def program_versions(
    connection: sqlite3.Connection, program: str, *, limit: int = 50
) -> list[ProgramVersion]:
    """The program's versions, newest first."""
    rows = connection.execute(
        "SELECT id, program, settings, changed_keys, changed_at FROM program_versions"
        " WHERE program = ? ORDER BY id DESC LIMIT ?",
        (program, limit),
    )
    return [_version_from_row(row) for row in rows]


def _version_from_row(row: sqlite3.Row) -> ProgramVersion:
    return ProgramVersion(
        id=row[0],
        program=row[1],
        settings=json.loads(row[2]),
        changed_keys=json.loads(row[3]),
        changed_at=row[4],
    )
