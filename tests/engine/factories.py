"""Builders for engine inputs: small defaults that pass every rule unless a test changes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from joyctl.engine import (
    Award,
    ConnectionFacts,
    Customer,
    Decision,
    History,
    Rejection,
    Review,
    Revocation,
    WriteReviewProgram,
    decide,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)
CONNECTED = ConnectionFacts(connected_at=T0 - timedelta(days=1000))
MEMBER = Customer("cust-1")
TEXT = "Lovely soft fabric, true to size, and it survived the first wash without shrinking."


def make_review(review_id: str = "rev-1", **changes: Any) -> Review:
    """A published product review with its own product and text, written at T0."""
    fields: dict[str, Any] = {
        "review_id": review_id,
        "email": "ana@example.com",
        "content": f"{TEXT} ({review_id})",
        "created_at": T0,
        "product_id": f"prod-{review_id}",
    }
    fields.update(changes)
    return Review(**fields)


def make_program(**changes: Any) -> WriteReviewProgram:
    """The default program, switched on."""
    return WriteReviewProgram(**{"enabled": True, **changes})


def run(
    review: Review,
    *,
    customer: Customer | None = MEMBER,
    history: History | None = None,
    program: WriteReviewProgram | None = None,
    connection: ConnectionFacts = CONNECTED,
) -> Decision:
    return decide(
        review,
        customer,
        history if history is not None else History(),
        program if program is not None else make_program(),
        connection,
        NOW,
    )


def run_and_apply(review: Review, history: History, **kwargs: Any) -> Decision:
    decision = run(review, history=history, **kwargs)
    history.apply(decision)
    return decision


def as_award(decision: Decision) -> Award:
    assert isinstance(decision, Award), decision
    return decision


def as_rejection(decision: Decision) -> Rejection:
    assert isinstance(decision, Rejection), decision
    return decision


def as_revocation(decision: Decision) -> Revocation:
    assert isinstance(decision, Revocation), decision
    return decision
