"""Whatever a server puts in `Retry-After` and `RateLimit-*`, joyctl reads a bounded number or
nothing, and never waits longer than a minute for it."""

from __future__ import annotations

import math

from hypothesis import example, given
from hypothesis import strategies as st

from joyctl.klaviyo.limiter import OperationLimiter, RateLimits, parse_limit_policies
from joyctl.klaviyo.retry import parse_retry_after
from tests.klaviyo.support import FakeClock

numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["inf", "-inf", "nan", "1e400", "9" * 5000, "Tue, 14 Apr 9999 03:50:12 GMT"]),
)
header_text = st.one_of(numbers, st.text(max_size=60))


@given(header_text)
def test_retry_after_is_a_finite_wait_or_none(value: str) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@given(header_text)
def test_limit_policies_stay_within_what_klaviyo_publishes(value: str) -> None:
    for limit, window in parse_limit_policies(value):
        assert 0 < limit <= 1_000_000
        assert 0 < window <= 60


@example({"ratelimit-limit": "1;w=60", "ratelimit-remaining": "0", "ratelimit-reset": "9" * 20})
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "ratelimit-limit": header_text,
            "ratelimit-remaining": st.one_of(st.just("0"), header_text),
            "ratelimit-reset": header_text,
        },
    )
)
def test_no_rate_limit_headers_hold_a_request_past_a_minute(headers: dict[str, str]) -> None:
    clock = FakeClock()
    limiter = OperationLimiter(RateLimits(10, 150), clock)
    limiter.observe(headers)
    for _ in range(3):  # one request after another, each sleeping out its wait
        wait = limiter.reserve()
        assert 0 <= wait <= 61
        clock.advance(wait)
