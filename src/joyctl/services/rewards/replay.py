"""`joyctl reviews replay` and `reviews submit`: the reviews workflow steps that call Klaviyo.

Replay pages through `GET /api/reviews` and runs each page through the reward pipeline, which
commits batch by batch; a replay that was interrupted is resumed by running it again, since
reviews already decided are recognised and left unchanged. A review whose fields are out of
bounds goes to a quarantine file in the profile's data folder and the replay goes on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from joyctl.engine import ConnectionFacts, WriteReviewProgram
from joyctl.errors import DataError, UsageError
from joyctl.files.quarantine import QuarantineLog
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources.accounts import get_account
from joyctl.klaviyo.resources.client_reviews import ClientReview, submit_client_review
from joyctl.klaviyo.resources.reviews import list_reviews
from joyctl.services.outbox.pusher import PushReport
from joyctl.services.rewards.pipeline import IncomingReview, RewardPipeline
from joyctl.services.rewards.reviews import RunSummary, summarize
from joyctl.services.rewards.sources import incoming_from_klaviyo


class ReplayFilter(BaseModel):
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    ids: list[str] = []


class ReplaySummary(RunSummary):
    quarantined: int = 0
    """Reviews Klaviyo returned that could not be decided (a field out of bounds)."""
    quarantine_file: str | None = None


def quarantine_path(data_dir: Path, now: datetime) -> Path:
    """Where one replay's quarantine goes: the profile's data folder, named by the time."""
    return data_dir / "reviews" / f"replay-{now:%Y%m%dT%H%M%S}.quarantine.jsonl"


def fetch_reviews(
    client: KlaviyoClient, selection: ReplayFilter, quarantine: QuarantineLog
) -> Iterator[IncomingReview]:
    """The selected reviews as pipeline input; one that cannot be is quarantined, by its place
    in the replay, and the replay goes on."""
    pages = list_reviews(
        client,
        created_from=selection.since,
        created_to=selection.until,
        status=selection.status,
        ids=selection.ids,
        sort="created",
        page_size=100,
    )
    for number, review in enumerate(pages, start=1):
        try:
            incoming = incoming_from_klaviyo(review, origin="replay")
        except DataError as exc:
            quarantine.add(number, exc.message, review.model_dump(mode="json"))
            continue
        yield incoming


def replay_reviews(
    client: KlaviyoClient,
    connection: sqlite3.Connection,
    program: WriteReviewProgram,
    facts: ConnectionFacts,
    selection: ReplayFilter,
    *,
    dry_run: bool,
    data_dir: Path,
) -> ReplaySummary:
    pipeline = RewardPipeline(connection, program, facts, commit=not dry_run)
    log = QuarantineLog(
        quarantine_path(data_dir, datetime.now(UTC)), resumed=False, origin_name="review"
    )
    with closing(log):
        for _ in pipeline.run(fetch_reviews(client, selection, log)):
            pass
    summary = summarize(pipeline.tally, committed=not dry_run)
    return ReplaySummary(
        **summary.model_dump(),
        quarantined=log.count,
        quarantine_file=str(log.path) if log.count else None,
    )


class PushedRunSummary(ReplaySummary):
    """A replay's summary and what sending the outbox right after it did (`replay --push`)."""

    push: PushReport


class SubmittedReview(BaseModel):
    company_id: str
    email: str
    product_id: str | None
    review_type: str
    incentive_type: str | None
    test_account: bool


def submit_review(
    client: KlaviyoClient, review: ClientReview, *, allow_live_account: bool
) -> SubmittedReview:
    """Submit through the client API as a shopper would, only to a test account by default."""
    account = get_account(client)
    if not account.test_account and not allow_live_account:
        raise UsageError(
            f"account {account.id} is a live Klaviyo account; submitting would add a real review",
            hint="use a test account, or pass --allow-live-account if you mean it",
        )
    if not account.public_api_key:
        raise UsageError("the account has no public API key to submit reviews with")
    submit_client_review(client, account.public_api_key, review)
    return SubmittedReview(
        company_id=account.public_api_key,
        email=review.email,
        product_id=review.product_external_id,
        review_type=review.review_type,
        incentive_type=review.incentive_type,
        test_account=account.test_account,
    )
