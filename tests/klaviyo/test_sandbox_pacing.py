"""A backfill against the emulator's fixed windows, on simulated time shared with the server.

The sandbox clock is frozen and moved forward only when the client sleeps, so a run that
would take minutes of real time checks Klaviyo's real limits in about a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from joyctl.klaviyo.resources.events import EventInput, ProfileEvents, bulk_create_events
from tests.klaviyo.conftest import SandboxFactory
from tests.klaviyo.sandbox_support import client_for, control, inspect, key_auth

if TYPE_CHECKING:
    from joyctl.sandbox import SandboxServer


class SharedTime:
    """The client's clock; sleeping advances the sandbox's frozen clock by the same amount."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.now = 0.0
        self.starts: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        control(self.server, "clock", {"advance_seconds": seconds})
        self.now += seconds


def test_a_bulk_backfill_runs_near_the_ceiling_without_a_429(
    make_sandbox: SandboxFactory,
) -> None:
    server = make_sandbox(scenario="empty", rate_limits="real")
    control(server, "clock", {"freeze": True})
    shared = SharedTime(server)
    jobs = 300  # bulk_create_events: 10/s, 150/min; two full steady windows
    with client_for(server, key_auth(server), clock=shared, sleep=shared.sleep) as client:
        for job in range(jobs):
            event = EventInput("Loyalty Points Earned", unique_id=f"joy-{job}")
            bulk_create_events(client, [ProfileEvents({"email": "a@example.com"}, [event])])
            shared.starts.append(shared.now)

    state = inspect(server)
    assert state["throttled"]["total"] == 0
    assert state["events"]["total"] == jobs
    ideal = (jobs // 150 - 1) * 60.0 + (150 - 1) / 10
    assert shared.starts[-1] - shared.starts[0] <= ideal * 1.05
