"""`joyctl reviews simulate`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from joyctl.commands._args import email_option, input_file, moment_option, resource_id
from joyctl.commands._common import app_context, exit_after
from joyctl.commands._files import is_stdio, refuse_stdio, stdin_as_file
from joyctl.commands.reviews._choices import StatusChoice, TypeChoice
from joyctl.commands.reviews._render import render_summary, rule_values_text
from joyctl.context import AppContext
from joyctl.errors import ExitCode, PartialError, UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from datetime import datetime

    from joyctl.services.rewards.reviews import SimulationReport
    from joyctl.services.rewards.sources import SimulatedReviews


def simulate(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", "-f", help="Reviews as a JSON array or JSONL (one per line); - for stdin."
        ),
    ] = None,
    email: Annotated[str | None, typer.Option(help="Reviewer's email.")] = None,
    content: Annotated[str | None, typer.Option(help="Review text.")] = None,
    product: Annotated[str | None, typer.Option(help="Product external id.")] = None,
    status: Annotated[
        StatusChoice,
        typer.Option(help="Klaviyo review status; a file's reviews without one: published."),
    ] = StatusChoice.PUBLISHED,
    review_type: Annotated[
        TypeChoice, typer.Option("--type", help="review, question, rating or store.")
    ] = TypeChoice.REVIEW,
    verified: Annotated[bool, typer.Option(help="Verified purchase.")] = False,
    image: Annotated[list[str] | None, typer.Option(help="Image URL (repeatable).")] = None,
    created: Annotated[
        str | None, typer.Option(help="When it was written (ISO 8601; default now).")
    ] = None,
    review_id: Annotated[
        str | None,
        typer.Option("--id", help="Review id (default: a new one for each simulation)."),
    ] = None,
    commit: Annotated[
        bool, typer.Option(help="Write the decisions and points to the ledger.")
    ] = False,
    connected_at: Annotated[
        str | None,
        typer.Option(help="Pretend Klaviyo Reviews was connected at this time (ISO 8601)."),
    ] = None,
    quarantine: Annotated[
        Path | None,
        typer.Option(
            help="Where unusable reviews of --file go (default: FILE.quarantine.jsonl).",
            dir_okay=False,
        ),
    ] = None,
) -> int:
    """Show what the engine decides for reviews, with the reason and the rule values.

    Nothing is written unless --commit. File fields: id, email, content, product_id, status,
    review_type, verified, images, created, rating; a field left out has the option's default
    (status published, type review, not verified, written now). A review without an id gets
    a new one (simulated-...), printed with the result, so committed simulations never collide.
    A review of the file that cannot be used goes to a quarantine file (line, reason, record)
    and the rest are decided; the exit status is then 7.

    Example: joyctl reviews simulate --email ann@example.com --content "Great tea" \\
        --product tea-1
    """
    from joyctl.services.rewards.sources import SimulatedReviews

    app = app_context(ctx)
    source = SimulatedReviews()
    reviews: Any = None
    connected = moment_option("--connected-at", connected_at)
    if file is not None:
        refuse_stdio(quarantine, "--quarantine", "stdout holds the report; give the file a name")
        if not is_stdio(file):
            file = input_file("--file", file)
    elif email and content is not None:
        written = moment_option("--created", created)
        fields = {
            "id": None if review_id is None else resource_id("--id", review_id),
            "email": email_option("--email", email),
            "content": content,
            "product_id": product,
            "status": status.value,
            "review_type": review_type.value,
            "verified": verified,
            "images": image or [],
            "created": written.isoformat() if written else None,
        }
        reviews = [source.review(fields)]
    elif file is None:
        raise UsageError("nothing to simulate", hint="pass --file FILE, or --email and --content")
    return _decide(app, source, file, reviews, commit=commit, connected=connected,
                   quarantine=quarantine)  # fmt: skip


def _decide(
    app: AppContext,
    source: SimulatedReviews,
    file: Path | None,
    reviews: Any,
    *,
    commit: bool,
    connected: datetime | None,
    quarantine: Path | None,
) -> int:
    from joyctl.services.rewards.program import current_program
    from joyctl.services.rewards.reviews import (
        program_connection_facts,
        simulate_review_file,
        simulate_reviews,
    )

    connection = app.ledger()
    facts_source = dict(app.settings.profile.connection)
    if connected is not None:
        facts_source["connected_at"] = connected.isoformat()
    program, facts = current_program(connection), program_connection_facts(facts_source, connection)
    if file is not None:
        # Stdin is copied to a file first: the reader looks at the start, then reads again.
        with _readable(app, file) as readable:
            report = simulate_review_file(
                connection, program, facts, readable, commit=commit,
                quarantine=quarantine or _stdin_quarantine(file),
                complete=source.complete, generated_ids=source.generated,
            )  # fmt: skip
    else:
        report = simulate_reviews(
            connection, program, facts, reviews, commit=commit, generated_ids=source.generated
        )
    app.output.emit(report, _render_simulation)
    if report.quarantined:
        return exit_after(app, PartialError(
            f"{report.quarantined} reviews quarantined in {report.quarantine_file}",
            hint="fix them in FILE and simulate again",
        ))  # fmt: skip
    return ExitCode.OK


def _stdin_quarantine(file: Path) -> Path | None:
    """Where unusable reviews of stdin go: beside no file, so in the current folder."""
    return Path("stdin.quarantine.jsonl") if is_stdio(file) else None


@contextmanager
def _readable(app: AppContext, file: Path) -> Iterator[Path]:
    if not is_stdio(file):
        yield file
        return
    with stdin_as_file(app, "--file") as copied:
        yield copied


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
    if data.generated_ids:
        shown = ", ".join(data.generated_ids[:3]) + (", ..." if len(data.generated_ids) > 3 else "")
        out.info(f"review ids made up for reviews given without one: {shown} (choose with --id)")
