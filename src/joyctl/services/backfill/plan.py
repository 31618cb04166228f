"""`backfill events --dry-run`: what a run would send, in how many requests, and how long.

The plan reads the input exactly as a run would (same checks, same cuts into bulk jobs) and sends
nothing, writes nothing. The time estimate assumes Klaviyo's published limits for bulk event
jobs: the burst limit within each steady window, one steady window after another.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pydantic import BaseModel

from joyctl.errors import UsageError
from joyctl.klaviyo.bulk.batches import cut_chunks
from joyctl.klaviyo.endpoints import find_endpoint
from joyctl.ledger import runs
from joyctl.services.backfill.events import (
    EventBackfillRequest,
    check_source,
    open_source,
    prepare_request,
    stopped_run,
)
from joyctl.services.backfill.runs import EVENTS_KIND

PROBLEMS_SHOWN = 100  # the rest are counted: `quarantined` holds them all
STEADY_WINDOW_SECONDS = 60.0


class PlannedProblem(BaseModel):
    origin: int
    """The file line, or the ledger entry id."""
    reason: str


class BackfillPlan(BaseModel):
    source: str
    run_id: str | None
    """The run whose remaining part is planned (with --resume, or the stopped run that running
    the same command again would continue)."""
    events: int
    requests: int
    already_sent: int
    quarantined: int
    skipped: int
    problems: list[PlannedProblem]
    """The first records that would be quarantined (up to 100; `quarantined` counts them all)."""
    live_flows: bool
    rate_limit: str
    estimated_seconds: float


def estimate_seconds(requests: int, *, burst: int, steady: int) -> float:
    """Burst-paced within each steady window; every full window adds a minute."""
    if requests <= 0:
        return 0.0
    full_windows, rest = divmod(requests - 1, steady)
    return full_windows * STEADY_WINDOW_SECONDS + rest / burst


def plan_events(
    connection: sqlite3.Connection,
    request: EventBackfillRequest | None,
    *,
    data_dir: Path,
    resume: str | None = None,
    restart: bool = False,
) -> BackfillPlan:
    """What the same command without --dry-run would send: a new run, or the rest of one."""
    if resume is None and request is not None:
        prepared = prepare_request(request, run_id="dry-run", data_dir=data_dir)
        stopped = None if restart else stopped_run(connection, prepared, request.quarantine)
        resume = stopped.id if stopped is not None else None
        position: dict[str, int] = {}
    if resume is not None:
        run = runs.require_run(connection, resume, kind=EVENTS_KIND)
        if run.status == runs.COMPLETED:
            raise UsageError(f"run {resume} completed already; there is nothing left to send")
        prepared, position = EventBackfillRequest.model_validate(run.params), run.position
        check_source(prepared, position)
    elif request is None:
        raise UsageError("say what to plan, or which run", hint="--source or --resume")
    plan = _count(connection, prepared, position)
    plan.run_id = resume
    return plan


def _count(
    connection: sqlite3.Connection, request: EventBackfillRequest, position: dict[str, int]
) -> BackfillPlan:
    endpoint = find_endpoint("POST", "/api/event-bulk-create-jobs")
    burst, steady = (
        (endpoint.burst_per_second, endpoint.steady_per_minute) if endpoint else (10, 150)
    )
    plan = BackfillPlan(
        source=request.source,
        run_id=None,
        events=0,
        requests=0,
        already_sent=0,
        quarantined=0,
        skipped=0,
        problems=[],
        live_flows=request.live_flows,
        rate_limit=f"{burst}/s, {steady}/min",
        estimated_seconds=0.0,
    )
    with open_source(connection, request, position) as source:
        for chunk in cut_chunks(source.items, max_events=request.batch_size):
            plan.events += len(chunk.events)
            plan.requests += 1 if chunk.events else 0
            plan.already_sent += chunk.already_sent
            plan.skipped += chunk.filtered
            plan.quarantined += len(chunk.rejected)
            room = PROBLEMS_SHOWN - len(plan.problems)
            plan.problems += [
                PlannedProblem(origin=r.origin, reason=r.reason) for r in chunk.rejected[:room]
            ]
    plan.estimated_seconds = round(estimate_seconds(plan.requests, burst=burst, steady=steady), 1)
    return plan
