"""`joyctl reviews list` and `reviews show`: the inbox and why a review got (no) points."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._args import LIST_LIMIT_MAX, resource_id
from joyctl.commands._common import app_context
from joyctl.commands.reviews._choices import OutcomeChoice, StatusChoice
from joyctl.commands.reviews._render import rule_values_text
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.rewards.explain import ReviewExplanation, ReviewRow


def list_(
    ctx: typer.Context,
    status: Annotated[
        StatusChoice | None, typer.Option(help="Only reviews with this Klaviyo status.")
    ] = None,
    outcome: Annotated[
        OutcomeChoice | None, typer.Option(help="Only award, reject or revoke.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=LIST_LIMIT_MAX, help="At most this many (1-10000).")
    ] = 50,
) -> None:
    """List reviews in the ledger's inbox, newest first, with their latest decision."""
    from joyctl.services.rewards.explain import list_reviews

    app = app_context(ctx)
    rows = list_reviews(
        app.ledger(),
        status=status.value if status else None,
        outcome=outcome.value if outcome else None,
        limit=limit,
    )
    app.output.emit(rows, _render_list)


def show(
    ctx: typer.Context,
    review_id: Annotated[str, typer.Argument(help="The Klaviyo review id.")],
) -> None:
    """Explain one review: every decision, the reason and the rule values that applied."""
    from joyctl.services.rewards.explain import explain_review

    app = app_context(ctx)
    review_id = resource_id("REVIEW_ID", review_id)
    app.output.emit(explain_review(app.ledger(), review_id), _render_explanation)


def _render_list(out: Output, data: list[ReviewRow]) -> None:
    rows = [
        (
            r.review_id,
            r.email or "-",
            r.created_at,
            r.status,
            r.outcome or "-",
            r.reason or "",
            r.points,
        )
        for r in data
    ]
    out.table(["REVIEW", "EMAIL", "CREATED", "STATUS", "DECISION", "REASON", "POINTS"], rows)


def _render_explanation(out: Output, data: ReviewExplanation) -> None:
    customer = f"{data.customer_id} ({data.customer_email})" if data.customer_id else "no member"
    out.fields(
        [
            ("review", data.review_id),
            ("email", data.email or "-"),
            ("customer", customer),
            ("product", data.product_id or "-"),
            ("type", data.review_type),
            ("status", data.status),
            ("created", data.created_at),
            ("received by", data.origin),
            ("approval", _approval_text(data)),
            ("verdict", data.explanation),
        ]
    )
    for d in data.decisions:
        reason = d.reason or ""
        out.line(f"  {d.decided_at}  {d.outcome:<7} {reason:<18} {d.points:>6}  ")
        out.line(f"    {rule_values_text(d.rule_values)}")


def _approval_text(data: ReviewExplanation) -> str:
    approval = data.approval
    if approval is None:
        return "-"
    done = "approved" if approval.verdict == "approve" else "rejected"
    because = f": {approval.reason}" if approval.reason else ""
    return f"{done} by {approval.decided_by} at {approval.decided_at}{because}"
