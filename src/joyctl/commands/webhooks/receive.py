"""`joyctl webhooks listen` and `webhooks replay`: receiving deliveries and re-running them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._args import ROW_ID_MAX, moment_option
from joyctl.commands._common import app_context, exit_after
from joyctl.commands.webhooks._shared import webhook_deps
from joyctl.context import AppContext
from joyctl.errors import ExitCode, PartialError, UsageError
from joyctl.output import Output, to_jsonable

if TYPE_CHECKING:
    from joyctl.services.webhooks.intake import DeliveryLine, ListenLine
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
        min=1024, max=64 * 1024 * 1024, help="Largest delivery accepted, in bytes (up to 64 MiB)."
    ),
]
ListenPushOption = Annotated[
    bool, typer.Option(help="Send the Joy events and points each delivery earns to Klaviyo.")
]


def listen(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8780,
    path: PathOption = "/klaviyo/webhooks",
    tolerance: ToleranceOption = None,
    max_body: MaxBodyOption = 5 * 1024 * 1024,
    push: ListenPushOption = True,
) -> None:
    """Receive Klaviyo webhook deliveries and reward the reviews they carry.

    Each delivery is stored in the ledger first, then verified (signature, webhook id,
    account, age) and answered: 200, or a 4xx naming the reason. Rejected deliveries stay
    stored and never earn points. Verified review events go through the reward engine, each
    event once, and what they earn is sent to Klaviyo at once (--no-push leaves it in the
    outbox). One line per delivery on stderr; JSON lines on stdout with --json. Ctrl-C or
    SIGTERM stops it; what was stored but not processed is finished by `joyctl webhooks replay`.
    A port in use exits 2.

    Klaviyo delivers only over https: put a TLS proxy or tunnel in front of this.

    Example: joyctl webhooks listen --port 8780
    """
    from joyctl.loopback import is_loopback_host
    from joyctl.services.webhooks.listen import listen as run_listener
    from joyctl.services.webhooks.receiver import ListenOptions

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
    )
    stopped = run_listener(webhook_deps(app), options, lambda line: _report(app, line), push=push)
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
    Klaviyo outage), first verifying any stored but never checked. With --since or --id,
    re-runs those deliveries' events, e.g. after a rule change; reviews already rewarded are
    never rewarded twice. Exit 7 when some could not be processed (the reason is shown; run it
    again later).

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
                hint="run `joyctl webhooks replay` again once the cause is fixed",
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
        _warn_backlog(out, line.unprocessed)
    elif line.kind == "stopped":
        out.info(f"stopped after {line.deliveries} deliveries")
        _warn_backlog(out, line.unprocessed)
    else:
        out.info(_delivery_text(line))


def _warn_backlog(out: Output, unprocessed: int) -> None:
    if unprocessed:
        out.warn(f"{unprocessed} stored deliveries are not processed: run `joyctl webhooks replay`")


def _delivery_text(line: DeliveryLine) -> str:
    head = f"{line.received_at}  delivery {line.delivery_id}: {line.verdict} ({line.status_code}"
    if line.verdict != "verified":
        return f"{head} {line.reason or line.error}) {line.detail or ''}".rstrip()
    text = f"{head}) {line.events} events, {line.processed} decided, {line.duplicates} repeated"
    if line.awarded:
        plural = "" if line.awarded == 1 else "s"
        text += f", awarded {line.points} points for {line.awarded} review{plural}"
    if line.pushed:
        text += f", {line.pushed} sent to Klaviyo"
    if line.error:
        text += f"; not finished: {line.error} (run `joyctl webhooks replay` later)"
    if line.push_error:
        text += f"; not sent yet: {line.push_error}"
    return text


def _render_replay(out: Output, data: ReplaySummary) -> None:
    if data.rechecked:
        out.info(f"{data.rechecked} deliveries stored but never checked were verified now")
    out.info(
        f"{data.deliveries} deliveries, {data.events} events: {data.processed} decided,"
        f" {data.duplicates} already done, {data.points} points to {data.awarded} reviews"
    )
    if data.pushed is not None:
        waiting = f", {data.push_pending} still waiting" if data.push_pending else ""
        out.info(f"sent {data.pushed} Joy events and profile updates to Klaviyo{waiting}")
    for error in data.errors:
        out.warn(error)
