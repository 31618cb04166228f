"""Connection history: one row per `joyctl connect`, closed by the next connect or a disconnect.

Only facts about the account and the grant are kept here, never a credential. At most one row
is open (no `disconnected_at`) at a time: recording a connection closes the previous one in the
same transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from joyctl.ledger.db import transaction


@dataclass(frozen=True, slots=True)
class ConnectionRow:
    id: int
    account_id: str
    account_name: str | None
    method: str
    scopes: tuple[str, ...]
    connected_at: str
    disconnected_at: str | None


def record_connection(
    connection: sqlite3.Connection,
    *,
    account_id: str,
    account_name: str | None,
    method: str,
    scopes: Sequence[str],
    connected_at: datetime,
) -> ConnectionRow:
    """Close any open connection at `connected_at` and open a new one."""
    stamp = connected_at.astimezone(UTC).isoformat()
    with transaction(connection):
        _close_open(connection, stamp)
        row = connection.execute(
            "INSERT INTO connections (account_id, account_name, method, scopes, connected_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING *",
            (account_id, account_name, method, " ".join(scopes), stamp),
        ).fetchone()
    return _from_row(row)


def close_connections(connection: sqlite3.Connection, *, at: datetime | None = None) -> int:
    """Mark every open connection as ended; returns how many were open."""
    stamp = (at or datetime.now(UTC)).astimezone(UTC).isoformat()
    with transaction(connection):
        return _close_open(connection, stamp)


def connection_history(connection: sqlite3.Connection, *, limit: int = 20) -> list[ConnectionRow]:
    """The most recent connections, newest first."""
    rows = connection.execute(
        "SELECT * FROM connections ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_from_row(row) for row in rows]


def first_connected_at(connection: sqlite3.Connection, account_id: str) -> str | None:
    """When this account was first connected to this ledger, as stored (None if never)."""
    row = connection.execute(
        "SELECT min(connected_at) FROM connections WHERE account_id = ?", (account_id,)
    ).fetchone()
    return row[0] if row and row[0] else None


def _close_open(connection: sqlite3.Connection, stamp: str) -> int:
    cursor = connection.execute(
        "UPDATE connections SET disconnected_at = ? WHERE disconnected_at IS NULL", (stamp,)
    )
    return cursor.rowcount


def _from_row(row: sqlite3.Row) -> ConnectionRow:
    return ConnectionRow(
        id=row["id"],
        account_id=row["account_id"],
        account_name=row["account_name"],
        method=row["method"],
        scopes=tuple(str(row["scopes"]).split()),
        connected_at=row["connected_at"],
        disconnected_at=row["disconnected_at"],
    )
