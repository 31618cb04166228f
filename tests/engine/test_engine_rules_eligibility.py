"""Rules 1-6: program window, source, connection date, review type, member, status gate."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from joyctl.engine import (
    AwardOn,
    ConnectionFacts,
    Customer,
    MemberStatus,
    ReasonCode,
    ReviewStatus,
)

from .factories import NOW, T0, as_award, as_rejection, make_program, make_review, run

MICROSECOND = timedelta(microseconds=1)


def test_a_review_that_passes_every_rule_earns_the_base_points() -> None:
    award = as_award(run(make_review()))
    assert award.points == 50
    assert (award.customer_id, award.product_id) == ("cust-1", "prod-rev-1")
    assert award.idempotency_key == "review:rev-1:write-review"
    assert (award.reviewed_at, award.decided_at) == (T0, NOW)


# 1 PROGRAM_INACTIVE


def test_disabled_program_rejects() -> None:
    rejection = as_rejection(run(make_review(), program=make_program(enabled=False)))
    assert rejection.reason is ReasonCode.PROGRAM_INACTIVE
    assert rejection.rule_values == {
        "enabled": False,
        "starts_at": None,
        "ends_at": None,
        "reviewed_at": T0.isoformat(),
    }


@pytest.mark.parametrize(
    ("created_at", "rewarded"),
    [(T0 - MICROSECOND, False), (T0, True), (T0 + timedelta(days=7) - MICROSECOND, True)],
)
def test_review_written_before_start_rejects(created_at: datetime, rewarded: bool) -> None:
    program = make_program(starts_at=T0, ends_at=T0 + timedelta(days=7))
    decision = run(make_review(created_at=created_at), program=program)
    if rewarded:
        as_award(decision)
    else:
        rejection = as_rejection(decision)
        assert rejection.reason is ReasonCode.PROGRAM_INACTIVE
        assert rejection.rule_values["starts_at"] == T0.isoformat()


def test_review_written_at_or_after_end_rejects() -> None:
    program = make_program(ends_at=T0)
    rejection = as_rejection(run(make_review(created_at=T0), program=program))
    assert rejection.reason is ReasonCode.PROGRAM_INACTIVE
    assert rejection.rule_values["ends_at"] == T0.isoformat()


def test_window_is_measured_on_the_review_time_not_the_decision_time() -> None:
    # The program ended before NOW, but the review was written while it ran: a late webhook
    # or a replay still rewards it.
    program = make_program(ends_at=T0 + timedelta(hours=1))
    as_award(run(make_review(created_at=T0), program=program))


# 2 WRONG_SOURCE


def test_review_from_another_app_rejects() -> None:
    rejection = as_rejection(run(make_review(source="judge_me")))
    assert rejection.reason is ReasonCode.WRONG_SOURCE
    assert rejection.rule_values == {"source": "judge_me", "program_source": "klaviyo_reviews"}


def test_review_from_the_configured_app_passes() -> None:
    program = make_program(source="judge_me")
    as_award(run(make_review(source="judge_me"), program=program))


# 3 BEFORE_CONNECTION


def test_review_written_before_the_connection_rejects() -> None:
    connection = ConnectionFacts(connected_at=T0 + MICROSECOND)
    rejection = as_rejection(run(make_review(), connection=connection))
    assert rejection.reason is ReasonCode.BEFORE_CONNECTION
    assert rejection.rule_values == {
        "connected_at": (T0 + MICROSECOND).isoformat(),
        "reviewed_at": T0.isoformat(),
    }


def test_review_written_at_the_connection_time_passes() -> None:
    as_award(run(make_review(), connection=ConnectionFacts(connected_at=T0)))


def test_without_a_recorded_connection_every_review_is_before_it() -> None:
    rejection = as_rejection(run(make_review(), connection=ConnectionFacts(connected_at=None)))
    assert rejection.reason is ReasonCode.BEFORE_CONNECTION
    assert rejection.rule_values["connected_at"] is None


@pytest.mark.parametrize("connected_at", [None, T0 + timedelta(days=1)])
def test_reward_before_connection_overrides(connected_at: datetime | None) -> None:
    program = make_program(reward_before_connection=True)
    connection = ConnectionFacts(connected_at=connected_at)
    as_award(run(make_review(), program=program, connection=connection))


# 4 INELIGIBLE_TYPE


@pytest.mark.parametrize("review_type", ["question", "rating", "store", "something_new"])
def test_non_product_reviews_reject(review_type: str) -> None:
    rejection = as_rejection(run(make_review(review_type=review_type)))
    assert rejection.reason is ReasonCode.INELIGIBLE_TYPE
    assert rejection.rule_values == {"review_type": review_type}


# 5 NO_MEMBER


def test_unmatched_email_rejects() -> None:
    rejection = as_rejection(run(make_review(), customer=None))
    assert rejection.reason is ReasonCode.NO_MEMBER
    assert rejection.rule_values == {"member_status": "not_found"}
    assert rejection.customer_id is None


@pytest.mark.parametrize("status", [MemberStatus.GUEST, MemberStatus.EXCLUDED])
def test_guest_or_excluded_customer_rejects(status: MemberStatus) -> None:
    rejection = as_rejection(run(make_review(), customer=Customer("cust-9", status)))
    assert rejection.reason is ReasonCode.NO_MEMBER
    assert rejection.rule_values == {"member_status": status.value}
    assert rejection.customer_id == "cust-9"


# 6 NOT_PUBLISHED


@pytest.mark.parametrize(
    ("award_on", "status", "rewarded"),
    [
        (AwardOn.PUBLISHED, ReviewStatus.PUBLISHED, True),
        (AwardOn.PUBLISHED, ReviewStatus.FEATURED, True),
        (AwardOn.PUBLISHED, ReviewStatus.PENDING, False),
        (AwardOn.PUBLISHED, ReviewStatus.UNPUBLISHED, False),
        (AwardOn.PUBLISHED, ReviewStatus.REJECTED, False),
        (AwardOn.SUBMITTED, ReviewStatus.PENDING, True),
        (AwardOn.SUBMITTED, ReviewStatus.PUBLISHED, True),
        (AwardOn.SUBMITTED, ReviewStatus.FEATURED, True),
        (AwardOn.SUBMITTED, ReviewStatus.UNPUBLISHED, False),
        (AwardOn.SUBMITTED, ReviewStatus.REJECTED, False),
    ],
)
def test_status_gate(award_on: AwardOn, status: ReviewStatus, rewarded: bool) -> None:
    decision = run(make_review(status=status), program=make_program(award_on=award_on))
    if rewarded:
        as_award(decision)
    else:
        rejection = as_rejection(decision)
        assert rejection.reason is ReasonCode.NOT_PUBLISHED
        assert rejection.rule_values == {"status": status.value, "award_on": award_on.value}
