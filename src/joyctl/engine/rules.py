"""The review-reward decision: one review in, one decision out.

`decide` is pure: everything it needs is passed in, and it reads no clock, file or database.
It runs the checks of `joyctl.engine.checks` in the reference's order; the first that fails is
the reason given. A review that passes them all is awarded `points_for` it.

A review that was already rewarded is never rewarded again (ALREADY_REWARDED); if its status
has since become `rejected` (or `unpublished`, when that option is on) it is revoked instead.

Rule cap: when the full award would pass the cap, the review earns the remainder (reported as
`cap_reduction` in the breakdown); it is rejected with RULE_CAP only when nothing remains.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from joyctl.engine.checks import Candidate, first_candidate_failure, first_submission_failure
from joyctl.engine.history import History, RewardRecord
from joyctl.engine.models import (
    Award,
    ConnectionFacts,
    Customer,
    Decision,
    PointsBreakdown,
    ReasonCode,
    Rejection,
    Review,
    ReviewStatus,
    Revocation,
    revocation_idempotency_key,
    reward_idempotency_key,
)
from joyctl.engine.program import BonusMode, WriteReviewProgram


def decide(
    review: Review,
    customer: Customer | None,
    history: History,
    program: WriteReviewProgram,
    connection: ConnectionFacts,
    now: datetime,
) -> Decision:
    """Decide one review against the program, given the rewards granted before it.

    `customer` is the loyalty customer the review's email matched, or None. `now` is only
    recorded on the decision: the rules measure time from the review's `created_at`.
    """
    earlier = history.reward_for(review.review_id)
    if earlier is not None:
        balance = history.balance(earlier.customer_id)
        return decide_status_change(review, earlier, balance, program, now)
    failure = first_submission_failure(review, program, connection)
    if failure is None:
        if customer is None:
            failure = (ReasonCode.NO_MEMBER, {"member_status": "not_found"})
        else:
            candidate = Candidate.of(review, customer, history, program)
            failure = first_candidate_failure(candidate)
            if failure is None:
                return _award(candidate, now)
    reason, values = failure
    return Rejection(
        review_id=review.review_id,
        program_id=program.program_id,
        reason=reason,
        rule_values=values,
        decided_at=now,
        customer_id=customer.customer_id if customer is not None else None,
    )


def decide_status_change(
    review: Review,
    earlier: RewardRecord,
    balance: int,
    program: WriteReviewProgram,
    now: datetime,
) -> Revocation | Rejection:
    """Decide a review that was rewarded before: revoke it, or report the repeat.

    The revocation takes back at most the customer's current `balance`, so it never makes the
    balance negative; what it could not take back is reported as `shortfall`.
    """
    if not earlier.revoked and _revokes(review.status, program):
        points_revoked = min(earlier.points, max(balance, 0))
        return Revocation(
            review_id=review.review_id,
            program_id=program.program_id,
            customer_id=earlier.customer_id,
            status=review.status,
            points_awarded=earlier.points,
            points_revoked=points_revoked,
            shortfall=earlier.points - points_revoked,
            reverses_key=reward_idempotency_key(review.review_id, program.program_id),
            idempotency_key=revocation_idempotency_key(review.review_id, program.program_id),
            decided_at=now,
        )
    return Rejection(
        review_id=review.review_id,
        program_id=program.program_id,
        reason=ReasonCode.ALREADY_REWARDED,
        rule_values={
            "idempotency_key": reward_idempotency_key(review.review_id, program.program_id),
            "points": earlier.points,
            "revoked": earlier.revoked,
        },
        decided_at=now,
        customer_id=earlier.customer_id,
    )


def decide_in_sequence(
    reviews: Iterable[tuple[Review, Customer | None]],
    history: History,
    program: WriteReviewProgram,
    connection: ConnectionFacts,
    now: datetime,
) -> Iterator[Decision]:
    """Decide reviews one after another, folding each decision into `history` as it goes."""
    for review, customer in reviews:
        decision = decide(review, customer, history, program, connection, now)
        history.apply(decision)
        yield decision


def points_for(review: Review, program: WriteReviewProgram) -> PointsBreakdown:
    """The points a review earns before the rule cap: base, and the photo bonus if any."""
    if program.photo_bonus and review.images:
        if program.bonus_mode is BonusMode.REPLACE:
            return PointsBreakdown(base=0, photo_bonus=program.photo_bonus)
        return PointsBreakdown(base=program.points_per_review, photo_bonus=program.photo_bonus)
    return PointsBreakdown(base=program.points_per_review)


def _revokes(status: ReviewStatus, program: WriteReviewProgram) -> bool:
    if status is ReviewStatus.REJECTED:
        return program.revoke_on_rejection
    if status is ReviewStatus.UNPUBLISHED:
        return program.revoke_on_unpublished
    return False


def _award(candidate: Candidate, now: datetime) -> Award:
    review, program = candidate.review, candidate.program
    breakdown = points_for(review, program)
    if program.rule_cap:
        remaining = program.rule_cap - candidate.history.rule_points(candidate.customer.customer_id)
        excess = max(breakdown.total - remaining, 0)
        if excess:
            breakdown = PointsBreakdown(breakdown.base, breakdown.photo_bonus, excess)
    return Award(
        review_id=review.review_id,
        program_id=program.program_id,
        customer_id=candidate.customer.customer_id,
        product_id=review.product_id,
        points=breakdown.total,
        breakdown=breakdown,
        idempotency_key=reward_idempotency_key(review.review_id, program.program_id),
        reviewed_at=review.created_at,
        content_hash=candidate.content_hash,
        decided_at=now,
    )
