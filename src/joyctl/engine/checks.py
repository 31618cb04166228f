"""The review-reward checks, in the order of the domain reference (section 6).

Each check returns None when the review passes it, or the reason code with the values it
compared. `rules.decide` runs them in order and reports the first failure:

 1 PROGRAM_INACTIVE   enabled, and the review written inside the start/end window
 2 WRONG_SOURCE       the review comes from the program's review app
 3 BEFORE_CONNECTION  written after the app was connected (unless reward_before_connection)
 4 INELIGIBLE_TYPE    a product review (not a question, rating-only or store review)
 5 NO_MEMBER          matched to a customer who is a member and not excluded
 6 NOT_PUBLISHED      published/featured (award_on=published) or not yet rejected (submitted)
 7 TOO_SHORT          at least min_characters of normalised text
 8 PRODUCT_LIMIT      fewer than product_limit rewards for this customer and product
 9 RATE_LIMIT         fewer than frequency_limit rewards in any rolling period around it
10 RULE_CAP           points from this rule still below rule_cap
11 DUPLICATE_CONTENT  text not rewarded before for this customer, nor for anyone within the window
12 NOT_VERIFIED       a verified purchase, when require_verified is on
13 MERCHANT_REJECTED  not disapproved by the merchant (`joyctl reviews reject`)
   AWAITING_APPROVAL  approved by the merchant, when manual_approval is on

Rule 13 is the approval queue: a disapproved review earns nothing whatever the program says
(Joy: "A disapproved review earns nothing"); one not yet approved waits while manual approval
is on.

Every time comparison uses the review's `created_at`, never the time of the decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from joyctl.engine.history import History
from joyctl.engine.models import (
    ELIGIBLE_REVIEW_TYPE,
    ConnectionFacts,
    Customer,
    MemberStatus,
    ReasonCode,
    Review,
    ReviewStatus,
    RuleValue,
    isoformat,
)
from joyctl.engine.program import AwardOn, WriteReviewProgram
from joyctl.engine.text import fingerprint_normalized, normalize_content

Failure = tuple[ReasonCode, dict[str, RuleValue]]

_AWARDABLE_STATUSES = {
    AwardOn.PUBLISHED: frozenset({ReviewStatus.PUBLISHED, ReviewStatus.FEATURED}),
    AwardOn.SUBMITTED: frozenset(
        {ReviewStatus.PENDING, ReviewStatus.PUBLISHED, ReviewStatus.FEATURED}
    ),
}


@lru_cache(maxsize=64)
def _days(count: int) -> timedelta:
    """A period of `count` days: programs use a handful, each built once, not once per review."""
    return timedelta(days=count)


# Rules 1-4: about the review and the program, before the customer is known.


def first_submission_failure(
    review: Review, program: WriteReviewProgram, connection: ConnectionFacts
) -> Failure | None:
    for rule in _SUBMISSION_RULES:
        failure = rule(review, program, connection)
        if failure is not None:
            return failure
    return None


def _program_inactive(
    review: Review, program: WriteReviewProgram, _connection: ConnectionFacts
) -> Failure | None:
    if program.is_running_at(review.created_at):
        return None
    return ReasonCode.PROGRAM_INACTIVE, {
        "enabled": program.enabled,
        "starts_at": isoformat(program.starts_at),
        "ends_at": isoformat(program.ends_at),
        "reviewed_at": isoformat(review.created_at),
    }


def _wrong_source(
    review: Review, program: WriteReviewProgram, _connection: ConnectionFacts
) -> Failure | None:
    if review.source == program.source:
        return None
    return ReasonCode.WRONG_SOURCE, {"source": review.source, "program_source": program.source}


def _before_connection(
    review: Review, program: WriteReviewProgram, connection: ConnectionFacts
) -> Failure | None:
    connected_at = connection.connected_at
    if program.reward_before_connection:
        return None
    if connected_at is not None and review.created_at >= connected_at:
        return None
    return ReasonCode.BEFORE_CONNECTION, {
        "connected_at": isoformat(connected_at),
        "reviewed_at": isoformat(review.created_at),
    }


def _ineligible_type(
    review: Review, _program: WriteReviewProgram, _connection: ConnectionFacts
) -> Failure | None:
    if review.review_type == ELIGIBLE_REVIEW_TYPE:
        return None
    return ReasonCode.INELIGIBLE_TYPE, {"review_type": review.review_type}


_SUBMISSION_RULES: tuple[
    Callable[[Review, WriteReviewProgram, ConnectionFacts], Failure | None], ...
] = (_program_inactive, _wrong_source, _before_connection, _ineligible_type)


# Rules 5-13: about the matched customer and their earlier rewards.


@dataclass(slots=True)
class Candidate:
    """A review matched to a customer, with its text measured once for the rules.

    Built for every review and only read by the rules; not frozen, which makes it cheaper
    to build.
    """

    review: Review
    customer: Customer
    history: History
    program: WriteReviewProgram
    characters: int
    content_hash: str | None

    @classmethod
    def of(
        cls, review: Review, customer: Customer, history: History, program: WriteReviewProgram
    ) -> Candidate:
        normalized = normalize_content(review.content)
        return cls(
            review=review,
            customer=customer,
            history=history,
            program=program,
            characters=len(normalized),
            content_hash=fingerprint_normalized(normalized),
        )


def first_candidate_failure(candidate: Candidate) -> Failure | None:
    for rule in _CANDIDATE_RULES:
        failure = rule(candidate)
        if failure is not None:
            return failure
    return None


def _no_member(candidate: Candidate) -> Failure | None:
    status = candidate.customer.status
    if status is MemberStatus.MEMBER:
        return None
    return ReasonCode.NO_MEMBER, {"member_status": status.value}


def _not_published(candidate: Candidate) -> Failure | None:
    award_on = candidate.program.award_on
    status = candidate.review.status
    if status in _AWARDABLE_STATUSES[award_on]:
        return None
    return ReasonCode.NOT_PUBLISHED, {"status": status.value, "award_on": award_on.value}


def _too_short(candidate: Candidate) -> Failure | None:
    minimum = candidate.program.min_characters
    if candidate.characters >= minimum:
        return None
    return ReasonCode.TOO_SHORT, {"min_characters": minimum, "characters": candidate.characters}


def _product_limit(candidate: Candidate) -> Failure | None:
    limit = candidate.program.product_limit
    if limit == 0:
        return None
    product_id = candidate.review.product_id
    rewarded = candidate.history.product_rewards(candidate.customer.customer_id, product_id)
    if rewarded < limit:
        return None
    return ReasonCode.PRODUCT_LIMIT, {
        "product_limit": limit,
        "rewarded_for_product": rewarded,
        "product_id": product_id,
    }


def _rate_limit(candidate: Candidate) -> Failure | None:
    program = candidate.program
    if program.frequency_limit == 0:
        return None
    period = _days(program.frequency_period_days)
    rewarded = candidate.history.busiest_window(
        candidate.customer.customer_id, candidate.review.created_at, period
    )
    if rewarded < program.frequency_limit:
        return None
    return ReasonCode.RATE_LIMIT, {
        "frequency_limit": program.frequency_limit,
        "period_days": program.frequency_period_days,
        "rewards_in_period": rewarded,
    }


def _rule_cap(candidate: Candidate) -> Failure | None:
    cap = candidate.program.rule_cap
    if cap == 0:
        return None
    earned = candidate.history.rule_points(candidate.customer.customer_id)
    if earned < cap:
        return None
    return ReasonCode.RULE_CAP, {"rule_cap": cap, "points_from_rule": earned}


def _duplicate_content(candidate: Candidate) -> Failure | None:
    content_hash = candidate.content_hash
    if not candidate.program.duplicate_detection or content_hash is None:
        return None
    history = candidate.history
    own_copy = history.own_copy(candidate.customer.customer_id, content_hash)
    if own_copy is not None:
        return ReasonCode.DUPLICATE_CONTENT, {"scope": "customer", "duplicate_of": own_copy}
    window_days = candidate.program.duplicate_window_days
    window = _days(window_days)
    copy = history.recent_copy(content_hash, candidate.review.created_at, window)
    if copy is None:
        return None
    return ReasonCode.DUPLICATE_CONTENT, {
        "scope": "any_customer",
        "duplicate_of": copy,
        "window_days": window_days,
    }


def _not_verified(candidate: Candidate) -> Failure | None:
    if not candidate.program.require_verified or candidate.review.verified:
        return None
    return ReasonCode.NOT_VERIFIED, {"require_verified": True, "verified": False}


def _merchant_rejected(candidate: Candidate) -> Failure | None:
    if not candidate.review.merchant_rejected:
        return None
    return ReasonCode.MERCHANT_REJECTED, {"merchant_rejected": True}


def _awaiting_approval(candidate: Candidate) -> Failure | None:
    if not candidate.program.manual_approval or candidate.review.merchant_approved:
        return None
    return ReasonCode.AWAITING_APPROVAL, {"manual_approval": True, "merchant_approved": False}


_CANDIDATE_RULES: tuple[Callable[[Candidate], Failure | None], ...] = (
    _no_member,
    _not_published,
    _too_short,
    _product_limit,
    _rate_limit,
    _rule_cap,
    _duplicate_content,
    _not_verified,
    _merchant_rejected,
    _awaiting_approval,
)
