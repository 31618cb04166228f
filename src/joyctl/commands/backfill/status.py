"""`joyctl backfill status`: backfill runs, their progress and outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._args import LIST_LIMIT_MAX, resource_id
from joyctl.commands._common import app_context
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.backfill.runs import RunView


def status(
    ctx: typer.Context,
    run_id: Annotated[
        str | None, typer.Argument(help="One run to show in full (default: list the runs).")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=LIST_LIMIT_MAX, help="How many runs to list (1-10000).")
    ] = 20,
) -> None:
    """List backfill runs, newest first, or show one with its checkpoint and how to resume it.

    A run left `running` by a process that no longer exists shows as `stopped`; like an
    interrupted or failed run it can be resumed.

    Example: joyctl backfill status events-20260722-101500-3f9a
    """
    from joyctl.services.backfill.runs import list_backfill_runs, show_backfill_run

    app = app_context(ctx)
    connection = app.ledger()
    if run_id is None:
        app.output.emit(list_backfill_runs(connection, limit=limit), _render_list)
    else:
        app.output.emit(show_backfill_run(connection, resource_id("RUN_ID", run_id)), _render_one)


def _done(view: RunView) -> str:
    counters = view.counters
    if view.kind == "backfill-profiles":
        return f"{counters.get('imported', 0):,} imported, {counters.get('failed', 0):,} failed"
    return f"{counters.get('sent', 0):,} sent, {counters.get('quarantined', 0):,} quarantined"


def _render_list(out: Output, views: list[RunView]) -> None:
    if not views:
        out.info("no backfill runs yet")
        return
    out.table(
        ["RUN", "KIND", "STATUS", "STARTED", "PROGRESS", "SOURCE"],
        [
            (v.run_id, v.kind.removeprefix("backfill-"), v.status, v.started_at[:19], _done(v),
             v.source or "")
            for v in views
        ],
    )  # fmt: skip


def _render_one(out: Output, view: RunView) -> None:
    position = ", ".join(f"{key} {value}" for key, value in view.position.items())
    out.fields(
        [
            ("run", view.run_id),
            ("kind", view.kind),
            ("status", view.status),
            ("source", view.source),
            ("progress", _done(view)),
            ("checkpoint", position or "(start)"),
            ("started", view.started_at),
            ("updated", view.updated_at),
            ("finished", view.finished_at),
            ("last error", view.last_error),
        ]
    )
    if view.resume_command:
        out.info(f"resume with: {view.resume_command}")
