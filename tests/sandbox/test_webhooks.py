"""Webhooks CRUD and topics: https endpoints, loopback http, required secrets, masked URLs."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import bearer_client, error_of, inspect, key_client

REVIEW_TOPIC = "event:klaviyo.submitted_review"


def _webhook(
    url: str = "https://hooks.example.com/klaviyo/reviews", **attributes: Any
) -> dict[str, Any]:
    return {
        "data": {
            "type": "webhook",
            "attributes": {
                "name": "joyctl reviews",
                "endpoint_url": url,
                "secret_key": "a-secret-of-32-characters-or-so!",
                **attributes,
            },
            "relationships": {
                "webhook-topics": {"data": [{"type": "webhook-topic", "id": REVIEW_TOPIC}]}
            },
        }
    }


def _kdp_client(make_server: ServerFactory, **overrides: Any) -> tuple[httpx.Client, Any]:
    server = make_server(scenario="advanced-kdp", **overrides)
    return key_client(server), server


def test_webhook_crud_masks_the_endpoint(make_server: ServerFactory) -> None:
    client, server = _kdp_client(make_server)
    with client:
        created = client.post("/api/webhooks", json=_webhook())
        assert created.status_code == 201
        webhook = created.json()["data"]
        assert webhook["attributes"]["endpoint_url"] == "https://hooks.example.com/*****"
        assert webhook["attributes"]["enabled"] is True
        assert "secret_key" not in webhook["attributes"]
        webhook_id = webhook["id"]
        assert len(webhook_id) == 26
        patch = {"data": {"type": "webhook", "id": webhook_id, "attributes": {"enabled": False}}}
        assert client.patch(f"/api/webhooks/{webhook_id}", json=patch).status_code == 200
        listed = client.get("/api/webhooks", params={"include": "webhook-topics"}).json()
        fetched = client.get(f"/api/webhooks/{webhook_id}").json()["data"]
        assert client.delete(f"/api/webhooks/{webhook_id}").status_code == 204
        assert client.get(f"/api/webhooks/{webhook_id}").status_code == 404
    assert fetched["attributes"]["enabled"] is False
    assert listed["included"] == [
        {
            "type": "webhook-topic",
            "id": REVIEW_TOPIC,
            "links": {"self": f"{server.base_url}/api/webhook-topics/{REVIEW_TOPIC}/"},
        }
    ]
    assert inspect(server)["webhooks"] == []


def test_endpoint_must_be_https_except_on_loopback(make_server: ServerFactory) -> None:
    client, _ = _kdp_client(make_server)
    with client:
        plain = client.post("/api/webhooks", json=_webhook("http://hooks.example.com/x"))
        loopback = client.post("/api/webhooks", json=_webhook("http://127.0.0.1:9/hook"))
        localhost = client.post("/api/webhooks", json=_webhook("http://localhost:9/hook"))
        not_a_url = client.post("/api/webhooks", json=_webhook("hooks.example.com"))
    assert plain.status_code == 400
    assert error_of(plain)["source"]["pointer"] == "/data/attributes/endpoint_url"
    assert loopback.status_code == 201
    assert localhost.status_code == 201
    assert not_a_url.status_code == 400


def test_strict_webhook_urls_refuse_loopback_http_too(make_server: ServerFactory) -> None:
    client, _ = _kdp_client(make_server, strict_webhook_urls=True)
    with client:
        loopback = client.post("/api/webhooks", json=_webhook("http://127.0.0.1:9/hook"))
        https = client.post("/api/webhooks", json=_webhook("https://127.0.0.1:9/hook"))
    assert loopback.status_code == 400
    assert error_of(loopback)["detail"] == "endpoint_url must use https."
    assert https.status_code == 201


def test_secret_key_name_and_topics_are_required(make_server: ServerFactory) -> None:
    client, _ = _kdp_client(make_server)
    no_secret = _webhook()
    del no_secret["data"]["attributes"]["secret_key"]
    no_topics = _webhook()
    del no_topics["data"]["relationships"]
    unknown_topic = _webhook()
    unknown_topic["data"]["relationships"]["webhook-topics"]["data"][0]["id"] = "event:x.y"
    with client:
        secret = client.post("/api/webhooks", json=no_secret)
        topics = client.post("/api/webhooks", json=no_topics)
        unknown = client.post("/api/webhooks", json=unknown_topic)
    assert error_of(secret)["source"]["pointer"] == "/data/attributes/secret_key"
    assert topics.status_code == 400
    pointer = "/data/relationships/webhook-topics/data/0/id"
    assert error_of(unknown)["source"]["pointer"] == pointer


def test_patch_validates_and_replaces_topics(make_server: ServerFactory) -> None:
    client, _ = _kdp_client(make_server)
    with client:
        webhook_id = client.post("/api/webhooks", json=_webhook()).json()["data"]["id"]
        topics = {"data": [{"type": "webhook-topic", "id": "event:klaviyo.opened_email"}]}
        body = {
            "data": {
                "type": "webhook",
                "id": webhook_id,
                "attributes": {"description": None},
                "relationships": {"webhook-topics": topics},
            }
        }
        patched = client.patch(f"/api/webhooks/{webhook_id}", json=body).json()["data"]
        insecure = {
            "data": {
                "type": "webhook",
                "id": webhook_id,
                "attributes": {"endpoint_url": "http://example.com/"},
            }
        }
        rejected = client.patch(f"/api/webhooks/{webhook_id}", json=insecure)
    assert patched["relationships"]["webhook-topics"]["data"] == topics["data"]
    assert rejected.status_code == 400


def test_review_topics_only_with_klaviyo_reviews(make_server: ServerFactory) -> None:
    enabled = make_server(scenario="healthy")
    disabled = make_server(scenario="reviews-disabled")
    topic_sets = []
    for server in (enabled, disabled):
        connection = server.scenario_seed.connection
        assert connection is not None
        with bearer_client(server, connection.access_token) as client:
            topics = client.get("/api/webhook-topics").json()["data"]
            single = client.get(f"/api/webhook-topics/{REVIEW_TOPIC}")
        topic_sets.append(({t["id"] for t in topics}, single.status_code))
    assert REVIEW_TOPIC in topic_sets[0][0]
    assert topic_sets[0][1] == 200
    assert REVIEW_TOPIC not in topic_sets[1][0]
    assert topic_sets[1][1] == 404
    assert "event:klaviyo.opened_email" in topic_sets[1][0]


def test_api_metrics_become_topics(make_server: ServerFactory) -> None:
    client, _ = _kdp_client(make_server)
    event = {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {},
                "metric": {"data": {"type": "metric", "attributes": {"name": "Joy: Earn Point"}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": "a@x.com"}}},
            },
        }
    }
    with client:
        client.post("/api/events", json=event)
        topics = {t["id"] for t in client.get("/api/webhook-topics").json()["data"]}
    assert "event:api.joy_earn_point" in topics
