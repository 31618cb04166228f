"""Resumable runs: what a long job was asked to do, how far it got, and how it ended.

A run's checkpoint is written after every unit of work that cannot be undone (a request Klaviyo
accepted), in one statement, so a run killed at any moment resumes from the last accepted unit.
The process that works on a run is recorded as its owner, so a second process cannot resume a run
that is still being worked on, while a run whose owner died can be resumed at once.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joyctl.command_line import command
from joyctl.errors import NotFoundError, UsageError
from joyctl.ledger.db import transaction

RUNNING = "running"
INTERRUPTED = "interrupted"
FAILED = "failed"
COMPLETED = "completed"
_COLUMNS = (
    "id, kind, params, status, checkpoint, counters, started_at, updated_at, finished_at,"
    " last_error"
)


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    kind: str
    params: dict[str, Any]
    status: str
    checkpoint: dict[str, Any]
    counters: dict[str, Any]
    started_at: str
    updated_at: str
    finished_at: str | None
    last_error: str | None

    @property
    def owner(self) -> dict[str, Any]:
        owner = self.checkpoint.get("owner")
        return owner if isinstance(owner, dict) else {}

    @property
    def position(self) -> dict[str, Any]:
        position = self.checkpoint.get("position")
        return position if isinstance(position, dict) else {}


OwnerAlive = Callable[[Mapping[str, Any]], bool]


def new_run_id(prefix: str, now: datetime) -> str:
    """Short enough to type after `--resume`, sortable by time, unique without coordination."""
    return f"{prefix}-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def create_run(
    connection: sqlite3.Connection,
    *,
    run_id: str,
    kind: str,
    params: Mapping[str, Any],
    owner: Mapping[str, Any],
    now: datetime,
) -> Run:
    stamp = now.isoformat()
    checkpoint = {"owner": dict(owner), "position": {}}
    connection.execute(
        "INSERT INTO runs (id, kind, params, status, checkpoint, counters, started_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, '{}', ?, ?)",
        (run_id, kind, _dumps(params), RUNNING, _dumps(checkpoint), stamp, stamp),
    )
    return require_run(connection, run_id)


def get_run(connection: sqlite3.Connection, run_id: str) -> Run | None:
    row = connection.execute(
        f"SELECT {_COLUMNS} FROM runs WHERE id = ?",  # noqa: S608 - constant columns
        (run_id,),
    ).fetchone()
    return None if row is None else _run_from_row(row)


def require_run(connection: sqlite3.Connection, run_id: str, *, kind: str | None = None) -> Run:
    run = get_run(connection, run_id)
    if run is None or (kind is not None and run.kind != kind):
        raise NotFoundError(
            f"there is no {kind or 'run'} {run_id!r} in this profile's ledger",
            hint=f"`{command('backfill', 'status')}` lists the runs",
        )
    return run


def list_runs(
    connection: sqlite3.Connection, *, kinds: tuple[str, ...], limit: int = 20
) -> list[Run]:
    """The newest runs of these kinds first."""
    marks = ", ".join("?" for _ in kinds)
    rows = connection.execute(
        f"SELECT {_COLUMNS} FROM runs WHERE kind IN ({marks})"  # noqa: S608 - placeholders only
        " ORDER BY started_at DESC, id DESC LIMIT ?",
        (*kinds, limit),
    )
    return [_run_from_row(row) for row in rows]


def claim_run(
    connection: sqlite3.Connection,
    run_id: str,
    *,
    kind: str,
    owner: Mapping[str, Any],
    owner_alive: OwnerAlive,
    now: datetime,
) -> Run:
    """Take over a run to resume it; refused when it completed or its owner is still at work."""
    with transaction(connection):
        run = require_run(connection, run_id, kind=kind)
        if run.status == COMPLETED:
            raise UsageError(
                f"run {run_id} completed already; there is nothing left to resume",
                hint="start a new run without --resume",
            )
        if run.status == RUNNING and run.owner and owner_alive(run.owner):
            raise UsageError(
                f"run {run_id} is still running (process {run.owner.get('pid')})",
                hint="wait for it, or stop that process and resume again",
            )
        checkpoint = {**run.checkpoint, "owner": dict(owner)}
        connection.execute(
            "UPDATE runs SET status = ?, checkpoint = ?, updated_at = ?, finished_at = NULL,"
            " last_error = NULL WHERE id = ?",
            (RUNNING, _dumps(checkpoint), now.isoformat(), run_id),
        )
    return require_run(connection, run_id)


def save_progress(
    connection: sqlite3.Connection,
    run: Run,
    *,
    position: Mapping[str, Any],
    counters: Mapping[str, Any],
    now: datetime,
) -> None:
    """Record how far the run got; one statement, so it is either fully written or not at all."""
    checkpoint = {"owner": run.owner, "position": dict(position)}
    connection.execute(
        "UPDATE runs SET checkpoint = ?, counters = ?, updated_at = ? WHERE id = ?",
        (_dumps(checkpoint), _dumps(counters), now.isoformat(), run.id),
    )


def finish_run(
    connection: sqlite3.Connection,
    run_id: str,
    status: str,
    *,
    now: datetime,
    error: str | None = None,
) -> None:
    """Set the outcome. An interrupted run is not finished: it waits to be resumed."""
    stamp = now.isoformat()
    connection.execute(
        "UPDATE runs SET status = ?, updated_at = ?, finished_at = ?, last_error = ? WHERE id = ?",
        (status, stamp, None if status == INTERRUPTED else stamp, error, run_id),
    )


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), sort_keys=True, default=str)


def _run_from_row(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        kind=row["kind"],
        params=json.loads(row["params"] or "{}"),
        status=row["status"],
        checkpoint=json.loads(row["checkpoint"] or "{}"),
        counters=json.loads(row["counters"] or "{}"),
        started_at=row["started_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        last_error=row["last_error"],
    )
