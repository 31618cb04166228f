"""`joyctl backfill profiles`: Joy's profile properties for every customer, in import jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from joyctl.commands._args import moment_option, resource_id
from joyctl.commands._common import app_context, exit_after
from joyctl.commands.backfill._shared import ProgressDisplay, say_how_it_starts, sigterm_interrupts
from joyctl.errors import ExitCode, PartialError, UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.backfill.profiles import (
        ProfileBackfillSummary,
        ProfilePlan,
        ProfileProgress,
    )


def profiles(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="Only customers changed at or after (ISO 8601).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Count profiles and jobs; send nothing.")] = False,
    resume: Annotated[
        str | None, typer.Option(help="Continue this run (see `joyctl backfill status`).")
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start a new run instead of continuing a stopped one.")
    ] = False,
) -> int:
    """Push Joy's profile properties for every customer through Klaviyo's bulk import jobs.

    The properties are Joy Loyalty Points, Joy Vip tier, Joy member status, Joy Referral URL
    and Birthday (MM/DD), up to 10,000 profiles per job. Each job is polled until it completes;
    profiles Klaviyo could not import are listed and the exit status is then 7. Values the
    ledger does not know are left out, never cleared. A stopped run continues when the same
    command runs again (--restart starts over; --resume RUN_ID continues a run by its id).

    Example: joyctl backfill profiles --since 2026-07-01
    """
    from joyctl.services.backfill.profiles import ProfileBackfillRequest

    app = app_context(ctx)
    if resume is not None and since is not None:
        raise UsageError("--resume continues a run with its own --since; drop --since")
    if resume is not None and restart:
        raise UsageError("--resume continues a run and --restart starts one; choose one")
    request = ProfileBackfillRequest(since=moment_option("--since", since))
    if dry_run:
        from joyctl.services.backfill.profiles import plan_profiles

        if resume is not None:
            raise UsageError("--dry-run plans a new run; drop --resume")
        app.output.emit(plan_profiles(app.ledger(), request), _render_plan)
        return ExitCode.OK
    return _send(app, None if resume else request, resume, restart)


def _send(app: Any, request: Any, resume: str | None, restart: bool) -> int:
    from joyctl.services.backfill.profiles import backfill_profiles
    from joyctl.services.backfill.runs import show_backfill_run

    connection = app.ledger()
    if resume is not None:
        show_backfill_run(connection, resource_id("--resume", resume))  # before the credential
    client = app.klaviyo().client
    with sigterm_interrupts(), ProgressDisplay(app.output, "backfill profiles") as display:

        def progress(update: ProfileProgress) -> None:
            text = (
                f"{update.submitted:,} submitted, {update.already_submitted:,} already submitted,"
                f" {update.imported:,} imported"
            )
            display.update(update.done, update.total, text)

        summary = backfill_profiles(
            client,
            connection,
            request,
            resume=resume,
            restart=restart,
            on_start=lambda start: say_how_it_starts(app.output, start, "profiles", "submitted"),
            on_progress=progress,
        )
    app.output.emit(summary, _render_summary)
    if summary.failed:
        return exit_after(app, PartialError(
            f"Klaviyo could not import {summary.failed} profiles",
            hint="see the reasons above (or under --json); fix the customers and run again",
        ))  # fmt: skip
    return ExitCode.OK


def _render_summary(out: Output, data: ProfileBackfillSummary) -> None:
    out.fields(
        [
            ("run", f"{data.run_id} (continued)" if data.continued else data.run_id),
            ("submitted", f"{data.profiles:,} profiles in {data.jobs:,} jobs"),
            ("already submitted", f"{data.already_submitted:,}"),
            ("imported", f"{data.imported:,}"),
            ("failed", f"{data.failed:,}"),
            ("requests", f"{data.requests:,} ({data.throttled:,} throttled, retried)"),
            ("elapsed", f"{data.elapsed_seconds:.1f}s"),
        ]
    )
    for problem in data.problems:
        out.line(f"not imported {problem.email or problem.external_id}: {problem.reason}")


def _render_plan(out: Output, data: ProfilePlan) -> None:
    out.fields(
        [
            ("profiles", f"{data.profiles:,} in {data.jobs:,} jobs"),
            ("estimate", f"{data.estimated_seconds:,.0f}s to submit, then Klaviyo's processing"),
        ]
    )
    out.info("dry run: nothing was sent")
