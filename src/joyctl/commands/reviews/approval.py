"""`joyctl reviews pending|approve|reject`: the manual-approval queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.command_line import command
from joyctl.commands._common import app_context
from joyctl.commands.reviews._render import rule_values_text
from joyctl.context import AppContext
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.rewards.approvals import (
        ApprovalSelection,
        PendingReview,
        Verdict,
        VerdictReport,
    )

ReviewIds = Annotated[
    list[str] | None, typer.Argument(help="Review ids, as `joyctl reviews pending` lists them.")
]
PushOption = Annotated[
    bool, typer.Option(help="Then send the new Joy events and profile updates to Klaviyo.")
]


def pending(ctx: typer.Context) -> None:
    """List the reviews held for approval, oldest first, with customer, product, age and text.

    Reviews wait here while the program's manual_approval is on (Joy's "Default status for
    reviews: Pending"); `joyctl reviews approve` or `reject` releases them.

    Example: joyctl reviews pending
    """
    from joyctl.services.rewards.approvals import pending_reviews

    app = app_context(ctx)
    app.output.emit(pending_reviews(app.ledger()), _render_pending)


def approve(
    ctx: typer.Context,
    review_ids: ReviewIds = None,
    all_held: Annotated[
        bool, typer.Option("--all", help="Every review held for approval.")
    ] = False,
    since: Annotated[
        str | None, typer.Option(help="With --all: only reviews written at or after (ISO 8601).")
    ] = None,
    push: PushOption = False,
) -> None:
    """Approve held reviews: each goes through the reward engine again, now approved.

    An approved review earns its points unless another rule refuses it now (a limit reached
    meanwhile, for one), and the output says which. Who approved (the OS user) and when is
    kept in the ledger and shown by `joyctl reviews show`; a verdict is final. Everything is
    written in one transaction, with the Joy: Earn Point events and profile updates queued
    for Klaviyo (sent at once with --push, else by the next push).

    Examples:
      joyctl reviews approve 01HREVIEW1 01HREVIEW2
      joyctl reviews approve --all --since 2026-05-01 --push
    """
    from joyctl.services.rewards.approvals import ApprovalSelection

    selection = ApprovalSelection(
        review_ids=review_ids or [], all_held=all_held, since=_when(since)
    )
    _record(app_context(ctx), selection, "approve", None, push=push)


def reject(
    ctx: typer.Context,
    review_ids: Annotated[list[str], typer.Argument(help="Review ids to reject.")],
    reason: Annotated[str, typer.Option(help="Why; kept in the ledger with the verdict.")],
) -> None:
    """Reject held reviews: they earn nothing (MERCHANT_REJECTED), whatever the program says.

    Who rejected (the OS user), when and why is kept in the ledger and shown by
    `joyctl reviews show`; a verdict is final.

    Example: joyctl reviews reject 01HREVIEW1 --reason "not about the product"
    """
    from joyctl.services.rewards.approvals import ApprovalSelection

    selection = ApprovalSelection(review_ids=review_ids)
    _record(app_context(ctx), selection, "reject", reason, push=False)


def _record(
    app: AppContext,
    selection: ApprovalSelection,
    verdict: Verdict,
    reason: str | None,
    *,
    push: bool,
) -> None:
    from joyctl.services.rewards.approvals import current_user, record_verdict
    from joyctl.services.rewards.program import current_program
    from joyctl.services.rewards.reviews import program_connection_facts

    connection = app.ledger()
    report = record_verdict(
        connection,
        current_program(connection),
        program_connection_facts(dict(app.settings.profile.connection), connection),
        selection,
        verdict=verdict,
        decided_by=current_user(),
        reason=reason,
    )
    if push:
        from joyctl.services.outbox.pusher import push_outbox

        report = report.model_copy(update={"push": push_outbox(app.klaviyo().client, connection)})
    app.output.emit(report, _render_verdict)


def _when(value: str | None) -> object:
    if value is None:
        return None
    from joyctl.services.rewards.sources import parse_time

    return parse_time(value)


def age_text(seconds: int) -> str:
    """An age at a glance: 45s, 12m, 5h 3m, 4d 2h."""
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes}m"
    if days < 1:
        return f"{hours}h {minutes % 60}m"
    return f"{days}d {hours % 24}h"


def _render_pending(out: Output, data: list[PendingReview]) -> None:
    if not data:
        out.info("no review is waiting for approval")
        return
    rows = [
        (r.review_id, r.email or "-", r.product_id or "-", age_text(r.age_seconds), r.excerpt)
        for r in data
    ]
    out.table(["REVIEW", "CUSTOMER", "PRODUCT", "AGE", "EXCERPT"], rows)
    approve = command("reviews", "approve", "ID...")
    out.info(f"{len(data)} held; release them with `{approve}` or `--all`")


def _render_verdict(out: Output, data: VerdictReport) -> None:
    if not data.reviews:
        out.info("no review is waiting for approval")
        return
    done = "approved" if data.verdict == "approve" else "rejected"
    for review in data.reviews:
        text = f"{review.review_id} ({review.email or 'no email'}) {done}: {review.explanation}"
        if data.verdict == "approve" and review.outcome != "award":
            out.warn(f"{text}; {rule_values_text(review.rule_values)}")
        else:
            out.success(text)
    out.info(f"recorded as {done} by {data.decided_by} at {data.decided_at}")
    if data.verdict == "approve":
        out.info(f"{data.points} points to {data.awarded} reviews; {data.still_rejected} refused")
    if data.push is not None:
        waiting = f", {data.push.pending} still waiting" if data.push.pending else ""
        out.info(
            f"pushed {data.push.events_sent} events and {data.push.profiles_sent} profile"
            f" updates{waiting}"
        )
