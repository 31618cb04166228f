"""Rules 7-13 and the points: length, product and frequency limits, cap, duplicates, approval."""

from __future__ import annotations

from datetime import timedelta

import pytest

from joyctl.engine import BonusMode, Customer, History, PointsBreakdown, ReasonCode

from .factories import (
    T0,
    TEXT,
    as_award,
    as_rejection,
    make_program,
    make_review,
    run,
    run_and_apply,
)

DAY = timedelta(days=1)
OTHER = Customer("cust-2")


# 7 TOO_SHORT


def test_short_content_rejects_with_the_count() -> None:
    rejection = as_rejection(
        run(make_review(content="Nice shirt!!"), program=make_program(min_characters=50))
    )
    assert rejection.reason is ReasonCode.TOO_SHORT
    assert rejection.rule_values == {"min_characters": 50, "characters": 12}


@pytest.mark.parametrize(("length", "rewarded"), [(49, False), (50, True), (51, True)])
def test_minimum_is_inclusive(length: int, rewarded: bool) -> None:
    decision = run(make_review(content="x" * length), program=make_program(min_characters=50))
    assert (decision.kind == "award") is rewarded


def test_whitespace_padding_does_not_count() -> None:
    padded = "Good " + " " * 60 + "\n\n\n" + "fit"
    rejection = as_rejection(
        run(make_review(content=padded), program=make_program(min_characters=10))
    )
    assert rejection.rule_values["characters"] == len("Good fit")


def test_decomposed_accents_count_once() -> None:
    content = "e\u0301" * 10  # 20 code points before NFC, 10 characters after
    rejection = as_rejection(
        run(make_review(content=content), program=make_program(min_characters=11))
    )
    assert rejection.rule_values["characters"] == 10


def test_minimum_off_accepts_empty_content() -> None:
    as_award(run(make_review(content=""), program=make_program(min_characters=0)))


# 8 PRODUCT_LIMIT


def test_second_review_of_the_same_product_rejects() -> None:
    history = History()
    as_award(run_and_apply(make_review("rev-1", product_id="shirt"), history))
    rejection = as_rejection(run(make_review("rev-2", product_id="shirt"), history=history))
    assert rejection.reason is ReasonCode.PRODUCT_LIMIT
    assert rejection.rule_values == {
        "product_limit": 1,
        "rewarded_for_product": 1,
        "product_id": "shirt",
    }


def test_product_limit_counts_per_customer_and_per_product() -> None:
    history = History()
    as_award(run_and_apply(make_review("rev-1", product_id="shirt"), history))
    as_award(run(make_review("rev-2", product_id="socks"), history=history))
    as_award(run(make_review("rev-3", product_id="shirt"), history=history, customer=OTHER))


def test_product_limit_of_two_allows_two() -> None:
    history = History()
    program = make_program(product_limit=2)
    for review_id in ("rev-1", "rev-2"):
        as_award(
            run_and_apply(make_review(review_id, product_id="shirt"), history, program=program)
        )
    rejection = as_rejection(
        run(make_review("rev-3", product_id="shirt"), history=history, program=program)
    )
    assert rejection.rule_values["rewarded_for_product"] == 2


def test_product_limit_zero_is_unlimited() -> None:
    history = History()
    program = make_program(product_limit=0, frequency_limit=0)
    for index in range(5):
        review = make_review(f"rev-{index}", product_id="shirt")
        as_award(run_and_apply(review, history, program=program))


def test_reviews_without_a_product_share_one_limit() -> None:
    history = History()
    as_award(run_and_apply(make_review("rev-1", product_id=None), history))
    rejection = as_rejection(run(make_review("rev-2", product_id=None), history=history))
    assert rejection.reason is ReasonCode.PRODUCT_LIMIT


# 9 RATE_LIMIT


def test_fourth_review_in_a_day_rejects() -> None:
    history = History()
    for hour in range(3):
        review = make_review(f"rev-{hour}", created_at=T0 + timedelta(hours=hour))
        as_award(run_and_apply(review, history))
    late = make_review("rev-late", created_at=T0 + timedelta(hours=23))
    rejection = as_rejection(run(late, history=history))
    assert rejection.reason is ReasonCode.RATE_LIMIT
    assert rejection.rule_values == {
        "frequency_limit": 3,
        "period_days": 1,
        "rewards_in_period": 3,
    }


def test_window_is_a_rolling_period() -> None:
    history = History()
    for hour in range(3):
        review = make_review(f"rev-{hour}", created_at=T0 + timedelta(hours=hour))
        as_award(run_and_apply(review, history))
    # One day after the first reward it has left the window; the other two are still in it.
    as_award(run_and_apply(make_review("rev-a", created_at=T0 + DAY), history))
    rejection = as_rejection(run(make_review("rev-b", created_at=T0 + DAY), history=history))
    assert rejection.reason is ReasonCode.RATE_LIMIT


def test_limit_holds_when_an_older_review_arrives_later() -> None:
    program = make_program(frequency_limit=1)
    history = History()
    as_award(
        run_and_apply(
            make_review("rev-new", created_at=T0 + timedelta(hours=12)), history, program=program
        )
    )
    # Written 12 hours before the rewarded one: both would fall in one day.
    rejection = as_rejection(
        run(make_review("rev-old", created_at=T0), history=history, program=program)
    )
    assert rejection.reason is ReasonCode.RATE_LIMIT
    # Written exactly a day before: no one-day window holds both.
    as_award(
        run(
            make_review("rev-older", created_at=T0 - timedelta(hours=12)),
            history=history,
            program=program,
        )
    )


def test_weekly_period() -> None:
    program = make_program(frequency_limit=1, frequency_period_days=7)
    history = History()
    as_award(run_and_apply(make_review("rev-1"), history, program=program))
    as_rejection(
        run(make_review("rev-2", created_at=T0 + 6 * DAY), history=history, program=program)
    )
    as_award(run(make_review("rev-3", created_at=T0 + 7 * DAY), history=history, program=program))


def test_frequency_limit_zero_is_off() -> None:
    program = make_program(frequency_limit=0)
    history = History()
    for index in range(10):
        as_award(run_and_apply(make_review(f"rev-{index}"), history, program=program))


def test_rate_limit_is_per_customer() -> None:
    program = make_program(frequency_limit=1)
    history = History()
    as_award(run_and_apply(make_review("rev-1"), history, program=program))
    as_award(run(make_review("rev-2"), history=history, program=program, customer=OTHER))


# 10 RULE_CAP


def test_cap_reached_rejects() -> None:
    program = make_program(rule_cap=100, frequency_limit=0)
    history = History()
    for review_id in ("rev-1", "rev-2"):
        assert (
            as_award(run_and_apply(make_review(review_id), history, program=program)).points == 50
        )
    rejection = as_rejection(run(make_review("rev-3"), history=history, program=program))
    assert rejection.reason is ReasonCode.RULE_CAP
    assert rejection.rule_values == {"rule_cap": 100, "points_from_rule": 100}


def test_award_that_would_pass_the_cap_earns_the_remainder() -> None:
    program = make_program(rule_cap=120, frequency_limit=0)
    history = History()
    run_and_apply(make_review("rev-1"), history, program=program)
    run_and_apply(make_review("rev-2"), history, program=program)
    award = as_award(run(make_review("rev-3"), history=history, program=program))
    assert award.points == 20
    assert award.breakdown == PointsBreakdown(base=50, photo_bonus=0, cap_reduction=30)


def test_cap_smaller_than_one_award() -> None:
    award = as_award(run(make_review(), program=make_program(rule_cap=10)))
    assert (award.points, award.breakdown.cap_reduction) == (10, 40)


def test_cap_zero_is_off() -> None:
    program = make_program(rule_cap=0, frequency_limit=0)
    history = History()
    for index in range(20):
        run_and_apply(make_review(f"rev-{index}"), history, program=program)
    assert history.balance("cust-1") == 1000


# 11 DUPLICATE_CONTENT


def test_own_text_reused_on_another_product_rejects_at_any_distance() -> None:
    history = History()
    run_and_apply(make_review("rev-1", content=TEXT), history)
    copy = make_review("rev-2", content=f"  {TEXT.upper()} ", created_at=T0 + 400 * DAY)
    rejection = as_rejection(run(copy, history=history))
    assert rejection.reason is ReasonCode.DUPLICATE_CONTENT
    assert rejection.rule_values == {"scope": "customer", "duplicate_of": "rev-1"}


@pytest.mark.parametrize("days_apart", [0, 89, -89])
def test_another_customers_text_within_the_window_rejects(days_apart: int) -> None:
    history = History()
    run_and_apply(make_review("rev-1", content=TEXT), history, customer=OTHER)
    copy = make_review("rev-2", content=TEXT, created_at=T0 + days_apart * DAY)
    rejection = as_rejection(run(copy, history=history))
    assert rejection.rule_values == {
        "scope": "any_customer",
        "duplicate_of": "rev-1",
        "window_days": 90,
    }


@pytest.mark.parametrize("days_apart", [90, -90, 365])
def test_another_customers_text_outside_the_window_passes(days_apart: int) -> None:
    history = History()
    run_and_apply(make_review("rev-1", content=TEXT), history, customer=OTHER)
    as_award(
        run(make_review("rev-2", content=TEXT, created_at=T0 + days_apart * DAY), history=history)
    )


def test_custom_window() -> None:
    program = make_program(duplicate_window_days=7)
    history = History()
    run_and_apply(make_review("rev-1", content=TEXT), history, customer=OTHER, program=program)
    as_rejection(
        run(
            make_review("rev-2", content=TEXT, created_at=T0 + 6 * DAY),
            history=history,
            program=program,
        )
    )
    as_award(
        run(
            make_review("rev-3", content=TEXT, created_at=T0 + 7 * DAY),
            history=history,
            program=program,
        )
    )


def test_duplicate_detection_off() -> None:
    program = make_program(duplicate_detection=False)
    history = History()
    run_and_apply(make_review("rev-1", content=TEXT), history, program=program)
    as_award(run(make_review("rev-2", content=TEXT), history=history, program=program))


def test_empty_texts_are_not_duplicates() -> None:
    history = History()
    as_award(run_and_apply(make_review("rev-1", content=""), history))
    as_award(run(make_review("rev-2", content="  "), history=history))


def test_rejected_reviews_do_not_make_later_ones_duplicates() -> None:
    history = History()
    program = make_program(min_characters=500)
    run_and_apply(make_review("rev-1", content=TEXT), history, program=program)
    as_award(run(make_review("rev-2", content=TEXT), history=history))


# 12 NOT_VERIFIED


@pytest.mark.parametrize(
    ("require_verified", "verified", "rewarded"),
    [(True, False, False), (True, True, True), (False, False, True), (False, True, True)],
)
def test_verified_purchase(require_verified: bool, verified: bool, rewarded: bool) -> None:
    program = make_program(require_verified=require_verified)
    decision = run(make_review(verified=verified), program=program)
    if rewarded:
        as_award(decision)
    else:
        rejection = as_rejection(decision)
        assert rejection.reason is ReasonCode.NOT_VERIFIED
        assert rejection.rule_values == {"require_verified": True, "verified": False}


# 13 AWAITING_APPROVAL


@pytest.mark.parametrize(
    ("manual_approval", "approved", "rewarded"),
    [(True, False, False), (True, True, True), (False, False, True)],
)
def test_manual_approval(manual_approval: bool, approved: bool, rewarded: bool) -> None:
    program = make_program(manual_approval=manual_approval)
    decision = run(make_review(merchant_approved=approved), program=program)
    if rewarded:
        as_award(decision)
    else:
        rejection = as_rejection(decision)
        assert rejection.reason is ReasonCode.AWAITING_APPROVAL
        assert rejection.rule_values == {"manual_approval": True, "merchant_approved": False}


@pytest.mark.parametrize("manual_approval", [True, False])
def test_a_merchant_rejection_earns_nothing_whatever_the_program(manual_approval: bool) -> None:
    program = make_program(manual_approval=manual_approval)
    review = make_review(merchant_rejected=True, merchant_approved=False)
    rejection = as_rejection(run(review, program=program))
    assert rejection.reason is ReasonCode.MERCHANT_REJECTED
    assert rejection.rule_values == {"merchant_rejected": True}


# Points


@pytest.mark.parametrize(
    ("mode", "images", "bonus", "expected"),
    [
        (BonusMode.ADDITIVE, ("a.jpg",), 25, PointsBreakdown(base=50, photo_bonus=25)),
        (BonusMode.ADDITIVE, (), 25, PointsBreakdown(base=50)),
        (BonusMode.REPLACE, ("a.jpg", "b.jpg"), 80, PointsBreakdown(base=0, photo_bonus=80)),
        (BonusMode.REPLACE, (), 80, PointsBreakdown(base=50)),
        (BonusMode.ADDITIVE, ("a.jpg",), 0, PointsBreakdown(base=50)),
        (BonusMode.REPLACE, ("a.jpg",), 0, PointsBreakdown(base=50)),
    ],
)
def test_photo_bonus(
    mode: BonusMode, images: tuple[str, ...], bonus: int, expected: PointsBreakdown
) -> None:
    program = make_program(photo_bonus=bonus, bonus_mode=mode)
    award = as_award(run(make_review(images=images), program=program))
    assert award.breakdown == expected
    assert award.points == expected.total


def test_photo_bonus_counts_toward_the_cap() -> None:
    program = make_program(photo_bonus=25, rule_cap=60)
    award = as_award(run(make_review(images=("a.jpg",)), program=program))
    assert award.breakdown == PointsBreakdown(base=50, photo_bonus=25, cap_reduction=15)
    assert award.points == 60
