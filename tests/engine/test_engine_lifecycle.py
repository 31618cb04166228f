"""Repeats, status changes and revocations."""

from __future__ import annotations

import copy

import pytest

from joyctl.engine import (
    AwardOn,
    History,
    ReasonCode,
    ReviewStatus,
    decide_status_change,
    revocation_idempotency_key,
    reward_idempotency_key,
)

from .factories import (
    MEMBER,
    NOW,
    TEXT,
    as_award,
    as_rejection,
    as_revocation,
    make_program,
    make_review,
    run,
    run_and_apply,
)

REJECTED = ReviewStatus.REJECTED
UNPUBLISHED = ReviewStatus.UNPUBLISHED


def test_idempotency_keys() -> None:
    assert reward_idempotency_key("01HZX", "write-review") == "review:01HZX:write-review"
    assert revocation_idempotency_key("01HZX", "write-review") == "revoke:review:01HZX:write-review"


def test_a_repeated_review_is_not_rewarded_again() -> None:
    history = History()
    as_award(run_and_apply(make_review(), history))
    rejection = as_rejection(run_and_apply(make_review(), history))
    assert rejection.reason is ReasonCode.ALREADY_REWARDED
    assert rejection.rule_values == {
        "idempotency_key": "review:rev-1:write-review",
        "points": 50,
        "revoked": False,
    }
    assert rejection.customer_id == "cust-1"
    assert history.balance("cust-1") == 50


def test_repeat_is_recognised_before_any_other_rule() -> None:
    history = History()
    run_and_apply(make_review(), history)
    disabled = make_program(enabled=False)
    assert as_rejection(run(make_review(), history=history, program=disabled)).reason is (
        ReasonCode.ALREADY_REWARDED
    )


def test_pending_then_published_is_awarded_once() -> None:
    history = History()
    pending = as_rejection(run_and_apply(make_review(status=ReviewStatus.PENDING), history))
    assert pending.reason is ReasonCode.NOT_PUBLISHED
    as_award(run_and_apply(make_review(status=ReviewStatus.PUBLISHED), history))
    featured = as_rejection(run_and_apply(make_review(status=ReviewStatus.FEATURED), history))
    assert featured.reason is ReasonCode.ALREADY_REWARDED
    assert history.balance("cust-1") == 50


def test_award_on_submitted_pays_at_pending_and_not_again_at_publish() -> None:
    program = make_program(award_on=AwardOn.SUBMITTED)
    history = History()
    as_award(run_and_apply(make_review(status=ReviewStatus.PENDING), history, program=program))
    repeat = run_and_apply(make_review(status=ReviewStatus.PUBLISHED), history, program=program)
    assert as_rejection(repeat).reason is ReasonCode.ALREADY_REWARDED


def test_rejected_after_award_is_revoked() -> None:
    history = History()
    run_and_apply(make_review(), history)
    revocation = as_revocation(run_and_apply(make_review(status=REJECTED), history))
    assert (revocation.points_awarded, revocation.points_revoked, revocation.shortfall) == (
        50,
        50,
        0,
    )
    assert revocation.customer_id == "cust-1"
    assert revocation.status is REJECTED
    assert revocation.reverses_key == "review:rev-1:write-review"
    assert revocation.idempotency_key == "revoke:review:rev-1:write-review"
    assert revocation.decided_at == NOW
    assert history.balance("cust-1") == 0


def test_revocation_is_clamped_to_the_balance() -> None:
    history = History()
    run_and_apply(make_review(), history)
    history.set_balance("cust-1", 20)  # 30 points were redeemed since
    revocation = as_revocation(run_and_apply(make_review(status=REJECTED), history))
    assert (revocation.points_revoked, revocation.shortfall) == (20, 30)
    assert history.balance("cust-1") == 0


def test_revocation_never_adds_points_to_a_negative_balance() -> None:
    history = History()
    run_and_apply(make_review(), history)
    history.set_balance("cust-1", -5)
    revocation = as_revocation(run(make_review(status=REJECTED), history=history))
    assert (revocation.points_revoked, revocation.shortfall) == (0, 50)


def test_revocation_happens_once() -> None:
    history = History()
    run_and_apply(make_review(), history)
    run_and_apply(make_review(status=REJECTED), history)
    again = as_rejection(run_and_apply(make_review(status=REJECTED), history))
    assert again.reason is ReasonCode.ALREADY_REWARDED
    assert again.rule_values["revoked"] is True


def test_a_revoked_review_published_again_is_not_rewarded_again() -> None:
    history = History()
    run_and_apply(make_review(), history)
    run_and_apply(make_review(status=REJECTED), history)
    republished = as_rejection(run_and_apply(make_review(status=ReviewStatus.PUBLISHED), history))
    assert republished.reason is ReasonCode.ALREADY_REWARDED
    assert history.balance("cust-1") == 0


@pytest.mark.parametrize(
    ("status", "program_changes", "revokes"),
    [
        (REJECTED, {}, True),
        (REJECTED, {"revoke_on_rejection": False}, False),
        (UNPUBLISHED, {}, False),
        (UNPUBLISHED, {"revoke_on_unpublished": True}, True),
        (ReviewStatus.PENDING, {"revoke_on_unpublished": True}, False),
    ],
)
def test_revoke_options(
    status: ReviewStatus, program_changes: dict[str, bool], revokes: bool
) -> None:
    program = make_program(**program_changes)
    history = History()
    run_and_apply(make_review(), history, program=program)
    decision = run(make_review(status=status), history=history, program=program)
    assert decision.kind == ("revoke" if revokes else "reject")


def test_revocation_frees_the_product_slot_but_remembers_the_text() -> None:
    history = History()
    run_and_apply(make_review("rev-1", product_id="shirt", content=TEXT), history)
    run_and_apply(make_review("rev-1", product_id="shirt", status=REJECTED), history)
    as_award(run(make_review("rev-2", product_id="shirt"), history=history))
    copy_of_fake = as_rejection(run(make_review("rev-3", content=TEXT), history=history))
    assert copy_of_fake.reason is ReasonCode.DUPLICATE_CONTENT


def test_revocation_gives_back_room_under_the_cap() -> None:
    program = make_program(rule_cap=50)
    history = History()
    run_and_apply(make_review("rev-1"), history, program=program)
    assert as_rejection(run(make_review("rev-2"), history=history, program=program)).reason is (
        ReasonCode.RULE_CAP
    )
    run_and_apply(make_review("rev-1", status=REJECTED), history, program=program)
    assert as_award(run(make_review("rev-2"), history=history, program=program)).points == 50


def test_status_change_function_on_its_own() -> None:
    history = History()
    run_and_apply(make_review(), history)
    earlier = history.reward_for("rev-1")
    assert earlier is not None
    revocation = as_revocation(
        decide_status_change(make_review(status=REJECTED), earlier, 35, make_program(), NOW)
    )
    assert (revocation.points_revoked, revocation.shortfall) == (35, 15)


def test_decide_does_not_change_the_history() -> None:
    history = History()
    run_and_apply(make_review("rev-1"), history)
    before = copy.deepcopy(history)
    run(make_review("rev-2"), history=history)
    run(make_review("rev-1", status=REJECTED), history=history)
    assert history == before


def test_rejections_do_not_change_the_history() -> None:
    history = History()
    run_and_apply(make_review(), history, customer=None)
    assert history == History()
    assert history.balance(MEMBER.customer_id) == 0
