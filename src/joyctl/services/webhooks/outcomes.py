"""What each review event of a delivery came to, in the words `listen` and `replay` use.

One `ReviewOutcome` per review event: `awarded 50`, `rejected TOO_SHORT`, `held for approval`,
`unmatched`, `already done` (or `revoked 50`, `ignored`). `OutcomeCounts` adds them up for a
delivery and for a replay, each kind separately.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel

from joyctl.engine import ReasonCode
from joyctl.services.rewards.pipeline import Outcome

OutcomeKind = Literal[
    "awarded", "rejected", "held", "unmatched", "already_done", "revoked", "ignored"
]


class ReviewOutcome(BaseModel):
    """One review event of a delivery and what it came to."""

    external_id: str
    review_id: str | None
    kind: OutcomeKind
    outcome: str
    """How a person reads it: `awarded 50`, `rejected TOO_SHORT`, `held for approval` ..."""
    points: int = 0
    reason: str | None = None
    """The engine's reason code; for `unmatched` and `ignored`, why."""


class OutcomeCounts(BaseModel):
    awarded: int = 0
    points: int = 0
    rejected: int = 0
    held: int = 0
    unmatched: int = 0
    ignored: int = 0
    already_done: int = 0
    revoked: int = 0


def decided(external_id: str, outcome: Outcome) -> ReviewOutcome:
    """The outcome of a review the reward pipeline decided."""
    review_id, reason = outcome.review_id, outcome.reason
    if outcome.outcome == "award" and outcome.changed and outcome.points > 0:
        points = outcome.points
        return ReviewOutcome(
            external_id=external_id,
            review_id=review_id,
            kind="awarded",
            outcome=f"awarded {points}",
            points=points,
        )
    if outcome.outcome == "revoke" and outcome.changed:
        taken = -outcome.points
        return ReviewOutcome(
            external_id=external_id,
            review_id=review_id,
            kind="revoked",
            outcome=f"revoked {taken}",
            points=outcome.points,
        )
    if reason == ReasonCode.AWAITING_APPROVAL:
        return ReviewOutcome(
            external_id=external_id,
            review_id=review_id,
            kind="held",
            outcome="held for approval",
            reason=reason,
        )
    if reason and reason != ReasonCode.ALREADY_REWARDED:
        return ReviewOutcome(
            external_id=external_id,
            review_id=review_id,
            kind="rejected",
            outcome=f"rejected {reason}",
            reason=reason,
        )
    return already_done(external_id, review_id)


def already_done(external_id: str, review_id: str | None) -> ReviewOutcome:
    return ReviewOutcome(
        external_id=external_id, review_id=review_id, kind="already_done", outcome="already done"
    )


def unmatched(external_id: str, why: str) -> ReviewOutcome:
    return ReviewOutcome(
        external_id=external_id, review_id=None, kind="unmatched", outcome="unmatched", reason=why
    )


def ignored(external_id: str, review_id: str | None, why: str) -> ReviewOutcome:
    return ReviewOutcome(
        external_id=external_id,
        review_id=review_id,
        kind="ignored",
        outcome=f"ignored: {why}",
        reason=why,
    )


def quarantined(external_id: str, review_id: str | None, why: str) -> ReviewOutcome:
    """A review whose own fields are out of bounds: judged once, counted with the ignored."""
    return ignored(external_id, review_id, why).model_copy(
        update={"outcome": f"quarantined: {why}"}
    )


def count(outcomes: Iterable[ReviewOutcome]) -> OutcomeCounts:
    counts = OutcomeCounts()
    for item in outcomes:
        setattr(counts, item.kind, getattr(counts, item.kind) + 1)
        if item.kind == "awarded":
            counts.points += item.points
    return counts


def add(total: OutcomeCounts, more: OutcomeCounts) -> OutcomeCounts:
    return OutcomeCounts(
        **{name: getattr(total, name) + getattr(more, name) for name in OutcomeCounts.model_fields}
    )
