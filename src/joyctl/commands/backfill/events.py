"""`joyctl backfill events`: historical events from the ledger or a file, exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from joyctl.commands._args import input_file, moment_option, output_file, resource_id
from joyctl.commands._common import app_context, exit_after
from joyctl.commands.backfill._shared import ProgressDisplay, sigterm_interrupts
from joyctl.errors import ExitCode, PartialError, UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.backfill.events import BackfillProgress, BackfillSummary, Counters
    from joyctl.services.backfill.plan import BackfillPlan

EVENTS_HELP = """Send historical events to Klaviyo in bulk jobs, paced to the account's limits.

The source is the ledger (earns, redemptions and expiries as Joy's metrics) or a JSON Lines or
CSV file (see README "Backfill files": email or external_id, metric, time, properties, value,
id). Events carry backfill: true, so flows do not fire, unless --live-flows. Each event has a
unique_id (the file's id, or one derived from the record), so nothing is recorded twice.

A checkpoint is kept after every request Klaviyo accepts: after Ctrl-C, a crash or a kill, run
again with --resume RUN_ID to send the rest. Bad records go to a quarantine file (line, reason,
record) and the exit status is then 7. --dry-run prints the plan and sends nothing.

Example: joyctl backfill events --source history.jsonl --since 2025-01-01
"""


SourceOpt = Annotated[str | None, typer.Option(help="ledger (the default), or a .jsonl/.csv file.")]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="csv or jsonl (default: from the extension).")
]
MetricOpt = Annotated[
    list[str] | None, typer.Option("--metric", help="Only this metric (repeatable).")
]
ResumeOpt = Annotated[
    str | None, typer.Option(help="Continue this run (see `joyctl backfill status`).")
]
BatchOpt = Annotated[
    int | None,
    typer.Option(min=1, max=1000, help="Events per request, at most 1000 (the default)."),
]
FlowsOpt = Annotated[bool, typer.Option(help="Let the events trigger flows (no backfill flag).")]
QuarantineOpt = Annotated[
    Path | None,
    typer.Option(help="Where bad records go (default: FILE.quarantine.jsonl).", dir_okay=False),
]


def events(
    ctx: typer.Context,
    source: SourceOpt = None,
    file_format: FormatOpt = None,
    since: Annotated[str | None, typer.Option(help="Events at or after (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Events at or before (ISO 8601).")] = None,
    metric: MetricOpt = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan; send nothing.")] = False,
    resume: ResumeOpt = None,
    batch_size: BatchOpt = None,
    live_flows: FlowsOpt = False,
    quarantine: QuarantineOpt = None,
) -> int:
    from joyctl.services.backfill.events import EventBackfillRequest

    app = app_context(ctx)
    given = {"--source": source, "--format": file_format, "--since": since, "--until": until,
             "--metric": metric, "--batch-size": batch_size, "--quarantine": quarantine,
             "--live-flows": live_flows or None}  # fmt: skip
    request = None
    if resume is None:
        _check_source(source, file_format, quarantine)
        request = EventBackfillRequest(
            source=source or "ledger",
            file_format=file_format,
            since=moment_option("--since", since),
            until=moment_option("--until", until),
            metrics=metric or [],
            batch_size=batch_size or 1000,
            live_flows=live_flows,
            quarantine=str(quarantine) if quarantine else None,
        )
        if request.since and request.until and request.since > request.until:
            raise UsageError("--since is after --until", hint="swap them")
    else:
        _refuse_with_resume(given)
    if dry_run:
        _plan(app, request, resume)
        return ExitCode.OK
    return _send(app, request, resume)


def _check_source(source: str | None, file_format: str | None, quarantine: Path | None) -> None:
    """A file source, its format and the quarantine file, before the ledger or Klaviyo."""
    from joyctl.files.formats import FileFormat, choose_format

    if quarantine is not None:
        output_file("--quarantine", quarantine)
    given = FileFormat.named(file_format) if file_format is not None else None
    if source is None or source == "ledger":
        if given is not None:
            raise UsageError("--format applies to files, not to --source ledger")
        return
    path = input_file("--source", Path(source).expanduser())
    choose_format(path, given)
    if quarantine is not None and quarantine.expanduser().resolve() == path.resolve():
        raise UsageError("the quarantine file cannot be the input file", hint="--quarantine PATH")


def _refuse_with_resume(given: dict[str, Any]) -> None:
    named = [name for name, value in given.items() if value]
    if named:
        raise UsageError(
            f"--resume continues a run with the options it started with; drop {', '.join(named)}",
            hint="start a new run to change them",
        )


def _plan(app: Any, request: Any, resume: str | None) -> None:
    from joyctl.services.backfill.plan import plan_events

    data_dir = app.paths.profile_data_dir(app.settings.profile.name)
    plan = plan_events(app.ledger(), request, data_dir=data_dir, resume=resume)
    app.output.emit(plan, _render_plan)


def _send(app: Any, request: Any, resume: str | None) -> int:
    from joyctl.services.backfill.events import backfill_events
    from joyctl.services.backfill.runs import show_backfill_run

    connection = app.ledger()
    if resume is not None:
        show_backfill_run(connection, resource_id("--resume", resume))  # before the credential
    client = app.klaviyo().client
    data_dir = app.paths.profile_data_dir(app.settings.profile.name)
    with sigterm_interrupts(), ProgressDisplay(app.output, "backfill events") as display:

        def progress(update: BackfillProgress) -> None:
            counters = update.counters
            display.update(update.done, update.total, _progress_text(counters))

        summary = backfill_events(
            client, connection, request, data_dir=data_dir, resume=resume, on_progress=progress
        )
    app.output.emit(summary, _render_summary)
    if summary.quarantined:
        return exit_after(app, PartialError(
            f"{summary.quarantined} records quarantined in {summary.quarantine_file}",
            hint="fix them and send them again; events sent already are not duplicated",
        ))  # fmt: skip
    return ExitCode.OK


def _progress_text(counters: Counters) -> str:
    return (
        f"{counters.sent:,} sent, {counters.quarantined:,} quarantined,"
        f" {counters.requests:,} requests, {counters.throttled:,} throttled"
    )


def _render_summary(out: Output, data: BackfillSummary) -> None:
    out.fields(
        [
            ("run", data.run_id),
            ("source", data.source),
            ("sent", f"{data.sent:,} events in {data.requests:,} requests"),
            ("already sent", f"{data.already_sent:,}"),
            ("quarantined", f"{data.quarantined:,}"),
            ("skipped", f"{data.skipped:,} (outside --since/--until/--metric)"),
            ("throttled", f"{data.throttled:,} (429 answers, retried)"),
            ("elapsed", f"{data.elapsed_seconds:.1f}s, {data.events_per_second:,.0f} events/s"),
            ("flows", "fire (--live-flows)" if data.live_flows else "not triggered (backfill)"),
        ]
    )


def _render_plan(out: Output, data: BackfillPlan) -> None:
    out.fields(
        [
            ("source", data.source),
            ("events", f"{data.events:,} in {data.requests:,} requests"),
            ("already sent", f"{data.already_sent:,}"),
            ("quarantined", f"{data.quarantined:,}"),
            ("skipped", f"{data.skipped:,}"),
            ("estimate", f"{data.estimated_seconds:,.0f}s at {data.rate_limit}"),
            ("flows", "fire (--live-flows)" if data.live_flows else "not triggered (backfill)"),
        ]
    )
    for problem in data.problems:
        out.line(f"would quarantine {problem.origin}: {problem.reason}")
    out.info("dry run: nothing was sent")
