"""`webhooks listen` as a service: start-up checks, health answers, and riding out an outage.

The pieces are tested on their own (which webhook points here, what readiness says, how the
upkeep backs off), then together: a receiver whose Klaviyo fails stores and answers a delivery,
and once Klaviyo is back the upkeep hands it to the worker, which awards it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from joyctl.engine import ConnectionFacts
from joyctl.errors import PlanGateError, RemoteError
from joyctl.klaviyo.auth import OAuthAuth
from joyctl.klaviyo.client import KlaviyoClient, build_client
from joyctl.klaviyo.models import Webhook
from joyctl.klaviyo.tokens import TokenBundle
from joyctl.ledger.deliveries import Subscription
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.services.webhooks.health import ListenerHealth
from joyctl.services.webhooks.intake import DeliveryIntake, DeliveryLine
from joyctl.services.webhooks.notices import ListenerNotice
from joyctl.services.webhooks.process import DeliveryProcessor, klaviyo_review_fetcher
from joyctl.services.webhooks.receiver import ListenOptions, WebhookReceiver
from joyctl.services.webhooks.service import ListenerService, RetrySchedule
from joyctl.services.webhooks.startup import Endpoint, aim, check_at_start
from joyctl.services.webhooks.upkeep import Upkeep, UpkeepOptions, UpkeepTasks
from tests.sandbox.support import key_client, public_client, review_body
from tests.webhooks.conftest import FAST_SANDBOX
from tests.webhooks.support import balance, seed_ledger

REVIEW_TOPIC = "event:klaviyo.submitted_review"
HERE = Endpoint("http://127.0.0.1:8780/klaviyo/webhooks")
BEHIND_PROXY = Endpoint(HERE.listen_url, "https://hooks.example.com/klaviyo/webhooks")
SECRET = "service-test-secret-0123456789"


def _hook(hook_id: str, url: str | None, *, enabled: bool = True) -> Webhook:
    return Webhook.model_validate(
        {
            "id": hook_id,
            "endpoint_url": url,
            "enabled": enabled,
            "relationships": {"webhook-topics": {"data": [{"id": REVIEW_TOPIC}]}},
        }
    )


def _ours(hook_id: str, url: str) -> dict[str, Subscription]:
    return {hook_id: Subscription(hook_id, url, (REVIEW_TOPIC,), "2026-01-01", None)}


@pytest.mark.parametrize(
    ("url", "endpoint", "expected"),
    [
        ("http://127.0.0.1:8780/klaviyo/webhooks", HERE, "here"),
        ("https://hooks.example.com/klaviyo/webhooks", HERE, "here"),  # a proxy, same path
        ("https://hooks.example.com/other/path", HERE, "elsewhere"),
        ("https://hooks.example.com/*****", HERE, "maybe"),  # masked, public URL unknown
        ("https://hooks.example.com/*****", BEHIND_PROXY, "maybe"),
        ("https://elsewhere.example.com/*****", BEHIND_PROXY, "elsewhere"),
        ("https://hooks.example.com/klaviyo/webhooks/", BEHIND_PROXY, "here"),
        (None, HERE, "maybe"),
    ],
)
def test_which_webhooks_point_at_the_listener(
    url: str | None, endpoint: Endpoint, expected: str
) -> None:
    assert aim(url, endpoint) == expected


@given(
    host=st.from_regex(r"[a-z]{1,10}\.example\.com", fullmatch=True),
    path=st.from_regex(r"(/[a-z0-9]{1,8}){1,3}", fullmatch=True),
)
def test_the_listeners_own_url_always_points_here(host: str, path: str) -> None:
    listen = f"http://{host}:8780{path}"
    assert aim(listen, Endpoint(listen)) == "here"
    assert aim(f"https://{host}/*****", Endpoint(listen, f"https://{host}{path}")) == "maybe"


def _codes(notices: list[ListenerNotice]) -> list[str]:
    return [notice.code for notice in notices]


def test_no_review_webhook_is_said_at_start() -> None:
    report = check_at_start(lambda: [], {}, HERE, secret_known=lambda _: True, env_secret=False)
    assert _codes(report.notices) == ["no_review_webhook"]
    assert "joyctl webhooks create --endpoint" in (report.notices[0].hint or "")


def test_webhooks_that_send_elsewhere_are_named() -> None:
    hooks = [_hook("h1", None)]
    ours = _ours("h1", "https://other.example.com/elsewhere")
    report = check_at_start(
        lambda: hooks, ours, HERE, secret_known=lambda _: True, env_secret=False
    )
    assert _codes(report.notices) == ["not_pointed_here"]
    assert "h1 -> https://other.example.com/elsewhere" in report.notices[0].message


def test_an_unknown_secret_is_said_unless_the_environment_has_one() -> None:
    hooks = [_hook("h1", None), _hook("h2", None, enabled=False)]
    ours = _ours("h1", HERE.listen_url)

    def unknown(_webhook_id: str) -> bool:
        return False

    report = check_at_start(lambda: hooks, ours, HERE, secret_known=unknown, env_secret=False)
    assert _codes(report.notices) == ["secret_unknown"]
    assert report.webhook_ids == ["h1"]
    assert "JOYCTL_WEBHOOK_SECRET" in (report.notices[0].hint or "")
    quiet = check_at_start(lambda: hooks, ours, HERE, secret_known=unknown, env_secret=True)
    assert quiet.notices == [] and quiet.klaviyo_answered


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (RemoteError("the connection failed"), "klaviyo_unreachable"),
        (PlanGateError("Advanced KDP"), "webhooks_unchecked"),
    ],
)
def test_when_klaviyo_cannot_be_asked_the_stored_webhooks_are_judged(
    error: Exception, code: str
) -> None:
    def failing() -> list[Webhook]:
        raise error

    ours = _ours("h1", HERE.listen_url)
    report = check_at_start(failing, ours, HERE, secret_known=lambda _: False, env_secret=False)
    assert _codes(report.notices) == [code, "secret_unknown"]
    assert report.webhook_ids == ["h1"] and not report.klaviyo_answered


def test_readiness_reports_each_check_and_klaviyo_going_stale() -> None:
    now = [100.0]
    health = ListenerHealth(
        ledger=lambda: (True, None),
        signing_secret=lambda: (False, "the signing secret of webhook h1 is not known"),
        stale_after=30.0,
        clock=lambda: now[0],
    )
    assert health.answer("GET", "/healthz") == (200, {"status": "alive"})
    assert health.answer("POST", "/healthz") is None
    assert health.answer("GET", "/klaviyo/webhooks") is None
    code, document = health.readiness()
    assert code == 503
    assert document["checks"]["klaviyo"] == {"ok": False, "problem": "not asked yet"}
    health.klaviyo_answered()
    assert health.readiness()[1]["checks"]["klaviyo"] == {"ok": True}
    now[0] += 31
    assert health.readiness()[1]["checks"]["klaviyo"]["ok"] is False
    assert health.readiness()[1]["checks"]["signing_secret"]["ok"] is False


def test_the_upkeep_backs_off_while_klaviyo_fails_and_says_so_once() -> None:
    failures = [RemoteError("Klaviyo answered 503")] * 3
    said: list[ListenerNotice] = []

    def probe() -> None:
        if failures:
            raise failures.pop()

    health = ListenerHealth(
        ledger=lambda: (True, None), signing_secret=lambda: (True, None), stale_after=60
    )
    upkeep = Upkeep(
        UpkeepTasks(probe, lambda: 2, None),
        health,
        said.append,
        UpkeepOptions(interval=60, first_retry=5, longest_wait=12),
    )
    waits = []
    for _ in range(4):
        upkeep.run_once()
        waits.append(upkeep.next_wait())
    assert waits == [5, 10, 12, 60]
    assert _codes(said) == ["klaviyo_unreachable", "klaviyo_back"]
    assert "2 deliveries handed back" in said[1].message
    assert health.klaviyo() == (True, None)


def test_a_stuck_delivery_is_retried_ever_less_often() -> None:
    now = [0.0]
    schedule = RetrySchedule(10, 40, clock=lambda: now[0])
    tried = []
    for second in range(0, 200, 5):
        now[0] = float(second)
        if schedule.due(7):
            tried.append(second)
    assert tried == [0, 10, 30, 70, 110, 150, 190]


# --- together, against the emulator -------------------------------------------------------


class Lines:
    def __init__(self) -> None:
        self.items: list[BaseModel] = []
        self.lock = threading.Lock()

    def __call__(self, line: BaseModel) -> None:
        with self.lock:
            self.items.append(line)

    def wait_for(self, found: Any, timeout: float = 15.0) -> BaseModel:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                matching = [line for line in self.items if found(line)]
            if matching:
                return matching[0]
            time.sleep(0.02)
        raise AssertionError(f"not found among {self.items}")


@pytest.fixture
def emulator() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(scenario="healthy", **FAST_SANDBOX)) as server:
        yield server


def _client(server: SandboxServer) -> KlaviyoClient:
    seed = server.scenario_seed
    assert seed.connection is not None
    auth = OAuthAuth(TokenBundle(access_token=seed.connection.access_token))
    no_waiting = lambda _seconds: None  # noqa: E731 - retries happen, at once
    return build_client(base_url=server.base_url, auth=auth, pacing=False, sleep=no_waiting)


def _control(server: SandboxServer, path: str, body: dict[str, Any]) -> None:
    answer = httpx.post(f"{server.base_url}/__sandbox/{path}", json=body)
    assert answer.status_code == 200, answer.text


def test_an_outage_leaves_the_delivery_stored_and_the_upkeep_finishes_it(
    emulator: SandboxServer, ledger: sqlite3.Connection
) -> None:
    seed = emulator.scenario_seed
    email = seed.customers[0].email
    seed_ledger(ledger, [email])
    client = _client(emulator)
    lock = threading.RLock()
    lines = Lines()
    secrets: dict[str, str] = {}
    intake = DeliveryIntake(ledger, lock, secrets.get, seed.account_id, 300.0)
    facts = ConnectionFacts(datetime.now(UTC) - timedelta(days=1))
    processor = DeliveryProcessor(ledger, facts, klaviyo_review_fetcher(lambda: client), lock=lock)
    receiver = WebhookReceiver(ListenOptions(port=0), intake, processor, lines)
    url = receiver.start()
    service = ListenerService(
        receiver,
        ledger,
        lock,
        lambda: client,
        secrets.get,
        env_secret=False,
        public_url=None,
        options=UpkeepOptions(interval=0.3, first_retry=0.1, longest_wait=0.3),
    )
    try:
        secrets[_subscribe(emulator, url)] = SECRET
        service.start(url)
        _wait_until(lambda: service.health.readiness()[0] == 200)
        _control(emulator, "clock", {"freeze": True})  # holds the delivery until flushed
        _submit(emulator, email)
        _control(emulator, "settings", {"faults": "5xx=1.0"})  # Klaviyo goes down
        _control(emulator, "deliveries/flush", {})

        stored = lines.wait_for(lambda line: isinstance(line, DeliveryLine))
        assert isinstance(stored, DeliveryLine) and stored.status_code == 200
        assert stored.error is not None and stored.awarded == 0
        lines.wait_for(lambda line: getattr(line, "code", None) == "klaviyo_unreachable")
        assert service.health.readiness()[0] == 503
        assert balance(ledger, email) == 0

        _control(emulator, "settings", {"faults": ""})  # and comes back
        awarded = lines.wait_for(lambda line: getattr(line, "awarded", 0) == 1)
        assert isinstance(awarded, DeliveryLine) and awarded.delivery_id == stored.delivery_id
        lines.wait_for(lambda line: getattr(line, "code", None) == "klaviyo_back")
        _wait_until(lambda: service.health.readiness()[0] == 200)
        assert balance(ledger, email) == 50
    finally:
        service.stop()
        receiver.stop()
        client.close()


def _wait_until(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never came true"
        time.sleep(0.02)


def _subscribe(server: SandboxServer, url: str) -> str:
    body = {
        "data": {
            "type": "webhook",
            "attributes": {"name": "listener", "endpoint_url": url, "secret_key": SECRET},
            "relationships": {
                "webhook-topics": {"data": [{"type": "webhook-topic", "id": REVIEW_TOPIC}]}
            },
        }
    }
    _control(server, "settings", {"advanced_kdp": True})
    with key_client(server) as client:
        response = client.post("/api/webhooks", json=body)
    assert response.status_code == 201, response.text
    webhook_id: str = response.json()["data"]["id"]
    return webhook_id


def _submit(server: SandboxServer, email: str) -> None:
    params = {"company_id": server.credentials.public_api_key}
    with public_client(server) as client:
        answer = client.post("/client/reviews", params=params, json=review_body(email))
    assert answer.status_code == 202, answer.text


def test_an_unforeseen_failure_is_said_and_the_upkeep_goes_on() -> None:
    calls: list[int] = []
    said: list[ListenerNotice] = []

    def probe() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("a bug")

    health = ListenerHealth(
        ledger=lambda: (True, None), signing_secret=lambda: (True, None), stale_after=60
    )
    upkeep = Upkeep(
        UpkeepTasks(probe, lambda: 0, None), health, said.append, UpkeepOptions(interval=0.05)
    )
    upkeep.start()
    try:
        _wait_until(lambda: health.klaviyo() == (True, None))
    finally:
        upkeep.stop()
    assert _codes(said)[0] == "upkeep_failed"
    assert "ValueError" in said[0].message and "a bug" not in said[0].message
