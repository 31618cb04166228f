"""`joyctl webhooks listen` as its own process against a sandbox store, end to end.

The sandbox delivers a submitted review, signed with the secret `webhooks create` stored; the
listener stores, verifies, answers and awards it; a re-delivery changes nothing; a listener
killed between storing and processing is completed by `webhooks replay` with one award.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx
import keyring

from joyctl.credentials import SERVICE_NAME
from joyctl.sandbox import SandboxServer
from tests.conftest import Cli
from tests.webhooks.shop import PROFILE, Listener, Shop, cli_data
from tests.webhooks.support import free_port, post, signed_headers

CONTENT = "A wonderful blend that I brew every day, smooth and fragrant."


def _subscribe(cli: Cli, shop: Shop, port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/klaviyo/webhooks"
    created: dict[str, Any] = cli_data(cli, shop, "webhooks", "create", "--endpoint", url)
    assert created["secret"] == "stored"
    return created


def _submit(cli: Cli, shop: Shop, email: str) -> None:
    cli_data(
        cli, shop, "reviews", "submit", "--email", email, "--product", "new-1", "--content", CONTENT
    )


def _balance(cli: Cli, shop: Shop, email: str) -> int:
    return int(cli_data(cli, shop, "ledger", "balance", email)["balance"])


def _control(server: SandboxServer, path: str, body: dict[str, Any]) -> None:
    response = httpx.post(f"{server.base_url}/__sandbox/{path}", json=body)
    assert response.status_code == 200, response.text


def test_a_submitted_review_is_delivered_verified_and_rewarded_once(cli: Cli, shop: Shop) -> None:
    port = free_port()
    webhook = _subscribe(cli, shop, port)
    email = shop.emails[0]
    before = _balance(cli, shop, email)
    listener = Listener.start(shop, port)
    try:
        ready = listener.expect("listening")
        assert ready["account_id"] == shop.account_id
        _submit(cli, shop, email)
        line = listener.expect("delivery")
        assert (line["verdict"], line["status_code"], line["awarded"]) == ("verified", 200, 1)
        assert _balance(cli, shop, email) == before + 50
        # What it earned went on to Klaviyo: the Joy event and the points on the profile.
        assert line["pushed"] == 2, line
        assert _joy_events(shop.server) == 1

        # A re-delivery: the same body, signed again with a fresh timestamp, as Klaviyo retries.
        [(body,)] = shop.query("SELECT body FROM webhook_deliveries")
        secret = keyring.get_password(SERVICE_NAME, f"{PROFILE}:webhook:{webhook['id']}")
        assert secret is not None
        answer = post(ready["url"], body, signed_headers(secret, body, webhook["id"]))
        assert answer.status_code == 200
        again = listener.expect("delivery")
        assert (again["verdict"], again["duplicates"], again["awarded"]) == ("verified", 1, 0)
        assert _balance(cli, shop, email) == before + 50
        assert _joy_events(shop.server) == 1
    finally:
        status, stderr = listener.finish(signal.SIGTERM)
    assert status == 0, stderr
    assert secret not in stderr
    stats = shop.query("SELECT count(*), sum(processed_at IS NOT NULL) FROM webhook_deliveries")
    assert tuple(stats[0]) == (2, 2)


def test_a_listener_killed_before_processing_is_completed_by_replay(cli: Cli, shop: Shop) -> None:
    port = free_port()
    _subscribe(cli, shop, port)
    email = shop.emails[1]
    before = _balance(cli, shop, email)
    # Frozen sandbox time holds the delivery until the flush below.
    _control(shop.server, "clock", {"freeze": True})
    _submit(cli, shop, email)
    listener = Listener.start(shop, port)
    try:
        listener.expect("listening")
        # Every API call now fails, so the listener stores and answers the delivery but cannot
        # fetch the review to process it; it is killed while it retries.
        _control(shop.server, "settings", {"faults": "5xx=1.0"})
        _control(shop.server, "deliveries/flush", {})
        _wait_until_delivered(shop.server)
    finally:
        listener.finish(signal.SIGKILL)
    [row] = shop.query("SELECT id, verdict, processed_at FROM webhook_deliveries")
    assert (row["verdict"], row["processed_at"]) == ("verified", None)
    assert _balance(cli, shop, email) == before

    _control(shop.server, "settings", {"faults": ""})
    replayed = cli_data(cli, shop, "webhooks", "replay")
    assert (replayed["deliveries"], replayed["awarded"], replayed["points"]) == (1, 1, 50)
    assert _balance(cli, shop, email) == before + 50
    assert cli_data(cli, shop, "webhooks", "replay")["deliveries"] == 0
    rerun = cli_data(cli, shop, "webhooks", "replay", "--id", str(row["id"]))
    assert (rerun["deliveries"], rerun["awarded"]) == (1, 0)
    assert _balance(cli, shop, email) == before + 50


def _joy_events(server: SandboxServer) -> int:
    state = server.inspect()
    return int(state["events"]["by_metric"].get("Joy: Earn Point", 0))


def _wait_until_delivered(server: SandboxServer, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.inspect()["deliveries"]["delivered"] >= 1:
            return
        time.sleep(0.02)
    raise AssertionError(f"never delivered: {server.inspect()['deliveries']}")


def test_sigint_stops_an_idle_listener_cleanly(shop: Shop) -> None:
    port = free_port()
    listener = Listener.start(shop, port, json_lines=False)
    deadline = time.monotonic() + 20
    while "listening on" not in listener.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    status, stderr = listener.finish(signal.SIGINT)
    assert status == 0, stderr
    assert f"listening on http://127.0.0.1:{port}/klaviyo/webhooks" in stderr
    assert "stopped after 0 deliveries" in stderr
