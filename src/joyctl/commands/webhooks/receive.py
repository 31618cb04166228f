"""`joyctl webhooks listen` and `webhooks replay`: receiving deliveries and re-running them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.command_line import command
from joyctl.commands._args import ROW_ID_MAX, moment_option
from joyctl.commands._common import app_context, exit_after, warn_if_program_off
from joyctl.commands.webhooks._shared import webhook_deps
from joyctl.context import AppContext
from joyctl.errors import ExitCode, PartialError, UsageError
from joyctl.output import Output, counted, to_jsonable

if TYPE_CHECKING:
    from joyctl.services.webhooks.intake import DeliveryLine, ListenLine
    from joyctl.services.webhooks.notices import ListenerNotice
    from joyctl.services.webhooks.outcomes import ReviewOutcome
    from joyctl.services.webhooks.process import ReplaySummary

HostOption = Annotated[str, typer.Option(help="Address to bind (loopback unless you say so).")]
PortOption = Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")]
PathOption = Annotated[str, typer.Option(help="URL path Klaviyo posts to.")]
ToleranceOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        max=7 * 24 * 3600,
        help="Seconds a delivery may be old, 1-604800 (default: the webhook_tolerance setting).",
    ),
]
MaxBodyOption = Annotated[
    int,
    typer.Option(
        min=1024,
        max=64 * 1024 * 1024,
        help="Largest delivery accepted, in bytes (chunked ones too; up to 64 MiB).",
    ),
]
MaxConnectionsOption = Annotated[
    int,
    typer.Option(
        min=1, max=1024, help="Requests handled at once; more wait briefly, then get 503."
    ),
]
KeepRejectedOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=1_000_000,
        help="Rejected requests kept in the ledger as evidence; older ones are deleted.",
    ),
]
ListenPushOption = Annotated[
    bool, typer.Option(help="Send the Joy events and points each delivery earns to Klaviyo.")
]
CheckIntervalOption = Annotated[
    float,
    typer.Option(
        min=1.0,
        metavar="SECONDS",
        help="How often to check Klaviyo, refresh the token and retry what an outage left.",
    ),
]


def listen(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8780,
    path: PathOption = "/klaviyo/webhooks",
    tolerance: ToleranceOption = None,
    max_body: MaxBodyOption = 5 * 1024 * 1024,
    max_connections: MaxConnectionsOption = 64,
    keep_rejected: KeepRejectedOption = 1000,
    push: ListenPushOption = True,
    check_interval: CheckIntervalOption = 60.0,
) -> None:
    """Receive Klaviyo webhook deliveries and reward the reviews they carry.

    Each request is checked cheapest first (size, headers, a known webhook id, then the
    signature); a signed delivery is stored in the ledger in full, then its document is
    verified (webhook id, account, age) and it is answered: 200, or a 4xx naming the reason.
    Requests refused before their signature held are kept as small rows without their body
    (the newest --keep-rejected); no rejected request ever earns points. Headers must arrive
    within 10 s and the body within 30 s. Verified review events go through the reward engine,
    each event once, and what they earn is sent to Klaviyo at once (--no-push leaves it in the
    outbox). One line per delivery on stderr, naming each review and what it got (awarded 50,
    rejected TOO_SHORT, held for approval, unmatched, already done); JSON lines on stdout with
    --json. An event that names no review id is matched by its time, email and product
    (README, "Webhook payloads"); one that cannot be is kept as unmatched for `webhooks replay`.
    Ctrl-C or SIGTERM stops it at once, whatever clients do (a delivery being processed gets
    10 s to finish); what was stored but not processed is finished by `joyctl webhooks replay`.
    A port in use exits 2.

    Made to run unattended for weeks (README, "Running the listener as a service"): at start
    it warns when no enabled webhook points at it or its signing secret is unknown; GET
    /healthz and GET /readyz answer JSON on the same port; every --check-interval it checks
    Klaviyo, which keeps an OAuth grant fresh (each refreshed token is stored where the
    profile keeps its secrets), and while Klaviyo is down deliveries are stored and answered,
    then processed once it is back (checks back off up to every 10 minutes). The signing
    secret is JOYCTL_WEBHOOK_SECRET when set, else the one `webhooks create` stored.

    Klaviyo delivers only over https: put a TLS proxy or tunnel in front of this.

    Example: joyctl webhooks listen --port 8780
    """
    from joyctl.loopback import is_loopback_host
    from joyctl.services.webhooks.listen import listen as run_listener
    from joyctl.services.webhooks.receiver import ListenOptions
    from joyctl.services.webhooks.upkeep import UpkeepOptions

    app = app_context(ctx)
    if not path.startswith("/"):
        raise UsageError(f"the path must start with '/': {path!r}", hint="e.g. /klaviyo/webhooks")
    if not is_loopback_host(host):
        app.output.warn(f"binding {host}: anyone who can reach it can post deliveries")
    options = ListenOptions(
        host=host,
        port=port,
        path=path,
        tolerance_seconds=float(tolerance or app.settings.webhook_tolerance),
        max_body_bytes=max_body,
        max_connections=max_connections,
        keep_rejected=keep_rejected,
    )
    warn_if_program_off(app)
    upkeep = UpkeepOptions(interval=check_interval)
    stopped = run_listener(
        webhook_deps(app), options, lambda line: _report(app, line), push=push, upkeep=upkeep
    )
    _report(app, stopped)


def replay(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="Deliveries received at or after (ISO 8601).")
    ] = None,
    delivery_id: Annotated[
        list[int] | None,
        typer.Option("--id", min=1, max=ROW_ID_MAX, help="Only this stored delivery (repeatable)."),
    ] = None,
    push: Annotated[
        bool, typer.Option(help="Then send the new Joy events and profile updates to Klaviyo.")
    ] = False,
) -> int:
    """Run stored verified deliveries through the reward engine again; safe to repeat.

    Without options, finishes every delivery that was stored but not processed (a crash, a
    Klaviyo outage) and looks up again every review event kept as unmatched, first verifying
    any delivery stored but never checked. With --since or --id, re-runs those deliveries'
    events, e.g. after a rule change; reviews already rewarded are never rewarded twice. A
    delivery that cannot be processed is marked with the reason and the replay goes on to the
    next. The summary counts awarded, rejected, held, unmatched, ignored and already-done
    events. Exit 7 when some could not be processed (the reason is shown; run it again later).

    Example: joyctl webhooks replay --since 2026-05-01
    """
    from joyctl.services.webhooks.listen import replay as run_replay

    app = app_context(ctx)
    received_since = moment_option("--since", since)
    summary = run_replay(
        webhook_deps(app),
        ids=delivery_id or [],
        since=received_since,
        tolerance_seconds=app.settings.webhook_tolerance,
        push=push,
    )
    app.output.emit(summary, _render_replay)
    if summary.failed:
        return exit_after(
            app,
            PartialError(
                f"{summary.failed} deliveries could not be processed",
                hint=f"run `{command('webhooks', 'replay')}` again once the cause is fixed",
            ),
        )
    return ExitCode.OK


def _report(app: AppContext, line: ListenLine) -> None:
    """JSON lines on stdout under --json (each its own envelope); a line on stderr otherwise."""
    out = app.output
    if out.json_mode:
        out.stdout.write(json.dumps(out.envelope("data", to_jsonable(line))) + "\n")
        out.stdout.flush()
        return
    if line.kind == "listening":
        out.info(f"listening on {line.url} for account {line.account_id}; Ctrl-C stops")
        if line.unprocessed:
            out.warn(f"{line.unprocessed} stored deliveries were not processed: retrying them now")
        if line.unmatched:
            out.warn(
                f"{counted(line.unmatched, 'review event')} kept unmatched:"
                f" `{command('webhooks', 'replay')}` looks them up again"
                f" (`{command('diagnose')}` says why)"
            )
    elif line.kind == "stopped":
        out.info(f"stopped after {line.deliveries} deliveries")
        _warn_backlog(out, line.unprocessed)
    elif line.kind == "notice":
        _notice(out, line)
    else:
        out.info(_delivery_text(line))


def _notice(out: Output, line: ListenerNotice) -> None:
    text = f"{line.message}; {line.hint}" if line.hint else line.message
    if line.level == "warning":
        out.warn(text)
    else:
        out.info(f"{line.at}  {text}")


def _warn_backlog(out: Output, unprocessed: int) -> None:
    if unprocessed:
        replay = command("webhooks", "replay")
        what = (
            "1 stored delivery is" if unprocessed == 1 else f"{unprocessed:,} stored deliveries are"
        )
        out.warn(f"{what} not processed: run `{replay}`")


LISTED_REVIEWS = 10  # a batch can carry 1000 events; the JSON line always has them all


def _delivery_text(line: DeliveryLine) -> str:
    head = f"{line.received_at}  delivery {line.delivery_id}: {line.verdict} ({line.status_code}"
    if line.verdict != "verified":
        return f"{head} {line.reason or line.error}) {line.detail or ''}".rstrip()
    text = f"{head}) {counted(line.events, 'event')}"
    if line.reviews:
        listed = ", ".join(_review_text(review) for review in line.reviews[:LISTED_REVIEWS])
        more = len(line.reviews) - LISTED_REVIEWS
        text += f": {listed}" + (f", and {more} more" if more > 0 else "")
    others = line.ignored - sum(1 for review in line.reviews if review.kind == "ignored")
    if others:
        text += f"; {counted(others, 'other event')} ignored"
    if line.awarded and len(line.reviews) > 1:
        text += f"; {line.points} points for {counted(line.awarded, 'review')}"
    if line.pushed:
        text += f"; {line.pushed} sent to Klaviyo"
    if line.unmatched:
        text += f"; unmatched events are kept for `{command('webhooks', 'replay')}`"
    if line.error:
        text += f"; not finished: {line.error} (run `{command('webhooks', 'replay')}` later)"
    if line.push_error:
        text += f"; not sent yet: {line.push_error}"
    return text


def _review_text(review: ReviewOutcome) -> str:
    who = f"review {review.review_id}" if review.review_id else f"event {review.external_id}"
    why = f" ({review.reason})" if review.kind == "unmatched" and review.reason else ""
    return f"{who} {review.outcome}{why}"


def _render_replay(out: Output, data: ReplaySummary) -> None:
    if data.rechecked:
        out.info(f"{data.rechecked} deliveries stored but never checked were verified now")
    out.info(
        f"{counted(data.deliveries, 'delivery', 'deliveries')},"
        f" {counted(data.events, 'event')}: {data.awarded:,} awarded"
        f" ({counted(data.points, 'point')}), {data.rejected:,} rejected,"
        f" {data.held:,} held for approval, {data.unmatched:,} unmatched,"
        f" {data.ignored:,} ignored, {data.already_done:,} already done"
    )
    if data.held:
        out.info(
            f"held reviews wait for `{command('reviews', 'approve')}`"
            f" (`{command('reviews', 'pending')}`)"
        )
    if data.unmatched:
        out.warn(
            f"{counted(data.unmatched, 'review event')} still unmatched: kept, and tried again"
            f" by the next `{command('webhooks', 'replay')}`; `{command('diagnose')}` shows why"
        )
    if data.pushed is not None:
        waiting = f", {data.push_pending} still waiting" if data.push_pending else ""
        out.info(f"sent {data.pushed} Joy events and profile updates to Klaviyo{waiting}")
    for error in data.errors:
        out.warn(error)
