"""Sixty reviews submitted in a burst reach a running `joyctl webhooks listen`: every one is
delivered once and awarded once, however the emulator cuts them into batches."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import httpx

from joyctl.sandbox import SandboxServer
from tests.conftest import Cli
from tests.webhooks.shop import Listener, Shop, cli_data
from tests.webhooks.support import free_port

REVIEWS_PER_CUSTOMER = 2
POINTS = 50


def _review(email: str, number: int) -> dict[str, Any]:
    product = {
        "external_id": f"burst-{number % REVIEWS_PER_CUSTOMER}",
        "integration_key": "shopify",
    }
    attributes = {
        "review_type": "review",
        "email": email,
        "author": "Burst Tester",
        "content": f"Review number {number}: a fragrant tea I brew every single morning.",
        "rating": 5,
        "product": product,
    }
    return {"data": {"type": "review", "attributes": attributes}}


def _submit_quickly(server: SandboxServer, emails: list[str]) -> int:
    params = {"company_id": server.credentials.public_api_key}
    headers = {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json"}
    submitted = 0
    with httpx.Client(base_url=server.base_url, headers=headers, trust_env=False) as client:
        for number in range(len(emails) * REVIEWS_PER_CUSTOMER):
            email = emails[number // REVIEWS_PER_CUSTOMER]
            answer = client.post("/client/reviews", params=params, json=_review(email, number))
            assert answer.status_code == 202, answer.text
            submitted += 1
    return submitted


def _settled(server: SandboxServer, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliveries: dict[str, Any] = server.inspect()["deliveries"]
        if deliveries["pending"] == 0 and deliveries["delivered"] > 0:
            return deliveries
        time.sleep(0.05)
    raise AssertionError(f"deliveries never settled: {server.inspect()['deliveries']}")


def test_sixty_reviews_in_a_burst_are_all_delivered_and_awarded(cli: Cli, shop: Shop) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/klaviyo/webhooks"
    cli_data(cli, shop, "webhooks", "create", "--endpoint", url)
    listener = Listener.start(shop, port)
    try:
        listener.expect("listening")
        submitted = _submit_quickly(shop.server, shop.emails)
        assert submitted == 60
        awarded = received = 0
        while awarded < submitted:
            line = listener.expect("delivery")
            assert (line["verdict"], line["status_code"]) == ("verified", 200), line
            received += line["events"]
            awarded += line["awarded"]
        deliveries = _settled(shop.server)
    finally:
        status, stderr = listener.finish(signal.SIGTERM)
    assert status == 0, stderr
    assert (received, awarded) == (60, 60)
    assert deliveries["events_delivered"] == 60
    delivered_ids = [
        item["external_id"]
        for body in shop.query("SELECT body FROM webhook_deliveries")
        for item in json.loads(body[0])["data"]
    ]
    assert len(delivered_ids) == len(set(delivered_ids)) == 60
    points = shop.query("SELECT count(*), sum(delta) FROM point_entries WHERE kind = 'earn'")
    assert tuple(points[0]) == (60, 60 * POINTS)
