"""The history index: what the ledger layer rebuilds, and the window queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from joyctl.engine import (
    ConnectionFacts,
    Customer,
    History,
    ReviewStatus,
    RewardRecord,
    decide_in_sequence,
)

from .factories import CONNECTED, NOW, T0, make_program, make_review

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def record(
    review_id: str, hours: float, *, customer: str = "c", revoked: bool = False
) -> RewardRecord:
    return RewardRecord(review_id, customer, f"p-{review_id}", 10, T0 + hours * HOUR, None, revoked)


@pytest.mark.parametrize(
    ("earlier_hours", "new_hours", "busiest"),
    [
        ([], 0, 0),
        ([0], 0, 1),
        ([0], 23.9, 1),
        ([0], 24, 0),
        ([0], -24, 0),
        ([0], -23.9, 1),
        ([0, 10, 20], 15, 3),
        ([0, 10, 30], 15, 2),
        ([0, 30], 15, 1),
        ([-20, 20], 0, 1),  # no one-day window holds -20h, 0h and +20h together
        ([0, 0, 0], 0, 3),
    ],
)
def test_busiest_window(earlier_hours: list[float], new_hours: float, busiest: int) -> None:
    history = History.from_records(
        [record(f"r{index}", hours) for index, hours in enumerate(earlier_hours)]
    )
    assert history.busiest_window("c", T0 + new_hours * HOUR, DAY) == busiest


def test_revoked_records_do_not_count_toward_limits() -> None:
    history = History.from_records([record("r1", 0, revoked=True), record("r2", 1)])
    assert history.busiest_window("c", T0, DAY) == 1
    assert history.product_rewards("c", "p-r1") == 0
    assert history.product_rewards("c", "p-r2") == 1
    assert history.rule_points("c") == 10


def test_recording_twice_counts_once() -> None:
    history = History()
    history.record_reward(record("r1", 0))
    history.record_reward(record("r1", 0))
    assert history.rule_points("c") == 10


def test_revoking_an_unknown_or_revoked_review_changes_nothing() -> None:
    history = History.from_records([record("r1", 0)])
    history.record_revocation("nope")
    history.record_revocation("r1")
    history.record_revocation("r1")
    assert history.rule_points("c") == 0
    assert history.busiest_window("c", T0, DAY) == 0


def test_recent_copy_window_is_exclusive() -> None:
    history = History.from_records(
        [
            RewardRecord("r1", "c", "p", 10, T0, "hash-a"),
            RewardRecord("r2", "d", "p", 10, T0 + 200 * DAY, "hash-a"),
        ]
    )
    window = timedelta(days=90)
    assert history.recent_copy("hash-a", T0 + 89 * DAY, window) == "r1"
    assert history.recent_copy("hash-a", T0 + 90 * DAY, window) is None
    assert history.recent_copy("hash-a", T0 + 150 * DAY, window) == "r2"
    assert history.recent_copy("hash-b", T0, window) is None
    assert history.own_copy("c", "hash-a") == "r1"
    assert history.own_copy("d", "hash-b") is None


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_recent_copy_finds_the_earliest_sighting_in_the_window_whatever_the_order(
    order: tuple[int, int, int],
) -> None:
    sightings = [
        RewardRecord("r0", "c", "p", 10, T0, "hash-a"),
        RewardRecord("r100", "d", "p", 10, T0 + 100 * DAY, "hash-a"),
        RewardRecord("r200", "e", "p", 10, T0 + 200 * DAY, "hash-a"),
    ]
    history = History.from_records([sightings[index] for index in order])
    window = timedelta(days=90)
    assert history.recent_copy("hash-a", T0 - 89 * DAY, window) == "r0"
    assert history.recent_copy("hash-a", T0 + 50 * DAY, window) == "r0"
    assert history.recent_copy("hash-a", T0 + 150 * DAY, window) == "r100"
    assert history.recent_copy("hash-a", T0 + 250 * DAY, window) == "r200"
    assert history.recent_copy("hash-a", T0 + 290 * DAY, window) is None
    assert [history.own_copy(customer, "hash-a") for customer in "cde"] == ["r0", "r100", "r200"]


def test_same_time_sightings_keep_the_order_they_were_recorded_in() -> None:
    history = History.from_records(
        [RewardRecord(name, name, "p", 10, T0, "hash-a") for name in ("b", "a", "c")]
    )
    assert history.recent_copy("hash-a", T0, timedelta(days=1)) == "b"


def test_own_copy_is_the_customers_first_recorded_copy_whatever_its_time() -> None:
    history = History.from_records(
        [
            RewardRecord("d-early", "d", "p", 10, T0 - DAY, "hash-a"),
            RewardRecord("c-late", "c", "p", 10, T0 + 10 * DAY, "hash-a"),
            RewardRecord("c-early", "c", "p", 10, T0, "hash-a"),
            RewardRecord("e-only", "e", "p", 10, T0, "hash-b"),
        ]
    )
    assert history.own_copy("c", "hash-a") == "c-late"
    assert history.own_copy("d", "hash-a") == "d-early"
    assert history.own_copy("e", "hash-a") is None
    assert history.own_copy("e", "hash-b") == "e-only"
    assert history.own_copy("c", "hash-b") is None
    assert history.recent_copy("hash-a", T0, timedelta(days=2)) == "d-early"


def test_product_limit_counts_per_customer_and_product() -> None:
    history = History.from_records(
        [
            RewardRecord("r1", "c", "shirt", 10, T0, None),
            RewardRecord("r2", "c", "shirt", 10, T0 + DAY, None),
            RewardRecord("r3", "c", None, 10, T0, None),
            RewardRecord("r4", "d", "shirt", 10, T0, None),
        ]
    )
    history.record_revocation("r2")
    assert history.product_rewards("c", "shirt") == 1
    assert history.product_rewards("c", None) == 1
    assert history.product_rewards("d", "shirt") == 1
    assert history.product_rewards("d", "hat") == 0
    assert history.product_rewards("nobody", "shirt") == 0


def test_history_rebuilt_from_records_decides_like_the_accumulated_one() -> None:
    program = make_program(rule_cap=120, frequency_limit=2, photo_bonus=10)
    reviews = [
        make_review(
            f"rev-{index}",
            product_id=f"p{index % 3}",
            created_at=T0 + index * 5 * HOUR,
            images=("x.jpg",) if index % 2 else (),
            content=f"text {index % 4}",
        )
        for index in range(12)
    ]
    customer = Customer("cust-1")
    accumulated = History()
    list(decide_in_sequence(((r, customer) for r in reviews), accumulated, program, CONNECTED, NOW))
    rebuilt = History.from_records(accumulated.rewards.values(), accumulated.balances)
    later = [
        make_review(
            f"new-{index}",
            product_id=f"p{index}",
            created_at=T0 + index * HOUR,
            content=f"text {index}",
        )
        for index in range(6)
    ]
    later.append(make_review("rev-1", status=ReviewStatus.REJECTED))
    for review in later:
        from_accumulated = list(
            decide_in_sequence([(review, customer)], accumulated, program, CONNECTED, NOW)
        )
        from_rebuilt = list(
            decide_in_sequence([(review, customer)], rebuilt, program, CONNECTED, NOW)
        )
        assert from_accumulated == from_rebuilt
    assert accumulated.balances == rebuilt.balances


def test_decide_in_sequence_applies_each_decision_before_the_next() -> None:
    customer = Customer("cust-1")
    reviews = [(make_review(f"rev-{index}", product_id="shirt"), customer) for index in range(3)]
    history = History()
    kinds = [d.kind for d in decide_in_sequence(reviews, history, make_program(), CONNECTED, NOW)]
    assert kinds == ["award", "reject", "reject"]
    assert history.balance("cust-1") == 50
    assert set(history.rewards) == {"rev-0"}


def test_decide_in_sequence_is_lazy() -> None:
    history = History()
    decisions = decide_in_sequence(
        [(make_review(), Customer("cust-1"))],
        history,
        make_program(),
        ConnectionFacts(T0 - DAY),
        NOW,
    )
    assert history.rewards == {}
    assert next(decisions).kind == "award"
    assert "rev-1" in history.rewards
