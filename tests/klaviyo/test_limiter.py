"""Limiter math on a fake clock: windows never overrun, throughput stays near the ceiling."""

from __future__ import annotations

import threading
from bisect import bisect_left

import pytest

from joyctl.klaviyo.limiter import OperationLimiter, RateLimits, parse_limit_policies
from joyctl.klaviyo.sending import Waiter
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import FakeClock, FakeKlaviyo, collection, jsonapi

BULK_EVENTS = RateLimits(burst=10, steady=150)  # bulk_create_events


def run_sequentially(limiter: OperationLimiter, clock: FakeClock, count: int) -> list[float]:
    starts = []
    for _ in range(count):
        clock.sleep(limiter.reserve())
        starts.append(clock.now)
    return starts


def most_in_any_window(starts: list[float], seconds: float) -> int:
    ordered = sorted(starts)
    return max(bisect_left(ordered, start + seconds) - index for index, start in enumerate(ordered))


def test_a_backfill_never_overruns_either_window() -> None:
    clock = FakeClock()
    starts = run_sequentially(OperationLimiter(BULK_EVENTS, clock), clock, 600)
    assert most_in_any_window(starts, 1.0) <= 10
    assert most_in_any_window(starts, 60.0) <= 150


def test_a_backfill_runs_within_five_percent_of_the_steady_ceiling() -> None:
    clock = FakeClock()
    count = 1500
    starts = run_sequentially(OperationLimiter(BULK_EVENTS, clock), clock, count)

    # A perfect client fills 10 windows of 150; in the last one it still needs 14 s of bursts.
    ideal = (count // 150 - 1) * 60.0 + (150 - 1) / 10
    elapsed = starts[-1] - starts[0]
    assert ideal <= elapsed <= ideal * 1.05
    long_run_rate = (count - 150) / (starts[-1] - starts[149])
    assert long_run_rate >= 0.95 * 150 / 60


def test_the_first_burst_goes_out_without_waiting() -> None:
    clock = FakeClock()
    limiter = OperationLimiter(RateLimits(burst=10, steady=150), clock)
    assert [limiter.reserve() for _ in range(10)] == [0.0] * 10
    assert limiter.reserve() == pytest.approx(1.05)


def test_concurrent_reservations_respect_the_windows() -> None:
    clock = FakeClock()
    limiter = OperationLimiter(RateLimits(burst=5, steady=40), clock)
    starts: list[float] = []
    lock = threading.Lock()

    def reserve_many() -> None:
        for _ in range(25):
            start = clock.now + limiter.reserve()
            with lock:
                starts.append(start)

    threads = [threading.Thread(target=reserve_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(starts) == 200
    assert most_in_any_window(starts, 1.0) <= 5
    assert most_in_any_window(starts, 60.0) <= 40


def test_headers_replace_the_table_limits() -> None:
    clock = FakeClock()
    limiter = OperationLimiter(RateLimits(burst=75, steady=750), clock)
    limiter.observe({"ratelimit-limit": "1, 1;w=1, 15;w=60"})
    assert limiter.limits == RateLimits(burst=1, steady=15)
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == pytest.approx(1.05)


def test_an_exhausted_window_holds_until_it_resets() -> None:
    clock = FakeClock()
    limiter = OperationLimiter(RateLimits(burst=10, steady=150), clock)
    limiter.observe({"ratelimit-remaining": "0", "ratelimit-reset": "7"})
    assert limiter.reserve() == pytest.approx(7.0)


def test_a_hold_applies_to_everyone() -> None:
    clock = FakeClock()
    limiter = OperationLimiter(RateLimits(burst=10, steady=150), clock)
    limiter.hold(4.0)
    assert limiter.reserve() == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1, 1;w=1, 15;w=60", [(1, 1.0), (15, 60.0)]),
        ("150", [(150, 60.0)]),
        ("5;w=1, 20;w=6", [(5, 1.0), (20, 6.0)]),
        ("", []),
        ("lots", []),
        ("10;w=0", []),
    ],
)
def test_limit_header_policies(header: str, expected: list[tuple[int, float]]) -> None:
    assert parse_limit_policies(header) == expected


def test_scaled_windows_are_adopted() -> None:
    limiter = OperationLimiter(RateLimits(burst=10, steady=150), FakeClock())
    limiter.observe({"ratelimit-limit": "5;w=1, 20;w=6"})
    assert limiter.limits == RateLimits(burst=5, steady=20, burst_window=1.0, steady_window=6.0)


def test_waits_ending_together_are_reported_once() -> None:
    clock = FakeClock()
    reported: list[tuple[float, str]] = []
    waiter = Waiter(
        on_wait=lambda s, r: reported.append((s, r)),
        sleep=lambda _: None,
        clock=clock,
        report_over=1.0,
    )
    waiter.wait(30.0, "rate limited", key="get_reviews", always_report=True)
    clock.advance(5.0)
    waiter.wait(25.0, "pacing", key="get_reviews", always_report=False)
    waiter.wait(0.4, "pacing", key="get_events", always_report=False)
    assert reported == [(30.0, "rate limited")]


def test_the_client_paces_and_reports_long_pacing_waits_once(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock
) -> None:
    fake.always("GET", "/api/accounts", jsonapi(body=collection()))
    reported: list[tuple[float, str]] = []
    client = make_client(pacing=True, on_wait=lambda s, r: reported.append((s, r)))

    for _ in range(16):  # get_accounts allows 1/s and 15/min
        client.get("/api/accounts")

    assert clock.sleeps[:14] == pytest.approx([1.05] * 14)
    assert clock.sleeps[14] == pytest.approx(60.6 - 14 * 1.05)
    assert len(reported) == 1
    assert reported[0][0] == pytest.approx(60.6 - 14 * 1.05)
    assert reported[0][1] == "pacing get_accounts to Klaviyo's rate limit (1/1s, 15/60s)"


def test_short_pacing_waits_are_not_reported(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock
) -> None:
    fake.always("GET", "/api/reviews", jsonapi(body=collection()))
    reported: list[tuple[float, str]] = []
    client = make_client(pacing=True, on_wait=lambda s, r: reported.append((s, r)))
    client.request("GET", "/api/reviews", params={"filter": "x"})
    for _ in range(12):
        client.get("/api/reviews")
    assert clock.sleeps
    assert reported == []


def test_a_429_holds_other_requests_of_the_same_operation(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock
) -> None:
    throttled = jsonapi(429, {"errors": []}, **{"retry-after": "5"})
    fake.add("GET", "/api/metrics", throttled, jsonapi(body=collection()))
    client = make_client(pacing=True)
    client.get("/api/metrics")
    assert sum(clock.sleeps) == pytest.approx(5.0)
