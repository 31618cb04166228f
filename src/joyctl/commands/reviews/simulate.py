"""`joyctl reviews simulate`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from joyctl.commands._args import email_option, input_file, moment_option, resource_id
from joyctl.commands._common import app_context
from joyctl.commands.reviews._choices import StatusChoice, TypeChoice
from joyctl.commands.reviews._render import render_summary, rule_values_text
from joyctl.errors import UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.rewards.reviews import SimulationReport


def simulate(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="Reviews as a JSON array or JSONL (one per line)."),
    ] = None,
    email: Annotated[str | None, typer.Option(help="Reviewer's email.")] = None,
    content: Annotated[str | None, typer.Option(help="Review text.")] = None,
    product: Annotated[str | None, typer.Option(help="Product external id.")] = None,
    status: Annotated[StatusChoice, typer.Option(help="Klaviyo review status.")] = (
        StatusChoice.PUBLISHED
    ),
    review_type: Annotated[
        TypeChoice, typer.Option("--type", help="review, question, rating or store.")
    ] = TypeChoice.REVIEW,
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
    from joyctl.services.rewards.program import current_program
    from joyctl.services.rewards.reviews import program_connection_facts, simulate_reviews
    from joyctl.services.rewards.sources import incoming_from_fields, read_review_file

    app = app_context(ctx)
    connected = moment_option("--connected-at", connected_at)
    if file is not None:
        reviews: Any = read_review_file(input_file("--file", file), origin="simulate")
    elif email and content is not None:
        written = moment_option("--created", created)
        fields = {
            "id": resource_id("--id", review_id),
            "email": email_option("--email", email),
            "content": content,
            "product_id": product,
            "status": status.value,
            "review_type": review_type.value,
            "verified": verified,
            "images": image or [],
            "created": written.isoformat() if written else None,
        }
        reviews = [incoming_from_fields(fields, origin="simulate")]
    else:
        raise UsageError("nothing to simulate", hint="pass --file FILE, or --email and --content")
    connection = app.ledger()
    facts_source = dict(app.settings.profile.connection)
    if connected is not None:
        facts_source["connected_at"] = connected.isoformat()
    report = simulate_reviews(
        connection,
        current_program(connection),
        program_connection_facts(facts_source, connection),
        reviews,
        commit=commit,
    )
    app.output.emit(report, _render_simulation)


def _render_simulation(out: Output, data: SimulationReport) -> None:
    rows = [
        (
            d.review_id,
            d.email or "-",
            d.outcome,
            d.reason or "",
            d.points,
            rule_values_text(d.rule_values),
        )
        for d in data.decisions
    ]
    out.table(["REVIEW", "EMAIL", "DECISION", "REASON", "POINTS", "RULE VALUES"], rows)
    render_summary(out, data.summary)
