"""`joyctl reviews pending|approve|reject`: the manual-approval queue.

This is Joy's "Default status for reviews: Pending": with `manual_approval` on, rule 13 holds
every otherwise eligible review (AWAITING_APPROVAL) until someone approves or rejects it. A
verdict is recorded in the ledger with who gave it (the OS user) and when, and the review goes
through the engine again in the same transaction: approved, it earns its points unless another
rule now refuses it (a limit reached meanwhile, say), and its Klaviyo event and profile update
are queued in the outbox; rejected, it earns nothing (MERCHANT_REJECTED). Verdicts are final.
"""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.engine import ConnectionFacts, WriteReviewProgram
from joyctl.errors import NotFoundError, UsageError
from joyctl.ledger import reviews as review_queries
from joyctl.ledger.db import transaction
from joyctl.services.outbox.pusher import PushReport
from joyctl.services.rewards.explain import REASON_TEXT
from joyctl.services.rewards.pipeline import IncomingReview, Outcome, RewardPipeline
from joyctl.services.rewards.reviews import DecisionView, decision_view
from joyctl.services.rewards.sources import incoming_from_fields

EXCERPT_CHARACTERS = 60
Verdict = Literal["approve", "reject"]


class PendingReview(BaseModel):
    review_id: str
    email: str | None
    customer_id: int | None
    product_id: str | None
    created_at: str
    held_since: str
    age_seconds: int
    """How long ago the review was written: how long its author has waited for points."""
    excerpt: str


class VerdictOutcome(DecisionView):
    """What the engine decided for one review once the verdict was recorded."""

    explanation: str


class VerdictReport(BaseModel):
    verdict: Verdict
    decided_by: str
    decided_at: str
    reason: str | None
    reviews: list[VerdictOutcome]
    awarded: int
    points: int
    still_rejected: int
    """Approved reviews another rule refused all the same (each one says which rule)."""
    push: PushReport | None = None
    """What sending the outbox right after did (`--push`)."""


class ApprovalSelection(BaseModel):
    """Which held reviews a verdict is for: these ids, or all of them (written since a time)."""

    review_ids: list[str] = []
    all_held: bool = False
    since: datetime | None = None


def current_user() -> str:
    """The OS user recorded with each verdict."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no USER/LOGNAME variable
        return "unknown"


def pending_reviews(
    connection: sqlite3.Connection, *, now: datetime | None = None
) -> list[PendingReview]:
    """The held reviews, oldest first, with their customer, product, age and an excerpt."""
    moment = now or datetime.now(UTC)
    return [_pending(held, moment) for held in review_queries.held_reviews(connection)]


def _pending(held: review_queries.HeldReview, now: datetime) -> PendingReview:
    review = held.review
    written = datetime.fromisoformat(review.created_at)
    return PendingReview(
        review_id=review.review_id,
        email=review.email,
        customer_id=review.customer_id,
        product_id=review.product_id,
        created_at=review.created_at,
        held_since=held.held_since,
        age_seconds=max(int((now - written).total_seconds()), 0),
        excerpt=excerpt(str(review.raw.get("content") or "")),
    )


def excerpt(text: str, width: int = EXCERPT_CHARACTERS) -> str:
    """The start of a review's text on one line, cut at a word where it can be."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat[: width - 1].rsplit(" ", 1)[0] or flat[: width - 1]
    return cut + "…"


def record_verdict(
    connection: sqlite3.Connection,
    program: WriteReviewProgram,
    facts: ConnectionFacts,
    selection: ApprovalSelection,
    *,
    verdict: Verdict,
    decided_by: str,
    reason: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> VerdictReport:
    """Approve or reject held reviews and decide them again, all in one transaction."""
    _check_selection(selection, verdict, reason)
    pipeline = RewardPipeline(connection, program, facts, clock=clock)
    stamp = clock().isoformat()
    with transaction(connection):
        held = _selected(connection, selection)
        for review in held:
            approval = review_queries.Approval(review.review_id, verdict, decided_by, reason, stamp)
            review_queries.record_approval(connection, approval)
        reviews = [incoming_from_inbox(review) for review in held]
        outcomes = pipeline.decide_batch(reviews) if reviews else []
    results = [_result(outcome) for outcome in outcomes]
    return VerdictReport(
        verdict=verdict,
        decided_by=decided_by,
        decided_at=stamp,
        reason=reason,
        reviews=results,
        awarded=sum(1 for r in results if r.outcome == "award" and r.points > 0),
        points=sum(r.points for r in results if r.outcome == "award"),
        still_rejected=sum(1 for r in results if verdict == "approve" and r.outcome != "award"),
    )


def _check_selection(selection: ApprovalSelection, verdict: Verdict, reason: str | None) -> None:
    if selection.all_held and selection.review_ids:
        raise UsageError("give review ids or --all, not both")
    if not selection.all_held and not selection.review_ids:
        raise UsageError(
            "which reviews?",
            hint=f"give review ids, or --all (`{command('reviews', 'pending')}` lists them)",
        )
    if selection.since is not None and not selection.all_held:
        raise UsageError("--since goes with --all", hint="e.g. --all --since 2026-05-01")
    if verdict == "reject" and not (reason or "").strip():
        raise UsageError("a rejection needs a reason", hint='e.g. --reason "offensive language"')


def _selected(
    connection: sqlite3.Connection, selection: ApprovalSelection
) -> list[review_queries.InboxReview]:
    """The held reviews the selection names; a named review that is not held stops it all."""
    if selection.all_held:
        since = selection.since.astimezone(UTC).isoformat() if selection.since else None
        held = review_queries.held_reviews(connection, created_since=since)
        return [item.review for item in held]
    wanted = list(dict.fromkeys(selection.review_ids))
    found = {
        held.review.review_id: held.review
        for held in review_queries.held_reviews(connection, review_ids=wanted)
    }
    for review_id in wanted:
        if review_id not in found:
            raise _not_held(connection, review_id)
    return [found[review_id] for review_id in wanted]


def _not_held(connection: sqlite3.Connection, review_id: str) -> UsageError | NotFoundError:
    if review_queries.get_review(connection, review_id) is None:
        return NotFoundError(
            f"review {review_id} is not in the ledger",
            hint=f"`{command('reviews', 'pending')}` lists the reviews waiting for approval",
        )
    given = review_queries.approvals_for(connection, [review_id]).get(review_id)
    if given is not None:
        done = "approved" if given.verdict == review_queries.APPROVE else "rejected"
        return UsageError(
            f"review {review_id} was already {done} by {given.decided_by} at {given.decided_at}",
            hint=f"a verdict is final; `{command('reviews', 'show', 'ID')}` tells what it earned",
        )
    latest = review_queries.latest_decision(connection, review_id)
    state = "no decision" if latest is None else latest.reason_code or latest.outcome
    return UsageError(
        f"review {review_id} is not waiting for approval (its latest decision: {state})",
        hint=f"`{command('reviews', 'pending')}` lists the reviews waiting for approval",
    )


def incoming_from_inbox(review: review_queries.InboxReview) -> IncomingReview:
    """Pipeline input rebuilt from the inbox row: its columns, and the text kept in `raw`."""
    fields = {
        **review.raw,
        "id": review.review_id,
        "email": review.email,
        "status": review.status,
        "review_type": review.review_type,
        "product_id": review.product_id,
        "created": review.created_at,
        "verified": review.verified,
        "rating": review.rating,
    }
    incoming = incoming_from_fields(fields, origin=review.origin)
    # The inbox row keeps what was received; only the verdict is new.
    return IncomingReview(incoming.engine_review, replace(incoming.inbox, raw=review.raw))


def _result(outcome: Outcome) -> VerdictOutcome:
    return VerdictOutcome(**decision_view(outcome).model_dump(), explanation=_explanation(outcome))


def _explanation(outcome: Outcome) -> str:
    if outcome.outcome == "award":
        return f"awarded {outcome.points} points"
    reason = outcome.reason or "unknown"
    return f"no points: {REASON_TEXT.get(reason, reason)} ({reason})"
