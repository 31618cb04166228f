"""Webhook endpoints allow 1 request per second and 15 per minute: the client waits its turn.

The sandbox enforces Klaviyo's real limits on a frozen clock that moves only when the client
sleeps, so twenty reads of one endpoint (past its minute's allowance) take no real minute.
"""

from __future__ import annotations

from joyctl.klaviyo.auth import OAuthAuth
from joyctl.klaviyo.client import build_client
from joyctl.klaviyo.resources import webhooks as webhook_api
from joyctl.klaviyo.tokens import TokenBundle
from joyctl.sandbox import SandboxConfig, SandboxServer
from tests.klaviyo.sandbox_support import QUICK_RETRIES, control


class SharedTime:
    """The client's clock; sleeping moves the sandbox's frozen clock by the same amount."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        control(self.server, "clock", {"advance_seconds": seconds})
        self.now += seconds


def test_webhook_calls_past_the_minute_limit_wait_instead_of_failing() -> None:
    config = SandboxConfig(scenario="healthy", rate_limits="real", delivery_batch_seconds=0.02)
    with SandboxServer(config) as server:
        control(server, "clock", {"freeze": True})
        time = SharedTime(server)
        seed = server.scenario_seed
        assert seed.connection is not None
        auth = OAuthAuth(TokenBundle(access_token=seed.connection.access_token))
        with build_client(
            base_url=server.base_url, auth=auth, retry=QUICK_RETRIES, clock=time, sleep=time.sleep
        ) as client:
            hook = webhook_api.create_webhook(
                client,
                name="paced",
                endpoint_url="https://hooks.example.com/k",
                secret_key="paced-secret-0123456789",
                topic_ids=["event:klaviyo.submitted_review"],
            )
            # Klaviyo counts each endpoint on its own: twenty reads of one exceed its 15/min.
            for _ in range(20):
                assert [w.id for w in webhook_api.list_webhooks(client)] == [hook.id]
        state = server.inspect()
    assert state["throttled"]["total"] == 0
    assert time.now >= 60.0  # twenty calls do not fit in one minute's fifteen
