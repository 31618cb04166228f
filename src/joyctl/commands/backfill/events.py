"""`joyctl backfill events`: historical events from the ledger or a file, exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from joyctl.command_line import command
from joyctl.commands._args import input_file, moment_option, output_file, resource_id
from joyctl.commands._common import app_context, exit_after
from joyctl.commands._files import is_stdio, keep_stdin, refuse_stdio, require_format
from joyctl.commands.backfill._shared import ProgressDisplay, say_how_it_starts, sigterm_interrupts
from joyctl.context import AppContext
from joyctl.errors import ExitCode, PartialError, UsageError
from joyctl.output import Output, counted

if TYPE_CHECKING:
    from joyctl.services.backfill.events import (
        BackfillProgress,
        BackfillSummary,
        EventBackfillRequest,
        Tally,
    )
    from joyctl.services.backfill.plan import BackfillPlan

EVENTS_HELP = """Send historical events to Klaviyo in bulk jobs, paced to the account's limits.

The source is the ledger (earns, redemptions and expiries as Joy's metrics) or a JSON Lines or
CSV file, - for stdin (see README "Backfill files": email or external_id, metric, time,
properties, value, id). Columns named otherwise are mapped with --map FIELD=COLUMN; a CSV whose
header lacks a field every event needs is refused before anything is sent. A quarantine file
is a source too: its records are sent again. Events carry backfill: true, so flows do not
fire, unless --live-flows. Each event has a unique_id (the file's id, or one derived from the
record), so nothing is recorded twice.

A checkpoint is kept after every request Klaviyo accepts. After Ctrl-C, a crash or a kill, run
the same command again: it continues the stopped run where it stopped (--restart starts over;
--resume RUN_ID continues a run by its id). Bad records go to a quarantine file (line, reason,
record) and the exit status is then 7. --dry-run prints the plan, sends nothing, and exits as
the run would (7 when records would be quarantined).

Example: joyctl backfill events --source export.csv --map email="Customer Email" \\
    --map metric=Activity --map time=Date --since 2025-01-01
"""


SourceOpt = Annotated[
    str | None,
    typer.Option(
        metavar="FILE", help="A .jsonl or .csv file, - for stdin, or ledger (the default)."
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="csv or jsonl (default: from the extension; needed for -)."),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", help="Read FIELD from the file's COLUMN (repeatable)."),
]
MetricOpt = Annotated[
    list[str] | None, typer.Option("--metric", help="Only this metric (repeatable).")
]
ResumeOpt = Annotated[
    str | None, typer.Option(help="Continue this run (see `joyctl backfill status`).")
]
RestartOpt = Annotated[
    bool, typer.Option("--restart", help="Start a new run instead of continuing a stopped one.")
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
    column_map: MapOpt = None,
    since: Annotated[str | None, typer.Option(help="Events at or after (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Events at or before (ISO 8601).")] = None,
    metric: MetricOpt = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan; send nothing.")] = False,
    resume: ResumeOpt = None,
    restart: RestartOpt = False,
    batch_size: BatchOpt = None,
    live_flows: FlowsOpt = False,
    quarantine: QuarantineOpt = None,
) -> int:
    app = app_context(ctx)
    refuse_stdio(quarantine, "--quarantine", "stdout holds the summary; give the file a name")
    given = {"--source": source, "--format": file_format, "--map": column_map, "--since": since,
             "--until": until, "--metric": metric, "--batch-size": batch_size,
             "--quarantine": quarantine, "--live-flows": live_flows or None,
             "--restart": restart or None}  # fmt: skip
    if resume is not None:
        _refuse_with_resume(given)
        request = None
    else:
        request = _request(
            app, source, file_format, column_map, quarantine,
            since=since, until=until, metrics=metric or [], batch_size=batch_size or 1000,
            live_flows=live_flows,
        )  # fmt: skip
    # Stdin is kept in the profile's data folder, so a stopped run can go on from it; once
    # nothing is left to send from it, it goes.
    kept = Path(request.source) if request is not None and is_stdio(source) else None
    if dry_run:
        return _plan(app, request, resume, restart, kept)
    return _send(app, request, resume, restart, kept)


def _request(
    app: AppContext,
    source: str | None,
    file_format: str | None,
    column_map: list[str] | None,
    quarantine: Path | None,
    *,
    since: str | None,
    until: str | None,
    **rest: Any,
) -> EventBackfillRequest:
    """What to send, checked before anything is read; stdin is kept as a file first, so the
    run can be continued from it."""
    from joyctl.files.formats import FileFormat
    from joyctl.services.backfill.columns import parse_mapping
    from joyctl.services.backfill.events import EventBackfillRequest

    since_at, until_at = moment_option("--since", since), moment_option("--until", until)
    if since_at and until_at and since_at > until_at:
        raise UsageError("--since is after --until", hint="swap them")
    columns = parse_mapping(column_map or [])
    if is_stdio(source):
        require_format(file_format, "--source")
        if quarantine is not None:
            output_file("--quarantine", quarantine)
        suffix = "." + FileFormat.named(str(file_format).strip().lower()).value
        folder = app.paths.profile_data_dir(app.settings.profile.name) / "backfill"
        source = str(keep_stdin(app, folder, "--source", suffix))
    _check_source(source, file_format, quarantine)
    return EventBackfillRequest(
        source=source or "ledger",
        file_format=file_format,
        since=since_at,
        until=until_at,
        columns=columns,
        quarantine=str(quarantine) if quarantine else None,
        **rest,
    )


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


def _plan(
    app: AppContext,
    request: EventBackfillRequest | None,
    resume: str | None,
    restart: bool,
    kept: Path | None,
) -> int:
    from joyctl.services.backfill.plan import plan_events

    data_dir = app.paths.profile_data_dir(app.settings.profile.name)
    plan = plan_events(app.ledger(), request, data_dir=data_dir, resume=resume, restart=restart)
    if kept is not None and plan.run_id is None:
        kept.unlink(missing_ok=True)
    app.output.emit(plan, _render_plan)
    if plan.quarantined:
        return exit_after(app, PartialError(
            f"{counted(plan.quarantined, 'record')} would be quarantined; the run would exit 7",
            hint="fix them first, or let the run quarantine them and send the rest",
        ))  # fmt: skip
    return ExitCode.OK


def _send(
    app: AppContext,
    request: EventBackfillRequest | None,
    resume: str | None,
    restart: bool,
    kept: Path | None,
) -> int:
    from joyctl.services.backfill.events import backfill_events
    from joyctl.services.backfill.runs import show_backfill_run

    connection = app.ledger()
    if resume is not None:
        show_backfill_run(connection, resource_id("--resume", resume))  # before the credential
    client = app.klaviyo().client
    data_dir = app.paths.profile_data_dir(app.settings.profile.name)
    with sigterm_interrupts(), ProgressDisplay(app.output, "backfill events") as display:

        def progress(update: BackfillProgress) -> None:
            display.update(update.done, update.total, progress_text(update.tally))

        summary = backfill_events(
            client,
            connection,
            request,
            data_dir=data_dir,
            resume=resume,
            restart=restart,
            on_start=lambda start: say_how_it_starts(app.output, start, "events", "sent"),
            on_progress=progress,
        )
    if kept is not None:
        kept.unlink(missing_ok=True)
    app.output.emit(summary, _render_summary)
    if summary.quarantined:
        resend = command("backfill", "events", "--source", summary.quarantine_file or "FILE")
        return exit_after(app, PartialError(
            f"{counted(summary.quarantined, 'record')} quarantined in {summary.quarantine_file}",
            hint=f"fix them there and send that file: `{resend}`;"
            " events sent already are not sent twice",
        ))  # fmt: skip
    return ExitCode.OK


def progress_text(tally: Tally) -> str:
    """The progress line: the summary's own numbers, so the two always agree."""
    return (
        f"{tally.sent:,} sent, {tally.already_sent:,} already sent,"
        f" {tally.quarantined:,} quarantined, {tally.requests:,} requests"
    )


def _render_summary(out: Output, data: BackfillSummary) -> None:
    out.fields(
        [
            ("run", f"{data.run_id} (continued)" if data.continued else data.run_id),
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
            ("run", f"continues {data.run_id}" if data.run_id else "a new run"),
            ("events", f"{data.events:,} in {data.requests:,} requests"),
            ("already sent", f"{data.already_sent:,}"),
            ("quarantined", f"{data.quarantined:,}"),
            ("skipped", f"{data.skipped:,}"),
            ("estimate", f"{data.estimated_seconds:,.0f}s at {data.rate_limit}"),
            ("flows", "fire (--live-flows)" if data.live_flows else "not triggered (backfill)"),
        ]
    )
    origin = "entry" if data.source == "ledger" else "line"
    for problem in data.problems:
        out.line(f"would quarantine {origin} {problem.origin}: {problem.reason}")
    more = data.quarantined - len(data.problems)
    if more > 0:
        out.line(f"and {counted(more, 'more record')} would be quarantined")
    out.info("dry run: nothing was sent")
