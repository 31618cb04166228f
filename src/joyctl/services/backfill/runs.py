"""Backfill runs: starting or resuming one, ending it with the right status, and showing them.

A run records its owner (process id and host). A run left `running` by a process that no longer
exists (killed, crashed, the machine restarted) is shown as `stopped` and may be resumed.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.errors import InterruptedRunError, JoyctlError, NotFoundError
from joyctl.ledger import runs
from joyctl.ledger.db import roll_back_cut_off
from joyctl.ledger.runs import Run

if TYPE_CHECKING:
    from joyctl.klaviyo.bulk.sender import RequestTally

EVENTS_KIND = "backfill-events"
PROFILES_KIND = "backfill-profiles"
KINDS = (EVENTS_KIND, PROFILES_KIND)
_VERBS = {EVENTS_KIND: "events", PROFILES_KIND: "profiles"}
_PREFIXES = {EVENTS_KIND: "events", PROFILES_KIND: "profiles"}
STOPPED = "stopped"  # shown for a run whose owner died while it was running


def utc_now() -> datetime:
    return datetime.now(UTC)


def current_owner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname()}


def owner_alive(owner: Mapping[str, Any]) -> bool:
    """Whether the recorded owner may still be working; unknown hosts count as alive."""
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname():
        return True
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def resume_command(run_id: str, kind: str) -> str:
    return command("backfill", _VERBS[kind], "--resume", run_id)


def start_run(
    connection: sqlite3.Connection,
    kind: str,
    params: Mapping[str, Any],
    *,
    run_id: str | None = None,
) -> Run:
    """A new run of `kind`; `run_id` when the caller needed the id first, else a new one."""
    return runs.create_run(
        connection,
        run_id=run_id or new_run_id(kind),
        kind=kind,
        params=params,
        owner=current_owner(),
        now=utc_now(),
    )


def new_run_id(kind: str) -> str:
    return runs.new_run_id(_PREFIXES[kind], utc_now())


RESUMABLE = (runs.RUNNING, runs.INTERRUPTED, runs.FAILED)
RECENT_RUNS = 50


def unfinished_run(
    connection: sqlite3.Connection,
    kind: str,
    params: Mapping[str, Any],
    *,
    unless: Collection[str] = (),
    still_valid: Callable[[Run], bool] = lambda run: True,
) -> Run | None:
    """The newest run of `kind` asked to do exactly what `params` ask, and not finished.

    Rerunning a command that was stopped then continues the stopped run, as `--resume` would,
    instead of starting over. Keys in `unless` are left out of the comparison (those a run
    fills in itself, such as a quarantine file named after the run); `still_valid` says whether
    the run can go on (its input file is still the one it read).
    """
    wanted = _comparable(params, unless)
    for run in runs.list_runs(connection, kinds=(kind,), limit=RECENT_RUNS):
        if _comparable(run.params, unless) != wanted:
            continue
        # The newest run with these arguments decides: completed means a new run.
        return run if run.status in RESUMABLE and still_valid(run) else None
    return None


@dataclass(frozen=True)
class RunStart:
    """How a run begins: afresh, or continuing one that was stopped (and from where)."""

    run_id: str
    continued: bool
    position: dict[str, Any]
    counters: dict[str, Any]

    @classmethod
    def of(cls, run: Run, *, continued: bool) -> RunStart:
        return cls(run.id, continued, dict(run.position), dict(run.counters))


OnStart = Callable[[RunStart], None]


def _comparable(params: Mapping[str, Any], unless: Collection[str]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key not in unless and value}


def resume_run(connection: sqlite3.Connection, kind: str, run_id: str) -> Run:
    return runs.claim_run(
        connection,
        run_id,
        kind=kind,
        owner=current_owner(),
        owner_alive=owner_alive,
        now=utc_now(),
    )


@contextmanager
def run_outcome(connection: sqlite3.Connection, run: Run) -> Iterator[None]:
    """Completed when the block ends; interrupted, or failed with a hint to resume, otherwise."""
    command = resume_command(run.id, run.kind)
    try:
        yield
        # Inside the `try`, so an interrupt landing as the block ends is not left `running`.
        runs.finish_run(connection, run.id, runs.COMPLETED, now=utc_now())
    except KeyboardInterrupt:
        roll_back_cut_off(connection)  # the checkpoint being written when the interrupt came
        runs.finish_run(connection, run.id, runs.INTERRUPTED, now=utc_now())
        raise InterruptedRunError(
            f"interrupted; run {run.id} is saved", hint=f"resume it with `{command}`"
        ) from None
    except JoyctlError as error:
        runs.finish_run(connection, run.id, runs.FAILED, now=utc_now(), error=error.message)
        error.hint = f"{error.hint + '; then ' if error.hint else ''}resume with `{command}`"
        raise
    except Exception as error:
        runs.finish_run(connection, run.id, runs.FAILED, now=utc_now(), error=type(error).__name__)
        raise


class RunView(BaseModel):
    """A backfill run as `backfill status` shows it."""

    run_id: str
    kind: str
    status: str
    source: str | None
    started_at: str
    updated_at: str
    finished_at: str | None
    counters: dict[str, Any]
    position: dict[str, Any]
    last_error: str | None
    resume_command: str | None


def view_of(run: Run) -> RunView:
    status = run.status
    if status == runs.RUNNING and not owner_alive(run.owner):
        status = STOPPED
    resumable = status in (runs.INTERRUPTED, runs.FAILED, STOPPED)
    return RunView(
        run_id=run.id,
        kind=run.kind,
        status=status,
        source=run.params.get("source"),
        started_at=run.started_at,
        updated_at=run.updated_at,
        finished_at=run.finished_at,
        counters=run.counters,
        position=run.position,
        last_error=run.last_error,
        resume_command=resume_command(run.id, run.kind) if resumable else None,
    )


def list_backfill_runs(connection: sqlite3.Connection, *, limit: int = 20) -> list[RunView]:
    return [view_of(run) for run in runs.list_runs(connection, kinds=KINDS, limit=limit)]


def show_backfill_run(connection: sqlite3.Connection, run_id: str) -> RunView:
    run = runs.get_run(connection, run_id)
    if run is None or run.kind not in KINDS:
        raise NotFoundError(
            f"there is no backfill run {run_id!r} in this profile's ledger",
            hint=f"`{command('backfill', 'status')}` lists the runs",
        )
    return view_of(run)


class StoredCounters:
    """A dataclass of run totals that is read back from a checkpoint's JSON.

    Keys the class does not know (from an older or newer joyctl) are ignored.
    """

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Self:
        names = {field.name for field in fields(cls)}  # type: ignore[arg-type]
        return cls(**{key: value for key, value in values.items() if key in names})


@dataclass
class RequestCounters(StoredCounters):
    """Run totals that include the API requests made and the 429s met, over every attempt."""

    requests: int = 0
    throttled: int = 0

    def count_requests(self, before: RequestCounters, tally: RequestTally) -> None:
        """This attempt's requests (`tally`) on top of those of the attempts `before` it."""
        self.requests = before.requests + tally.requests
        self.throttled = before.throttled + tally.throttled
