"""`joyctl reviews`: run Klaviyo reviews through the reward engine and explain the decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from joyctl.commands._common import app_context
from joyctl.errors import UsageError
from joyctl.output import Output

app = typer.Typer(
    help="Simulate, replay, submit and explain Klaviyo review rewards.", no_args_is_help=True
)


@app.command("simulate")
def simulate(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Reviews as a JSON array or JSONL (one per line)."),
    ] = None,
    email: Annotated[str | None, typer.Option(help="Reviewer's email.")] = None,
    content: Annotated[str | None, typer.Option(help="Review text.")] = None,
    product: Annotated[str | None, typer.Option(help="Product external id.")] = None,
    status: Annotated[str, typer.Option(help="Klaviyo review status.")] = "published",
    review_type: Annotated[
        str, typer.Option("--type", help="review, question, rating or store.")
    ] = "review",
    verified: Annotated[bool, typer.Option(help="Verified purchase.")] = False,
    image: Annotated[list[str] | None, typer.Option(help="Image URL (repeatable).")] = None,
    created: Annotated[
        str | None, typer.Option(help="When it was written (ISO 8601; default now).")
    ] = None,
    review_id: Annotated[str, typer.Option("--id", help="Review id.")] = "simulated-review",
    commit: Annotated[
        bool, typer.Option(help="Write the decisions and points to the ledger.")
    ] = False,
    connected_at: Annotated[
        str | None,
        typer.Option(help="Pretend Klaviyo Reviews was connected at this time (ISO 8601)."),
    ] = None,
) -> None:
    """Show what the engine decides for reviews, with the reason and the rule values.

    Nothing is written unless --commit. File fields: id, email, content, product_id, status,
    review_type, verified, images, created, rating.

    Example: joyctl reviews simulate --email ann@example.com --content "Great tea" --product tea-1
    """
    from joyctl.services.program import current_program
    from joyctl.services.review_sources import incoming_from_fields, read_review_file
    from joyctl.services.reviews import connection_facts, simulate_reviews

    app = app_context(ctx)
    if file is not None:
        reviews: Any = read_review_file(file, origin="simulate")
    elif email and content is not None:
        fields = {
            "id": review_id,
            "email": email,
            "content": content,
            "product_id": product,
            "status": status,
            "review_type": review_type,
            "verified": verified,
            "images": image or [],
            "created": created,
        }
        reviews = [incoming_from_fields(fields, origin="simulate")]
    else:
        raise UsageError("nothing to simulate", hint="pass --file FILE, or --email and --content")
    connection = app.ledger()
    facts_source = dict(app.settings.profile.connection)
    if connected_at:
        facts_source["connected_at"] = connected_at
    report = simulate_reviews(
        connection,
        current_program(connection),
        connection_facts(facts_source),
        reviews,
        commit=commit,
    )
    app.output.emit(report, _render_simulation)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="Only reviews with this Klaviyo status.")
    ] = None,
    outcome: Annotated[str | None, typer.Option(help="Only award, reject or revoke.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
) -> None:
    """List reviews in the ledger's inbox, newest first, with their latest decision."""
    from joyctl.services.reviews import list_reviews

    app = app_context(ctx)
    rows = list_reviews(app.ledger(), status=status, outcome=outcome, limit=limit)
    app.output.emit(rows, _render_list)


@app.command("show")
def show(
    ctx: typer.Context,
    review_id: Annotated[str, typer.Argument(help="The Klaviyo review id.")],
) -> None:
    """Explain one review: every decision, the reason and the rule values that applied."""
    from joyctl.services.reviews import explain_review

    app = app_context(ctx)
    app.output.emit(explain_review(app.ledger(), review_id), _render_explanation)


def _render_simulation(out: Output, data: Any) -> None:
    rows = [
        (d.review_id, d.email or "-", d.outcome, d.reason or "", d.points, _values(d.rule_values))
        for d in data.decisions
    ]
    out.table(["REVIEW", "EMAIL", "DECISION", "REASON", "POINTS", "RULE VALUES"], rows)
    _render_summary(out, data.summary)


def _render_summary(out: Output, summary: Any) -> None:
    rejected = ", ".join(f"{reason} {count}" for reason, count in summary.rejected.items())
    written = "" if summary.committed else " (nothing written)"
    out.info(
        f"{summary.reviews} reviews: {summary.awarded} awarded ({summary.points} points,"
        f" {summary.customers} customers), {summary.revoked} revoked,"
        f" {summary.unchanged} unchanged{written}"
    )
    if rejected:
        out.info(f"rejected: {rejected}")


def _render_list(out: Output, data: Any) -> None:
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


def _render_explanation(out: Output, data: Any) -> None:
    out.fields(
        [
            ("review", data.review_id),
            ("email", data.email or "-"),
            ("customer", data.customer_id or "no member"),
            ("product", data.product_id or "-"),
            ("type", data.review_type),
            ("status", data.status),
            ("created", data.created_at),
            ("received by", data.origin),
            ("verdict", data.explanation),
        ]
    )
    for d in data.decisions:
        reason = d.reason or ""
        out.line(f"  {d.decided_at}  {d.outcome:<7} {reason:<18} {d.points:>6}  ")
        out.line(f"    {_values(d.rule_values)}")


def _values(values: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in values.items())
