"""The best schedule the emulator's fixed windows allow, which benchmarks measure joyctl against."""

from __future__ import annotations

import pytest

from joyctl.sandbox.ratelimit import best_schedule_span


@pytest.mark.parametrize(
    ("requests", "burst", "steady", "start", "span"),
    [
        (1, 10, 150, 0.0, 0.0),
        (50, 10, 150, 0.0, 4.0),  # ten a second: the fiftieth starts in the fifth second
        (1000, 75, 750, 0.0, 63.0),  # the minute's 750 spent, the rest wait for the next one
        (20, 10, 150, 59.5, 0.5),  # a start late in a window gets a fresh one half a second on
    ],
)
def test_span_of_the_best_schedule(
    requests: int, burst: int, steady: int, start: float, span: float
) -> None:
    assert best_schedule_span(requests, burst, steady, start) == pytest.approx(span)
