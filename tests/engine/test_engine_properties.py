"""Invariants of the engine over generated programs and review streams.

A stream mixes first deliveries, re-deliveries of the same review with a new status (repeats,
pending -> published, published -> rejected/unpublished) and redemptions that lower balances,
so revocations meet balances smaller than the award they reverse.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from joyctl.engine import (
    Award,
    AwardOn,
    BonusMode,
    ConnectionFacts,
    Customer,
    Decision,
    History,
    Review,
    ReviewStatus,
    Revocation,
    WriteReviewProgram,
    decide,
)

from .factories import NOW, T0

CONNECTION = ConnectionFacts(connected_at=T0 - timedelta(days=365))
TEXTS = ("", "great fit", "Great  FIT", "soft and warm, washes well", "runs small", "x" * 40)
# Deliveries are mostly publishable so that rewards, and therefore limits and revocations, occur.
STATUSES = [ReviewStatus.PUBLISHED] * 3 + [ReviewStatus.FEATURED] + list(ReviewStatus)


@st.composite
def programs(draw: st.DrawFn) -> WriteReviewProgram:
    return WriteReviewProgram(
        enabled=True,
        points_per_review=draw(st.integers(1, 100)),
        photo_bonus=draw(st.integers(0, 60)),
        bonus_mode=draw(st.sampled_from(BonusMode)),
        min_characters=draw(st.sampled_from([0, 0, 0, 5, 15])),
        product_limit=draw(st.integers(0, 3)),
        frequency_limit=draw(st.integers(0, 4)),
        frequency_period_days=draw(st.integers(1, 3)),
        rule_cap=draw(st.sampled_from([0, 0, 40, 100, 250])),
        duplicate_detection=draw(st.booleans()),
        duplicate_window_days=draw(st.integers(1, 5)),
        award_on=draw(st.sampled_from(AwardOn)),
        revoke_on_rejection=draw(st.booleans()),
        revoke_on_unpublished=draw(st.booleans()),
    )


@st.composite
def base_reviews(draw: st.DrawFn, review_id: str, customer_id: str | None = None) -> Review:
    """A review's fixed attributes; a delivery may change only its status."""
    return Review(
        review_id=review_id,
        email=f"{customer_id or review_id}@example.com",
        content=draw(st.sampled_from(TEXTS)),
        created_at=T0 + timedelta(hours=draw(st.integers(0, 24 * 4))),
        product_id=f"p{draw(st.integers(0, 2))}",
        images=draw(st.sampled_from([(), ("a.jpg",)])),
    )


@dataclass(frozen=True)
class Delivery:
    review: Review
    customer: Customer


@dataclass(frozen=True)
class Redemption:
    customer_id: str
    points: int


Event = Delivery | Redemption


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    customers = [Customer(f"c{index}") for index in range(3)]
    owners = draw(st.lists(st.sampled_from(customers), min_size=1, max_size=12))
    pool = [
        (draw(base_reviews(f"r{index}", owner.customer_id)), owner)
        for index, owner in enumerate(owners)
    ]
    delivery = st.builds(
        lambda chosen, status: Delivery(_with_status(chosen[0], status), chosen[1]),
        st.sampled_from(pool),
        st.sampled_from(STATUSES),
    )
    redemption = st.builds(
        Redemption, st.sampled_from([c.customer_id for c in customers]), st.integers(1, 150)
    )
    return draw(
        st.lists(st.one_of(delivery, delivery, delivery, redemption), min_size=8, max_size=50)
    )


def _with_status(review: Review, status: ReviewStatus) -> Review:
    return Review(
        review_id=review.review_id,
        email=review.email,
        content=review.content,
        created_at=review.created_at,
        product_id=review.product_id,
        images=review.images,
        status=status,
    )


def play(events: list[Event], program: WriteReviewProgram, history: History) -> list[Decision]:
    """Run a stream, checking after every step that no balance went negative."""
    decisions: list[Decision] = []
    for event in events:
        if isinstance(event, Redemption):
            balance = history.balance(event.customer_id)
            history.set_balance(event.customer_id, balance - min(event.points, balance))
        else:
            decision = decide(event.review, event.customer, history, program, CONNECTION, NOW)
            history.apply(decision)
            decisions.append(decision)
        assert all(balance >= 0 for balance in history.balances.values())
    return decisions


def standing_awards(decisions: list[Decision]) -> list[Award]:
    revoked = {d.review_id for d in decisions if isinstance(d, Revocation)}
    return [d for d in decisions if isinstance(d, Award) and d.review_id not in revoked]


@settings(max_examples=200)
@given(programs(), streams())
def test_balances_never_go_negative_and_revocations_add_up(
    program: WriteReviewProgram, events: list[Event]
) -> None:
    decisions = play(events, program, History())
    awarded = {d.review_id: d.points for d in decisions if isinstance(d, Award)}
    for revocation in (d for d in decisions if isinstance(d, Revocation)):
        assert 0 <= revocation.points_revoked <= revocation.points_awarded
        assert revocation.points_revoked + revocation.shortfall == revocation.points_awarded
        assert revocation.points_awarded == awarded[revocation.review_id]


@settings(max_examples=200)
@given(programs(), streams())
def test_a_review_is_awarded_at_most_once_and_revoked_at_most_once(
    program: WriteReviewProgram, events: list[Event]
) -> None:
    decisions = play(events, program, History())
    awards = Counter(d.review_id for d in decisions if isinstance(d, Award))
    revocations = Counter(d.review_id for d in decisions if isinstance(d, Revocation))
    assert all(count == 1 for count in awards.values())
    assert all(count == 1 for count in revocations.values())
    assert set(revocations) <= set(awards)


@settings(max_examples=200)
@given(programs(), streams())
def test_limits_and_cap_are_never_exceeded(
    program: WriteReviewProgram, events: list[Event]
) -> None:
    standing = standing_awards(play(events, program, History()))
    by_customer: dict[str, list[Award]] = defaultdict(list)
    for award in standing:
        by_customer[award.customer_id].append(award)
    for awards in by_customer.values():
        if program.rule_cap:
            assert sum(award.points for award in awards) <= program.rule_cap
        if program.product_limit:
            per_product = Counter(award.product_id for award in awards)
            assert max(per_product.values()) <= program.product_limit
        if program.frequency_limit:
            assert busiest_period(awards, program.frequency_period_days) <= program.frequency_limit


def busiest_period(awards: list[Award], days: int) -> int:
    """Most awards in any window [t, t + days) that starts at an award (brute force)."""
    times = [award.reviewed_at for award in awards]
    period = timedelta(days=days)
    return max(sum(1 for other in times if start <= other < start + period) for start in times)


@settings(max_examples=200)
@given(programs(), streams())
def test_duplicate_text_is_never_rewarded_twice(
    program: WriteReviewProgram, events: list[Event]
) -> None:
    awards = [d for d in play(events, program, History()) if isinstance(d, Award)]
    if not program.duplicate_detection:
        return
    window = timedelta(days=program.duplicate_window_days)
    hashed = [award for award in awards if award.content_hash is not None]
    for index, first in enumerate(hashed):
        for second in hashed[index + 1 :]:
            if first.content_hash != second.content_hash:
                continue
            assert first.customer_id != second.customer_id
            assert abs(first.reviewed_at - second.reviewed_at) >= window


@settings(max_examples=200)
@given(programs(), streams(), st.integers(0, 40))
def test_a_history_rebuilt_from_its_records_decides_the_same(
    program: WriteReviewProgram, events: list[Event], split: int
) -> None:
    straight = play(events, program, History())
    history = History()
    before = play(events[:split], program, history)
    rebuilt = History.from_records(history.rewards.values(), history.balances)
    assert before + play(events[split:], program, rebuilt) == straight


@st.composite
def independent_reviews(draw: st.DrawFn) -> list[Delivery]:
    """Reviews of different customers and different products, with different texts."""
    count = draw(st.integers(1, 12))
    deliveries = []
    for index in range(count):
        review = draw(base_reviews(f"r{index}"))
        review = Review(
            review_id=review.review_id,
            email=review.email,
            content=f"{review.content} #{index}" if review.content else "",
            created_at=review.created_at,
            product_id=f"product-{index}",
            images=review.images,
            status=draw(st.sampled_from(ReviewStatus)),
            verified=draw(st.booleans()),
        )
        deliveries.append(Delivery(review, Customer(f"customer-{index}")))
    return deliveries


@settings(max_examples=200)
@given(programs(), independent_reviews(), st.randoms(use_true_random=False))
def test_order_of_arrival_does_not_change_independent_outcomes(
    program: WriteReviewProgram, deliveries: list[Delivery], random: Random
) -> None:
    shuffled = list(deliveries)
    random.shuffle(shuffled)
    in_order = play(list(deliveries), program, History())
    reordered = play(list(shuffled), program, History())
    assert sum(d.points for d in in_order if isinstance(d, Award)) == sum(
        d.points for d in reordered if isinstance(d, Award)
    )
    assert sorted(in_order, key=_review_id) == sorted(reordered, key=_review_id)


def _review_id(decision: Decision) -> str:
    return decision.review_id


@settings(max_examples=200)
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.lists(st.integers(0, 24 * 6), min_size=1, max_size=15),
)
def test_frequency_limit_holds_in_any_arrival_order(
    limit: int, period_days: int, hours: list[int]
) -> None:
    program = WriteReviewProgram(
        enabled=True, frequency_limit=limit, frequency_period_days=period_days, product_limit=0
    )
    customer = Customer("c0")
    events: list[Event] = [
        Delivery(
            Review(
                review_id=f"r{index}",
                email="c0@example.com",
                content=f"review number {index}",
                created_at=T0 + timedelta(hours=hour),
            ),
            customer,
        )
        for index, hour in enumerate(hours)
    ]
    awards = [d for d in play(events, program, History()) if isinstance(d, Award)]
    assert busiest_period(awards, period_days) <= limit
