"""The first failing rule, in the reference's order, is the one reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from joyctl.engine import (
    ConnectionFacts,
    Customer,
    Decision,
    History,
    MemberStatus,
    ReasonCode,
    ReviewStatus,
    RewardRecord,
    content_fingerprint,
)

from .factories import (
    CONNECTED,
    MEMBER,
    T0,
    TEXT,
    as_award,
    as_rejection,
    make_program,
    make_review,
    run,
)


@dataclass(frozen=True)
class Breaker:
    """The smallest change that makes one rule fail."""

    reason: ReasonCode
    review: dict[str, Any] = field(default_factory=dict)
    program: dict[str, Any] = field(default_factory=dict)
    member_status: MemberStatus | None = None
    connected_at_none: bool = False


BREAKERS = [
    Breaker(ReasonCode.PROGRAM_INACTIVE, program={"enabled": False}),
    Breaker(ReasonCode.WRONG_SOURCE, review={"source": "judge_me"}),
    Breaker(ReasonCode.BEFORE_CONNECTION, connected_at_none=True),
    Breaker(ReasonCode.INELIGIBLE_TYPE, review={"review_type": "question"}),
    Breaker(ReasonCode.NO_MEMBER, member_status=MemberStatus.GUEST),
    Breaker(ReasonCode.NOT_PUBLISHED, review={"status": ReviewStatus.PENDING}),
    Breaker(ReasonCode.TOO_SHORT, program={"min_characters": 10_000}),
    Breaker(ReasonCode.PRODUCT_LIMIT, review={"product_id": "shirt"}),
    Breaker(ReasonCode.RATE_LIMIT, program={"frequency_limit": 1}),
    Breaker(ReasonCode.RULE_CAP, program={"rule_cap": 50}),
    Breaker(ReasonCode.DUPLICATE_CONTENT, review={"content": TEXT}),
    Breaker(ReasonCode.NOT_VERIFIED, program={"require_verified": True}),
    Breaker(ReasonCode.MERCHANT_REJECTED, review={"merchant_rejected": True}),
    Breaker(ReasonCode.AWAITING_APPROVAL, program={"manual_approval": True}),
]


def history_with_one_reward() -> History:
    """One earlier reward of the same customer: product "shirt", text TEXT, written at T0."""
    earlier = RewardRecord("rev-0", MEMBER.customer_id, "shirt", 50, T0, content_fingerprint(TEXT))
    return History.from_records([earlier])


def decide_with(breakers: list[Breaker]) -> Decision:
    review_changes: dict[str, Any] = {}
    program_changes: dict[str, Any] = {}
    customer = MEMBER
    connection = CONNECTED
    for breaker in breakers:
        review_changes.update(breaker.review)
        program_changes.update(breaker.program)
        if breaker.member_status is not None:
            customer = Customer(MEMBER.customer_id, breaker.member_status)
        if breaker.connected_at_none:
            connection = ConnectionFacts(connected_at=None)
    return run(
        make_review("rev-1", **review_changes),
        customer=customer,
        history=history_with_one_reward(),
        program=make_program(**program_changes),
        connection=connection,
    )


def test_without_breakers_the_review_is_rewarded() -> None:
    as_award(decide_with([]))


@pytest.mark.parametrize("position", range(len(BREAKERS)), ids=[b.reason.value for b in BREAKERS])
def test_first_failing_rule_wins(position: int) -> None:
    rejection = as_rejection(decide_with(BREAKERS[position:]))
    assert rejection.reason is BREAKERS[position].reason


@pytest.mark.parametrize("breaker", BREAKERS, ids=[b.reason.value for b in BREAKERS])
def test_each_breaker_alone_fails_only_its_rule(breaker: Breaker) -> None:
    assert as_rejection(decide_with([breaker])).reason is breaker.reason


def test_breakers_cover_every_rule_reason_once() -> None:
    rule_reasons = [code for code in ReasonCode if code is not ReasonCode.ALREADY_REWARDED]
    assert [breaker.reason for breaker in BREAKERS] == rule_reasons
