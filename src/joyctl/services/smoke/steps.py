"""The steps of `joyctl smoke`, in the order they run (see `run` for the runner).

Each step returns one line of evidence or raises the JoyctlError that explains its failure.
What the steps write is kept apart from real data: one dedicated profile (SMOKE_EMAIL), one
dedicated metric and product, and a marker unique to the run in every value.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from joyctl.api_contract import FEATURE_SCOPES
from joyctl.command_line import command
from joyctl.errors import CheckFailedError, JoyctlError, PermissionDeniedError, UsageError
from joyctl.klaviyo.models import Event, Profile, Review
from joyctl.services.diagnose.review_checks import SUBMITTED_REVIEW, WEBHOOK_ENDPOINT_HINT
from joyctl.services.smoke.model import LIVE_ACCOUNT_CODE, SmokeRun, StepSkipped, StepSpec

SMOKE_EMAIL = "joyctl-smoke@example.com"
SMOKE_PRODUCT = "joyctl-smoke"
SMOKE_METRIC = "joyctl Smoke Test"
MARKER_PROPERTY = "joyctl_smoke_marker"
# Reads are filtered from a little before the run started, in case this machine's clock is
# ahead of Klaviyo's; the marker still tells this run's items from older ones.
CLOCK_SLACK = timedelta(minutes=10)
REVIEWS_SCANNED = 500
EVENTS_SCANNED = 1000
SMOKE_SCOPES: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *FEATURE_SCOPES["connection"],
            *FEATURE_SCOPES["review_rewards"],
            *FEATURE_SCOPES["events"],
            *FEATURE_SCOPES["profiles"],
            "reviews:write",
        ]
    )
)


def authenticate(run: SmokeRun) -> str:
    from joyctl.klaviyo.resources.accounts import get_account

    run.session = run.open_session()
    account = get_account(run.client)
    run.account = account
    name = account.organization_name or "unnamed"
    if not account.test_account and not run.options.allow_live_account:
        raise UsageError(
            f"account {account.id} ({name}) is a live Klaviyo account; smoke would write a test"
            " review, event and profile property to it",
            hint="point smoke at a Klaviyo test account, or pass --allow-live-account",
            code=LIVE_ACCOUNT_CODE,
        )
    kind = "test account" if account.test_account else "live account (--allow-live-account)"
    source = run.session.credential.describe()
    return f"GET /api/accounts: {account.id} ({name}, {kind}); credential from {source}"


def scopes(run: SmokeRun) -> str:
    """Compare a stored OAuth grant when there is one, and probe each read scope either way.

    A private key or a bare access token cannot be introspected, and the write scopes cannot
    be probed without writing, so those are proven by the steps that use them.
    """
    evidence: list[str] = []
    tokens = run.session.credential.tokens if run.session else None
    if tokens is not None:
        missing = [scope for scope in SMOKE_SCOPES if scope not in tokens.scopes]
        if missing:
            raise PermissionDeniedError(
                f"the grant lacks {' '.join(missing)}",
                hint=f"reconnect and approve every requested permission: `{command('connect')}`",
            )
        evidence.append(f"grant has {' '.join(SMOKE_SCOPES)}")
    probed = _probe_reads(run)
    denied = [f"{scope} ({problem})" for scope, problem in probed if problem]
    if denied:
        raise PermissionDeniedError(
            f"Klaviyo refused {'; '.join(denied)}",
            hint=f"give the key or grant these scopes (for OAuth: `{command('connect')}`)",
        )
    evidence.append("reads allowed: " + " ".join(scope for scope, _ in probed))
    return "; ".join(evidence)


def _probe_reads(run: SmokeRun) -> list[tuple[str, str | None]]:
    from joyctl.klaviyo.resources.metrics import get_events, get_metrics
    from joyctl.klaviyo.resources.profiles import get_profile_by_email
    from joyctl.klaviyo.resources.reviews import list_reviews

    client = run.client
    probes = {
        "reviews:read": lambda: list(list_reviews(client, limit=1, page_size=1)),
        "events:read": lambda: list(get_events(client, limit=1, page_size=1)),
        "metrics:read": lambda: get_metrics(client),
        "profiles:read": lambda: get_profile_by_email(client, SMOKE_EMAIL),
        # The plan gate on webhooks is not a scope problem; review_webhook reports it.
        "webhooks:read": run.webhooks,
    }
    results: list[tuple[str, str | None]] = []
    for scope, probe in probes.items():
        try:
            probe()
        except PermissionDeniedError as error:
            results.append((scope, error.message))
            continue
        except JoyctlError:
            pass  # not a missing scope (a plan gate, an outage): the steps that read report it
        results.append((scope, None))
    return results


def review_webhook(run: SmokeRun) -> str:
    subscribed = [hook for hook in run.webhooks() if SUBMITTED_REVIEW in hook.topic_ids]
    if not subscribed:
        raise CheckFailedError(
            f"no webhook subscribes to {SUBMITTED_REVIEW}, so reviews never reach joyctl",
            hint="create one: `"
            + command("webhooks", "create", "--endpoint", WEBHOOK_ENDPOINT_HINT)
            + "`",
        )
    enabled = [hook for hook in subscribed if hook.enabled is not False]
    if not enabled:
        raise CheckFailedError(
            f"webhook {subscribed[0].id} subscribes to {SUBMITTED_REVIEW} but is disabled",
            hint=f"enable it: `{command('webhooks', 'enable', subscribed[0].id)}`",
        )
    hook = enabled[0]
    return f"webhook {hook.id} ({hook.name or 'unnamed'}) is enabled for {SUBMITTED_REVIEW}"


def submit_review(run: SmokeRun) -> str:
    from joyctl.klaviyo.resources.client_reviews import ClientReview
    from joyctl.services.rewards.replay import submit_review as submit

    review = ClientReview(
        review_type="review",
        email=SMOKE_EMAIL,
        author="joyctl smoke",
        title="joyctl smoke test",
        content=f"Automated joyctl smoke test review {run.marker}; it is rejected afterwards.",
        rating=5,
        product_external_id=SMOKE_PRODUCT,
    )
    submitted = submit(run.client, review, allow_live_account=run.options.allow_live_account)
    return f"POST /client/reviews (company {submitted.company_id}): accepted, marker {run.marker}"


def find_review(run: SmokeRun) -> str:
    from joyctl.klaviyo.resources.reviews import list_reviews

    since = run.started_at - CLOCK_SLACK

    def find() -> Review | None:
        recent = list_reviews(
            run.client, created_from=since, sort="-created", page_size=100, limit=REVIEWS_SCANNED
        )
        return next((review for review in recent if run.marker in (review.content or "")), None)

    review = run.poll("the submitted review in GET /api/reviews", find)
    run.review = review
    return f"GET /api/reviews: review {review.id}, status {review.status_value or 'unknown'}"


@contextmanager
def scratch_ledger() -> Iterator[sqlite3.Connection]:
    """A migrated ledger in a temporary folder, removed afterwards with everything in it."""
    from joyctl.ledger.db import open_ledger

    with tempfile.TemporaryDirectory(prefix="joyctl-smoke-") as folder:
        connection = open_ledger(Path(folder) / "ledger.sqlite3")
        try:
            yield connection
        finally:
            connection.close()


def engine(run: SmokeRun) -> str:
    """The found review, decided by the real pipeline for a member with SMOKE_EMAIL.

    The program awards on submission, so the check does not depend on whether the account
    holds new reviews for moderation or publishes them at once.
    """
    from joyctl.engine import ConnectionFacts, program_from_mapping
    from joyctl.ledger.customers import CustomerFields, upsert_customer
    from joyctl.ledger.points import current_balance
    from joyctl.services.rewards.pipeline import RewardPipeline
    from joyctl.services.rewards.sources import incoming_from_klaviyo

    review = _found_review(run)
    program = program_from_mapping({"enabled": True, "award_on": "submitted"})
    written = review.created or datetime.now(UTC)
    facts = ConnectionFacts(connected_at=written - timedelta(days=1))
    with scratch_ledger() as connection:
        customer_id = upsert_customer(connection, CustomerFields(email=SMOKE_EMAIL)).customer_id
        pipeline = RewardPipeline(connection, program, facts)
        incoming = incoming_from_klaviyo(review, origin="smoke")
        outcome = next(iter(pipeline.run([incoming])))
        balance = current_balance(connection, customer_id)
    if outcome.outcome != "award" or balance != program.points_per_review:
        why = outcome.reason or outcome.outcome
        raise CheckFailedError(
            f"the engine did not award review {review.id}: {why} {outcome.rule_values or ''}",
            hint="the engine decided the review as Klaviyo returned it; check it in Klaviyo",
        )
    return f"awarded {outcome.points} points in a scratch ledger (balance {balance})"


def _found_review(run: SmokeRun) -> Review:
    if run.review is None:  # the runner only starts this step after find_review passed
        raise RuntimeError("no review was found")
    return run.review


def event_round_trip(run: SmokeRun) -> str:
    from joyctl.klaviyo.resources.events import EventInput, create_event
    from joyctl.klaviyo.resources.metrics import find_metric_by_name, get_events

    event = EventInput(
        metric_name=SMOKE_METRIC,
        properties={MARKER_PROPERTY: run.marker},
        time=datetime.now(UTC),
        unique_id=run.marker,
    )
    create_event(run.client, event, {"email": SMOKE_EMAIL})
    since = run.started_at - CLOCK_SLACK

    def find() -> Event | None:
        metric = find_metric_by_name(run.client, SMOKE_METRIC)
        if metric is None:
            return None
        events = get_events(
            run.client, metric_id=metric.id, since=since, page_size=200, limit=EVENTS_SCANNED
        )
        marked = (found for found in events if found.event_properties.get(MARKER_PROPERTY))
        return next((found for found in marked if _carries(found, run.marker)), None)

    found = run.poll(f"the {SMOKE_METRIC!r} event in GET /api/events", find)
    return f"POST /api/events, then GET /api/events: event {found.id}, unique id {run.marker}"


def _carries(event: Event, marker: str) -> bool:
    return event.event_properties.get(MARKER_PROPERTY) == marker


def profile_round_trip(run: SmokeRun) -> str:
    from joyctl.klaviyo.resources.profiles import get_profile_by_email, upsert_profile

    upsert_profile(run.client, {"email": SMOKE_EMAIL, "properties": {MARKER_PROPERTY: run.marker}})

    def find() -> Profile | None:
        profile = get_profile_by_email(run.client, SMOKE_EMAIL)
        if profile is None or profile.properties.get(MARKER_PROPERTY) != run.marker:
            return None
        return profile

    profile = run.poll(f"{MARKER_PROPERTY} on profile {SMOKE_EMAIL}", find)
    return f"POST /api/profile-import, then GET /api/profiles: {profile.id} has the marker"


def cleanup(run: SmokeRun) -> str:
    from joyctl.klaviyo.resources.reviews import update_review_status

    review = _found_review(run)
    if run.options.keep:
        raise StepSkipped(f"review {review.id} kept (--keep)")
    updated = update_review_status(
        run.client,
        review.id,
        "rejected",
        rejection_reason="other",
        status_explanation=f"joyctl smoke test {run.marker}",
    )
    if updated.status_value != "rejected":
        raise CheckFailedError(
            f"review {review.id} is {updated.status_value} after asking to reject it",
            hint="reject it in Klaviyo's review moderation page",
        )
    return f"PATCH /api/reviews/{review.id}: rejected"


STEPS: tuple[StepSpec, ...] = (
    StepSpec(
        "authenticate",
        "Klaviyo accepts the credentials and the account is a test account",
        authenticate,
    ),
    StepSpec("scopes", "The credentials have the scopes joyctl needs", scopes, ("authenticate",)),
    StepSpec(
        "review_webhook",
        "An enabled webhook subscribes to submitted reviews",
        review_webhook,
        ("authenticate",),
    ),
    StepSpec(
        "submit_review",
        "A client review carrying the run's marker is accepted",
        submit_review,
        # A review that cannot be read back or rejected would be left behind on the account.
        ("scopes",),
    ),
    StepSpec(
        "find_review", "The review appears in GET /api/reviews", find_review, ("submit_review",)
    ),
    StepSpec(
        "engine",
        "The reward engine awards the review in a scratch ledger",
        engine,
        ("find_review",),
    ),
    StepSpec(
        "event_round_trip",
        "A test event with a unique id is read back from GET /api/events",
        event_round_trip,
        ("authenticate",),
    ),
    StepSpec(
        "profile_round_trip",
        "A profile property is written and read back",
        profile_round_trip,
        ("authenticate",),
    ),
    StepSpec("cleanup", "The test review is rejected", cleanup, ("find_review",)),
)
