"""`joyctl reviews`: simulate, list and explain decisions (replay and submit live beside them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.engine import ConnectionFacts, WriteReviewProgram
from joyctl.errors import DataError, NotFoundError, UsageError
from joyctl.files import limits
from joyctl.ledger import reviews as review_queries
from joyctl.ledger.connections import first_connected_at
from joyctl.services.rewards.pipeline import IncomingReview, Outcome, PipelineTally, RewardPipeline
from joyctl.services.rewards.sources import Completion, ReviewFile


class DecisionView(BaseModel):
    review_id: str
    email: str | None
    outcome: str
    reason: str | None
    points: int
    rule_values: dict[str, Any]


class RunSummary(BaseModel):
    committed: bool
    reviews: int
    awarded: int
    points: int
    customers: int
    revoked: int
    unchanged: int
    held: int = 0
    """Held for approval (listed by `reviews pending`); not counted in `rejected`."""
    rejected: dict[str, int]


class SimulationReport(BaseModel):
    decisions: list[DecisionView]
    summary: RunSummary
    generated_ids: list[str] = []
    """Ids made up for reviews given without one (each simulation gets its own)."""
    quarantined: int = 0
    """Reviews of a file that could not be used, set aside in `quarantine_file`."""
    quarantine_file: str | None = None


class ReviewRow(BaseModel):
    review_id: str
    email: str | None
    created_at: str
    status: str
    outcome: str | None
    reason: str | None
    points: int


class DecisionRecord(BaseModel):
    outcome: str
    reason: str | None
    points: int
    rule_values: dict[str, Any]
    review_status: str
    entry_id: int | None
    decided_at: str


class ApprovalView(BaseModel):
    verdict: str
    decided_by: str
    decided_at: str
    reason: str | None


class ReviewExplanation(BaseModel):
    review_id: str
    email: str | None
    customer_id: int | None
    customer_email: str | None
    """The review's own customer: the one its award went to, else the one its email matched."""
    product_id: str | None
    review_type: str
    status: str
    created_at: str
    origin: str
    content: str | None
    approval: ApprovalView | None
    """The approval queue's verdict (`reviews approve|reject`), if one was given."""
    decisions: list[DecisionRecord]
    explanation: str


def connection_facts(connection_info: dict[str, Any]) -> ConnectionFacts:
    connected = connection_info.get("connected_at")
    if not connected:
        return ConnectionFacts(None)
    try:
        return ConnectionFacts(limits.moment(connected, "connected_at"))
    except DataError as exc:
        raise UsageError(exc.message, hint="e.g. 2026-01-01") from None


def program_connection_facts(
    info: dict[str, Any], ledger: sqlite3.Connection | None = None
) -> ConnectionFacts:
    """When the review app was first connected to this account.

    Reconnecting (for example to grant the review-webhook scopes Klaviyo began to require)
    refreshes the grant but does not restart the integration: reviews written since the first
    connection still earn points. The ledger's connection history keeps that first date.
    """
    facts = connection_facts(info)
    account_id = info.get("account_id")
    if ledger is None or not account_id:
        return facts
    first_stamp = first_connected_at(ledger, account_id)
    first = connection_facts({"connected_at": first_stamp}).connected_at if first_stamp else None
    candidates = [moment for moment in (first, facts.connected_at) if moment is not None]
    return ConnectionFacts(min(candidates) if candidates else None)


def summarize(tally: PipelineTally, *, committed: bool) -> RunSummary:
    return RunSummary(
        committed=committed,
        reviews=tally.seen,
        awarded=tally.awarded,
        points=tally.points,
        customers=len(tally.customers),
        revoked=tally.revoked,
        unchanged=tally.unchanged,
        held=tally.held,
        rejected=dict(sorted(tally.rejected.items())),
    )


def decision_view(outcome: Outcome) -> DecisionView:
    """What simulate, replay and approvals show of one decision."""
    return DecisionView(
        review_id=outcome.review_id,
        email=outcome.email,
        outcome=outcome.outcome,
        reason=outcome.reason,
        points=outcome.points,
        rule_values=outcome.rule_values,
    )


def simulate_reviews(
    connection: sqlite3.Connection,
    program: WriteReviewProgram,
    facts: ConnectionFacts,
    reviews: Iterable[IncomingReview],
    *,
    commit: bool,
    generated_ids: list[str] | None = None,
) -> SimulationReport:
    """Decide reviews against the ledger as it is; write nothing unless `commit`.

    `generated_ids` is filled while `reviews` is read: the ids made up for reviews without one.
    """
    pipeline = RewardPipeline(connection, program, facts, commit=commit)
    if commit:
        reviews = _not_someone_elses(connection, reviews)
    decisions = [decision_view(outcome) for outcome in pipeline.run(reviews)]
    if not commit:
        # Without writing, points are what an award *would* bring: report the engine's figure.
        decisions = [_would_award(view, pipeline) for view in decisions]
    return SimulationReport(
        decisions=decisions,
        summary=summarize(pipeline.tally, committed=commit),
        generated_ids=list(generated_ids or []),
    )


def _not_someone_elses(
    connection: sqlite3.Connection, reviews: Iterable[IncomingReview]
) -> Iterator[IncomingReview]:
    """Refuse to commit a review under an id the ledger holds for another reviewer."""
    for incoming in reviews:
        stored = review_queries.get_review(connection, incoming.inbox.review_id)
        if stored is not None and stored.email != incoming.inbox.email:
            raise UsageError(
                f"review {stored.review_id} is already in the ledger for {stored.email or '?'}",
                hint="leave --id out (each simulation then gets its own id) or choose another",
            )
        yield incoming


def simulate_review_file(
    connection: sqlite3.Connection,
    program: WriteReviewProgram,
    facts: ConnectionFacts,
    path: Path,
    *,
    commit: bool,
    quarantine: Path | None = None,
    complete: Completion | None = None,
    generated_ids: list[str] | None = None,
) -> SimulationReport:
    """Decide the reviews of a file; those that cannot be used go to its quarantine file."""
    reviews = ReviewFile(path, origin="simulate", quarantine=quarantine, complete=complete)
    with closing(reviews):
        report = simulate_reviews(
            connection, program, facts, reviews, commit=commit, generated_ids=generated_ids
        )
    count = reviews.quarantine.count
    where = str(reviews.quarantine.path) if count else None
    return report.model_copy(update={"quarantined": count, "quarantine_file": where})


def _would_award(view: DecisionView, pipeline: RewardPipeline) -> DecisionView:
    record = pipeline.history.reward_for(view.review_id)
    if view.outcome == "award" and record is not None:
        return view.model_copy(update={"points": record.points})
    return view


def list_reviews(
    connection: sqlite3.Connection, *, status: str | None, outcome: str | None, limit: int
) -> list[ReviewRow]:
    rows = []
    for review, decision in review_queries.iter_reviews(
        connection, status=status, outcome=outcome, limit=limit
    ):
        rows.append(
            ReviewRow(
                review_id=review.review_id,
                email=review.email,
                created_at=review.created_at,
                status=review.status,
                outcome=decision.outcome if decision else None,
                reason=decision.reason_code if decision else None,
                points=decision.points if decision else 0,
            )
        )
    return rows


def explain_review(connection: sqlite3.Connection, review_id: str) -> ReviewExplanation:
    review = review_queries.get_review(connection, review_id)
    if review is None:
        raise NotFoundError(
            f"review {review_id} is not in the ledger",
            hint=f"fetch it first: `{command('reviews', 'replay', '--id', review_id)}`"
            " (or check the id)",
        )
    customer = review_queries.review_customer(connection, review_id)
    verdict = review_queries.approvals_for(connection, [review_id]).get(review_id)
    decisions = [
        DecisionRecord(
            outcome=d.outcome,
            reason=d.reason_code,
            points=d.points,
            rule_values=d.rule_values,
            review_status=d.review_status,
            entry_id=d.entry_id,
            decided_at=d.decided_at,
        )
        for d in review_queries.decisions_for(connection, review_id)
    ]
    return ReviewExplanation(
        review_id=review.review_id,
        email=review.email,
        customer_id=customer[0] if customer else None,
        customer_email=customer[1] if customer else None,
        product_id=review.product_id,
        review_type=review.review_type,
        status=review.status,
        created_at=review.created_at,
        origin=review.origin,
        content=review.raw.get("content"),
        approval=_approval_view(verdict),
        decisions=decisions,
        explanation=explain(decisions[-1] if decisions else None),
    )


def _approval_view(verdict: review_queries.Approval | None) -> ApprovalView | None:
    if verdict is None:
        return None
    return ApprovalView(
        verdict=verdict.verdict,
        decided_by=verdict.decided_by,
        decided_at=verdict.decided_at,
        reason=verdict.reason,
    )


REASON_TEXT = {
    "PROGRAM_INACTIVE": "the write-review program was off or outside its dates",
    "WRONG_SOURCE": "the review came from a review app the program does not use",
    "BEFORE_CONNECTION": "the review was written before Klaviyo Reviews was connected",
    "INELIGIBLE_TYPE": "only product reviews earn points (not questions, ratings or store reviews)",
    "NO_MEMBER": "the review's email matches no loyalty member",
    "NOT_PUBLISHED": "the review is not published yet; points come when it is",
    "TOO_SHORT": "the review is shorter than the program's minimum",
    "PRODUCT_LIMIT": "the customer was already rewarded for a review of this product",
    "RATE_LIMIT": "the customer reached the program's limit of rewarded reviews per period",
    "RULE_CAP": "the customer reached the most points this program gives",
    "DUPLICATE_CONTENT": "the same text was already rewarded",
    "NOT_VERIFIED": "the program requires a verified purchase",
    "MERCHANT_REJECTED": "the review was rejected in the approval queue",
    "AWAITING_APPROVAL": "the program holds reviews for manual approval (see `reviews pending`)",
    "ALREADY_REWARDED": "this review was already rewarded",
}


def explain(decision: DecisionRecord | None) -> str:
    if decision is None:
        return "no decision yet"
    if decision.outcome == "award":
        return f"awarded {decision.points} points"
    if decision.outcome == "revoke":
        taken = -decision.points
        return f"the award was taken back ({taken} points): the review is {decision.review_status}"
    reason = decision.reason or "unknown"
    return f"no points: {REASON_TEXT.get(reason, reason)} ({reason})"
