"""Retries: 429 waits Retry-After, 5xx and dropped connections only when safe, caps, reporting."""

from __future__ import annotations

import httpx
import pytest

from joyctl.errors import ExitCode, RateLimitedError, RemoteError
from joyctl.klaviyo.retry import RetryPolicy, parse_retry_after
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import FakeClock, FakeKlaviyo, collection, error_body, jsonapi

Waits = list[tuple[float, str]]
EVENT = {"data": {"type": "event", "attributes": {"properties": {}}}}


def throttled(retry_after: str | None = "3") -> httpx.Response:
    headers = {"retry-after": retry_after} if retry_after else {}
    return jsonapi(429, error_body(429, "throttled", "Request was throttled."), **headers)


def server_error(status: int = 503) -> httpx.Response:
    return jsonapi(status, error_body(status, "error", "Service unavailable"))


def ok() -> httpx.Response:
    return jsonapi(body=collection())


def test_429_waits_retry_after_then_succeeds(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock, waits: Waits
) -> None:
    fake.add("GET", "/api/reviews", throttled("3"), ok())

    make_client().get("/api/reviews")

    assert clock.sleeps == [3.0]
    assert waits == [(3.0, "Klaviyo rate-limited get_reviews (429)")]


def test_429_is_retried_even_for_a_plain_write(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock
) -> None:
    fake.add("POST", "/api/lists", throttled("1"), jsonapi(201, {"data": None}))
    make_client().post("/api/lists", {"data": {}})
    assert len(fake.requests) == 2


def test_429_without_retry_after_backs_off(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock
) -> None:
    fake.add("GET", "/api/reviews", throttled(None), ok())
    make_client().get("/api/reviews")
    assert 0.25 <= clock.sleeps[0] <= 0.75


def test_5xx_is_retried_for_a_get_with_growing_backoff(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock, waits: Waits
) -> None:
    fake.add("GET", "/api/reviews", server_error(503), server_error(502), ok())
    policy = RetryPolicy(base_delay=1.0, multiplier=2.0, jitter=0.0)

    make_client(retry=policy).get("/api/reviews")

    assert clock.sleeps == [1.0, 2.0]
    assert [reason for _, reason in waits] == [
        "Klaviyo answered 503 to get_reviews",
        "Klaviyo answered 502 to get_reviews",
    ]


def test_5xx_is_not_retried_for_a_non_idempotent_post(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock
) -> None:
    fake.add("POST", "/api/events", server_error(500))

    with pytest.raises(RemoteError) as caught:
        make_client().post("/api/events", EVENT)

    assert len(fake.requests) == 1
    assert clock.sleeps == []
    assert caught.value.exit_code == ExitCode.REMOTE


def test_5xx_is_retried_for_a_write_marked_idempotent(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/api/events", server_error(500), jsonapi(202))
    make_client().post("/api/events", EVENT, idempotent=True)
    assert len(fake.requests) == 2


def test_501_is_never_retried(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("GET", "/api/reviews", server_error(501))
    with pytest.raises(RemoteError):
        make_client().get("/api/reviews")
    assert len(fake.requests) == 1


def test_a_dropped_connection_is_retried_for_a_get(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("GET", "/api/reviews", httpx.ReadError("connection reset"), ok())
    make_client().get("/api/reviews")
    assert len(fake.requests) == 2


def test_a_dropped_connection_is_not_retried_for_a_plain_post(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/api/events", httpx.RemoteProtocolError("server hung up"))
    with pytest.raises(RemoteError) as caught:
        make_client().post("/api/events", EVENT)
    assert caught.value.code == "network"
    assert len(fake.requests) == 1


def test_a_connection_never_made_is_retried_even_for_a_post(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/api/events", httpx.ConnectError("refused"), jsonapi(202))
    make_client().post("/api/events", EVENT)
    assert len(fake.requests) == 2


def test_attempts_are_capped(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock
) -> None:
    fake.always("GET", "/api/reviews", server_error(503))

    with pytest.raises(RemoteError) as caught:
        make_client(retry=RetryPolicy(max_attempts=3)).get("/api/reviews")

    assert len(fake.requests) == 3
    assert len(clock.sleeps) == 2
    assert "after 3 attempts" in caught.value.message


def test_total_wait_is_capped_without_waiting_in_vain(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock, waits: Waits
) -> None:
    fake.add("GET", "/api/reviews", throttled("20"), throttled("50"))

    with pytest.raises(RateLimitedError) as caught:
        make_client(retry=RetryPolicy(max_total_wait=60)).get("/api/reviews")

    assert clock.sleeps == [20.0]
    assert len(waits) == 1
    assert caught.value.exit_code == ExitCode.REMOTE
    assert caught.value.code == "rate_limited"


def test_network_failure_after_retries_is_a_remote_error(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.always("GET", "/api/reviews", httpx.ConnectTimeout("slow"))
    with pytest.raises(RemoteError) as caught:
        make_client(retry=RetryPolicy(max_attempts=2)).get("/api/reviews")
    assert "timed out" in caught.value.message
    assert "after 2 attempts" in caught.value.message


def test_each_wait_is_reported_once(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock, waits: Waits
) -> None:
    fake.add("GET", "/api/reviews", throttled("2"), server_error(), ok())
    fake.add("GET", "/api/metrics", throttled("4"), ok())
    client = make_client(retry=RetryPolicy(jitter=0.0))

    client.get("/api/reviews")
    client.get("/api/metrics")

    assert [seconds for seconds, _ in waits] == clock.sleeps == [2.0, 1.0, 4.0]


def test_backoff_is_capped_and_jittered() -> None:
    import random

    policy = RetryPolicy(base_delay=1.0, multiplier=10.0, max_delay=30.0, jitter=0.5)
    rng = random.Random(1)
    delays = [policy.backoff(n, rng) for n in range(1, 6)]
    assert 0.5 <= delays[0] <= 1.5
    assert all(delay <= 30.0 for delay in delays)
    assert len({round(d, 6) for d in delays[:2]}) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 1 ", 1.0), ("0.5", 0.5), ("", None), (None, None), ("soon", None)],
)
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 4, 14, 3, 50, 0, tzinfo=UTC)
    assert parse_retry_after("Tue, 14 Apr 2026 03:50:12 GMT", now=now) == 12.0


def test_a_daily_cap_fails_fast_and_does_not_hold_later_calls(
    fake: FakeKlaviyo, make_client: ClientFactory, clock: FakeClock
) -> None:
    fake.add("POST", "/api/lists", throttled("40000"), throttled("40000"))
    client = make_client(pacing=True)

    for _ in range(2):
        with pytest.raises(RateLimitedError) as caught:
            client.post("/api/lists", {"data": {}})

    assert clock.sleeps == []
    assert "it asks to wait 40000 s" in caught.value.message
    assert caught.value.hint is not None and "daily cap" in caught.value.hint
