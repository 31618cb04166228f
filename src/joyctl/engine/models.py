"""Inputs and outputs of the reward engine.

These are plain frozen dataclasses rather than pydantic models on purpose: a replay pushes
hundreds of thousands of reviews through the engine, and per-review validation would dominate
the cost. The services layer validates external data once, when it builds a `Review`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, TypeAlias

RuleValue: TypeAlias = str | int | bool | None
"""A value reported with a rejection; datetimes are given as ISO 8601 strings."""
RuleValues: TypeAlias = Mapping[str, RuleValue]


class ReviewStatus(StrEnum):
    """Klaviyo's `status.value` for a review."""

    PENDING = "pending"
    PUBLISHED = "published"
    FEATURED = "featured"
    UNPUBLISHED = "unpublished"
    REJECTED = "rejected"


class MemberStatus(StrEnum):
    """The loyalty status of the customer a review was matched to."""

    MEMBER = "member"
    GUEST = "guest"
    EXCLUDED = "excluded"


class ReasonCode(StrEnum):
    """Why a review earned nothing, in the order the rules run (domain reference, section 6)."""

    ALREADY_REWARDED = "ALREADY_REWARDED"
    PROGRAM_INACTIVE = "PROGRAM_INACTIVE"
    WRONG_SOURCE = "WRONG_SOURCE"
    BEFORE_CONNECTION = "BEFORE_CONNECTION"
    INELIGIBLE_TYPE = "INELIGIBLE_TYPE"
    NO_MEMBER = "NO_MEMBER"
    NOT_PUBLISHED = "NOT_PUBLISHED"
    TOO_SHORT = "TOO_SHORT"
    PRODUCT_LIMIT = "PRODUCT_LIMIT"
    RATE_LIMIT = "RATE_LIMIT"
    RULE_CAP = "RULE_CAP"
    DUPLICATE_CONTENT = "DUPLICATE_CONTENT"
    NOT_VERIFIED = "NOT_VERIFIED"
    MERCHANT_REJECTED = "MERCHANT_REJECTED"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"


ELIGIBLE_REVIEW_TYPE = "review"


@dataclass(frozen=True, slots=True)
class Review:
    """One review as the engine sees it.

    `created_at` is the review's own time (timezone-aware). Every time window (program dates,
    connection date, frequency limit, duplicate window) is measured against it rather than
    against processing time, so replaying a review months later decides it exactly as the live
    webhook would have.
    `merchant_approved` and `merchant_rejected` are joyctl's own approval-queue verdicts
    (`joyctl reviews approve|reject`), not Klaviyo attributes: Joy's "Default status for
    reviews: Pending" holds reviews until someone approves or disapproves them.
    """

    review_id: str
    email: str
    content: str
    created_at: datetime
    status: ReviewStatus = ReviewStatus.PUBLISHED
    review_type: str = ELIGIBLE_REVIEW_TYPE
    source: str = "klaviyo_reviews"
    product_id: str | None = None
    images: tuple[str, ...] = ()
    verified: bool = False
    merchant_approved: bool = False
    merchant_rejected: bool = False


@dataclass(frozen=True, slots=True)
class Customer:
    """The loyalty customer a review's email was matched to."""

    customer_id: str
    status: MemberStatus = MemberStatus.MEMBER


@dataclass(frozen=True, slots=True)
class ConnectionFacts:
    """What is known about the review app's connection.

    `connected_at` is None when no connection has been recorded; every review then counts as
    written before the connection (nothing is rewarded retroactively).
    """

    connected_at: datetime | None


@dataclass(frozen=True, slots=True)
class PointsBreakdown:
    """How an award's points were made up."""

    base: int
    photo_bonus: int = 0
    cap_reduction: int = 0
    """Points withheld because the award would have exceeded the rule cap."""

    @property
    def total(self) -> int:
        return self.base + self.photo_bonus - self.cap_reduction


@dataclass(frozen=True, slots=True)
class Award:
    """Grant `points` for a review; the ledger writes one earn entry under `idempotency_key`."""

    kind: ClassVar[str] = "award"

    review_id: str
    program_id: str
    customer_id: str
    product_id: str | None
    points: int
    breakdown: PointsBreakdown
    idempotency_key: str
    reviewed_at: datetime
    content_hash: str | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class Rejection:
    """No points: exactly one reason code, with the rule values that applied."""

    kind: ClassVar[str] = "reject"

    review_id: str
    program_id: str
    reason: ReasonCode
    rule_values: RuleValues
    decided_at: datetime
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class Revocation:
    """Take back an earlier award because the review was rejected or unpublished.

    `points_revoked` never exceeds the customer's balance at decision time; `shortfall` is the
    part of the original award that could not be taken back.
    """

    kind: ClassVar[str] = "revoke"

    review_id: str
    program_id: str
    customer_id: str
    status: ReviewStatus
    points_awarded: int
    points_revoked: int
    shortfall: int
    reverses_key: str
    idempotency_key: str
    decided_at: datetime


Decision: TypeAlias = Award | Rejection | Revocation


def reward_idempotency_key(review_id: str, program_id: str) -> str:
    """The ledger key of the earn entry for one review in one program."""
    return f"review:{review_id}:{program_id}"


def revocation_idempotency_key(review_id: str, program_id: str) -> str:
    """The ledger key of the revoke entry that reverses that earn."""
    return f"revoke:{reward_idempotency_key(review_id, program_id)}"


def isoformat(moment: datetime | None) -> str | None:
    """Render a datetime for rule values (JSON-friendly)."""
    return None if moment is None else moment.isoformat()
