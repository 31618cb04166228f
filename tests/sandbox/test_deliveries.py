"""Webhook deliveries: a submitted review reaches subscribed webhooks, batched and signed."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

from joyctl.klaviyo import signing
from joyctl.sandbox import SandboxServer
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.receiver import Receiver, running_receiver
from tests.sandbox.support import inspect, key_client, public_client, review_body

SECRET = "whsec-test-0123456789abcdef"
REVIEW_TOPIC = "event:klaviyo.submitted_review"


def _subscribe(server: SandboxServer, url: str, topic: str = REVIEW_TOPIC, **extra: Any) -> str:
    body = {
        "data": {
            "type": "webhook",
            "attributes": {"name": "hook", "endpoint_url": url, "secret_key": SECRET, **extra},
            "relationships": {"webhook-topics": {"data": [{"type": "webhook-topic", "id": topic}]}},
        }
    }
    with key_client(server) as client:
        response = client.post("/api/webhooks", json=body)
    assert response.status_code == 201, response.text
    webhook_id: str = response.json()["data"]["id"]
    return webhook_id


def _submit(server: SandboxServer, *emails: str) -> None:
    params = {"company_id": server.credentials.public_api_key}
    with public_client(server) as client:
        for email in emails:
            assert (
                client.post("/client/reviews", params=params, json=review_body(email)).status_code
                == 202
            )


def _wait_for(receiver: Receiver, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.deliveries) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(receiver.deliveries) >= count, f"{len(receiver.deliveries)} of {count} deliveries"


def _settled(server: SandboxServer, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliveries: dict[str, Any] = inspect(server)["deliveries"]
        if deliveries["pending"] == 0:
            return deliveries
        time.sleep(0.01)
    raise AssertionError("deliveries never settled")


def test_review_delivery_is_signed_like_klaviyo(make_server: ServerFactory) -> None:
    server = make_server(scenario="advanced-kdp")
    with running_receiver(SECRET) as receiver:
        webhook_id = _subscribe(server, receiver.url)
        _submit(server, "reviewer@example.com")
        _wait_for(receiver, 1)
    delivery = receiver.deliveries[0]
    assert delivery.signature_ok
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.headers[signing.HEADER_WEBHOOK_ID] == webhook_id
    assert parsedate_to_datetime(delivery.headers[signing.HEADER_TIMESTAMP]) is not None
    document = delivery.document
    assert document["meta"]["klaviyo_webhook_id"] == webhook_id
    assert document["meta"]["klaviyo_account_id"] == server.credentials.account_id
    assert {"timestamp", "version"} <= set(document["meta"])
    [item] = document["data"]
    assert item["topic"] == REVIEW_TOPIC
    assert item["payload"]["type"] == "event"
    assert item["payload"]["id"] == item["external_id"]
    properties = item["payload"]["attributes"]["event_properties"]
    with key_client(server) as client:
        review = client.get(f"/api/reviews/{properties['review_id']}").json()["data"]
    assert review["attributes"]["email"] == "reviewer@example.com"
    assert review["relationships"]["events"]["data"][0]["id"] == item["external_id"]


def test_reviews_submitted_together_arrive_in_one_batch(make_server: ServerFactory) -> None:
    server = make_server(scenario="advanced-kdp", delivery_batch_seconds=0.5)
    with running_receiver(SECRET) as receiver:
        _subscribe(server, receiver.url)
        _submit(server, "a@example.com", "b@example.com", "c@example.com")
        _wait_for(receiver, 1)
        settled = _settled(server)
    assert len(receiver.deliveries) == 1
    assert len(receiver.deliveries[0].document["data"]) == 3
    assert settled["events_delivered"] == 3


def test_failed_deliveries_are_retried_and_every_attempt_recorded(
    make_server: ServerFactory,
) -> None:
    server = make_server(scenario="advanced-kdp")
    with running_receiver(SECRET, statuses=[500, 503]) as receiver:
        _subscribe(server, receiver.url)
        _submit(server, "a@example.com")
        _wait_for(receiver, 3)
        settled = _settled(server)
    assert [a["status_code"] for a in settled["attempts"]] == [500, 503, 200]
    assert [a["attempt"] for a in settled["attempts"]] == [1, 2, 3]
    assert settled["delivered"] == 1
    assert len({d.body for d in receiver.deliveries}) == 1  # the same body every time
    assert all(d.signature_ok for d in receiver.deliveries)


def test_delivery_gives_up_after_the_last_attempt(make_server: ServerFactory) -> None:
    server = make_server(scenario="advanced-kdp", delivery_max_attempts=2)
    with running_receiver(SECRET, statuses=[500, 500, 500]) as receiver:
        _subscribe(server, receiver.url)
        _submit(server, "a@example.com")
        settled = _settled(server)
    assert settled["failed"] == 1
    assert len(settled["attempts"]) == 2


def test_unreachable_endpoints_are_recorded(make_server: ServerFactory) -> None:
    server = make_server(scenario="advanced-kdp", delivery_max_attempts=1)
    _subscribe(server, "http://127.0.0.1:9/unreachable")
    _submit(server, "a@example.com")
    settled = _settled(server)
    [attempt] = settled["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"]


def test_only_enabled_webhooks_on_the_topic_receive(make_server: ServerFactory) -> None:
    server = make_server(scenario="advanced-kdp")
    with running_receiver(SECRET) as receiver:
        _subscribe(server, receiver.url)
        _subscribe(server, receiver.url + "?second")
        _subscribe(server, receiver.url + "?other-topic", topic="event:klaviyo.opened_email")
        disabled = _subscribe(server, receiver.url + "?disabled")
        patch = {"data": {"type": "webhook", "id": disabled, "attributes": {"enabled": False}}}
        with key_client(server) as client:
            client.patch(f"/api/webhooks/{disabled}", json=patch)
        _submit(server, "a@example.com")
        _wait_for(receiver, 2)
        _settled(server)
        time.sleep(0.05)
    assert len(receiver.deliveries) == 2


def test_events_arriving_while_a_delivery_is_in_flight_go_in_the_next_one(
    make_server: ServerFactory,
) -> None:
    server = make_server(scenario="advanced-kdp")
    with running_receiver(SECRET, delay=0.3) as receiver:
        _subscribe(server, receiver.url)
        _submit(server, "first@example.com")
        _wait_for(receiver, 1)  # the first delivery is now waiting for its answer
        _submit(server, *(f"later{n}@example.com" for n in range(5)))
        _wait_for(receiver, 2)
        settled = _settled(server)
    sent = [item["external_id"] for d in receiver.deliveries for item in d.document["data"]]
    assert len(sent) == len(set(sent)) == 6
    assert settled["events_delivered"] == 6


def _review_properties(receiver: Receiver, index: int) -> dict[str, Any]:
    [item] = receiver.deliveries[index].document["data"]
    properties: dict[str, Any] = item["payload"]["attributes"]["event_properties"]
    return properties


def test_the_payload_shape_is_chosen_at_start_and_changed_at_run_time(
    make_server: ServerFactory,
) -> None:
    server = make_server(scenario="advanced-kdp", webhook_payload="no-review-id")
    with running_receiver(SECRET) as receiver:
        _subscribe(server, receiver.url)
        _submit(server, "a@example.com")
        _wait_for(receiver, 1)
        without = _review_properties(receiver, 0)
        assert "review_id" not in without
        assert without["content"] and without["product_id"]
        with key_client(server) as client:
            answer = client.post("/__sandbox/settings", json={"webhook_payload": "full"})
        assert answer.json()["webhook_payload"] == "full"
        _submit(server, "b@example.com")
        _wait_for(receiver, 2)
    assert _review_properties(receiver, 1)["review_id"]
    with key_client(server) as client:
        refused = client.post("/__sandbox/settings", json={"webhook_payload": "partial"})
    assert refused.status_code == 400
