"""`joyctl reviews list|show`: what the ledger recorded of reviews, and why each got its points.

Read only, and apart from the simulations in `reviews` so that showing a review loads neither
the reward pipeline nor the file readers.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.errors import NotFoundError
from joyctl.ledger import reviews as review_queries


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
