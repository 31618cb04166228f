"""`joyctl reviews replay` and `reviews submit`: the steps that call Klaviyo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from joyctl.command_line import command
from joyctl.commands._args import email_option, moment_option, resource_id
from joyctl.commands._common import app_context, exit_after
from joyctl.commands.reviews._choices import StatusChoice, TypeChoice
from joyctl.commands.reviews._render import render_summary
from joyctl.errors import ExitCode, PartialError, UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.rewards.replay import PushedRunSummary


def replay(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="Reviews created at or after (ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Reviews created at or before (ISO 8601).")
    ] = None,
    status: Annotated[
        StatusChoice | None, typer.Option(help="Only reviews with this Klaviyo status.")
    ] = None,
    review_id: Annotated[
        list[str] | None, typer.Option("--id", help="Only this review (repeatable).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Decide and report, write nothing.")] = False,
    push: Annotated[
        bool, typer.Option(help="Then send the new Joy events and profile updates to Klaviyo.")
    ] = False,
) -> int:
    """Fetch reviews from Klaviyo and run each through the reward engine into the ledger.

    Idempotent: a second run awards nothing new. An interrupted replay is resumed by running
    it again. Needs the reviews:read scope. With --push, everything waiting in the outbox
    (Joy: Earn Point events, which trigger flows, and Joy Loyalty Points updates) is sent after.
    A review that cannot be decided (a field out of bounds) goes to a quarantine file in the
    profile's data folder and the others go on; the exit status is then 7.

    Example: joyctl reviews replay --since 2026-01-01
    """
    from joyctl.services.rewards.program import current_program
    from joyctl.services.rewards.replay import ReplayFilter, replay_reviews
    from joyctl.services.rewards.reviews import program_connection_facts

    app = app_context(ctx)
    if push and dry_run:
        raise UsageError("--push sends what the replay records; --dry-run records nothing")
    selection = ReplayFilter(
        since=moment_option("--since", since),
        until=moment_option("--until", until),
        status=status.value if status else None,
        ids=[resource_id("--id", one) for one in review_id or []],
    )
    if selection.since and selection.until and selection.since > selection.until:
        raise UsageError("--since is after --until", hint="swap them")
    connection = app.ledger()
    session = app.klaviyo()
    summary = replay_reviews(
        session.client,
        connection,
        current_program(connection),
        program_connection_facts(dict(app.settings.profile.connection), connection),
        selection,
        dry_run=dry_run,
        data_dir=app.paths.profile_data_dir(app.settings.profile.name),
    )
    if push:
        _push_and_emit(app, session.client, connection, summary)
    else:
        app.output.emit(summary, render_summary)
    if summary.quarantined:
        return exit_after(app, PartialError(
            f"{summary.quarantined} reviews quarantined in {summary.quarantine_file}",
            hint=f"`{command('reviews', 'replay')}` again decides them once they are fixed in"
            " Klaviyo",
        ))  # fmt: skip
    return ExitCode.OK


def _push_and_emit(app: Any, client: Any, connection: Any, summary: Any) -> None:
    """Send the outbox; the data is the replay's summary with the push report under "push"."""
    from joyctl.services.outbox.pusher import push_outbox
    from joyctl.services.rewards.replay import PushedRunSummary

    report = push_outbox(client, connection)
    data = PushedRunSummary(**summary.model_dump(), push=report)
    app.output.emit(data, _render_pushed)


def _render_pushed(out: Output, data: PushedRunSummary) -> None:
    render_summary(out, data)
    push = data.push
    waiting = f", {push.pending} still waiting" if push.pending else ""
    out.info(
        f"pushed {push.events_sent} events and {push.profiles_sent} profile updates"
        f" ({push.events_refused + push.profiles_refused} refused){waiting}"
    )


def submit(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Reviewer's email.")],
    content: Annotated[str, typer.Option(help="Review text.")],
    author: Annotated[str, typer.Option(help="Name shown with the review.")] = "joyctl",
    rating: Annotated[int | None, typer.Option(min=1, max=5, help="Stars, 1 to 5.")] = 5,
    title: Annotated[str | None, typer.Option(help="Review title.")] = None,
    product: Annotated[str | None, typer.Option(help="Product external id (Shopify).")] = None,
    review_type: Annotated[
        TypeChoice, typer.Option("--type", help="review, question, rating or store.")
    ] = TypeChoice.REVIEW,
    incentive: Annotated[
        str, typer.Option(help="Klaviyo incentive_type; reviews rewarded with points disclose it.")
    ] = "loyalty_points",
    allow_live_account: Annotated[
        bool, typer.Option(help="Allow submitting to a live (non-test) account.")
    ] = False,
) -> None:
    """Submit a review through Klaviyo's client API, as a shopper would.

    Uses the account's public key as company_id. Refuses a live account unless
    --allow-live-account.

    Example: joyctl reviews submit --email ann@example.com --product tea-1 \\
        --content "Lovely tea"
    """
    from joyctl.klaviyo.resources.client_reviews import ClientReview
    from joyctl.services.rewards.replay import submit_review

    app = app_context(ctx)
    review = ClientReview(
        review_type=review_type.value,
        email=email_option("--email", email),
        author=author,
        content=content,
        rating=rating,
        title=title,
        product_external_id=product,
        incentive_type=incentive or None,
    )
    result = submit_review(app.klaviyo().client, review, allow_live_account=allow_live_account)
    app.output.emit(result, lambda out, data: out.success(f"review by {data.email} submitted"))
