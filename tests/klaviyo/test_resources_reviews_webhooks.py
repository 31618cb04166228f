"""Resource functions for accounts, reviews and webhooks: request shapes and parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from joyctl.errors import DataError, PlanGateError
from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.resources.accounts import get_account
from joyctl.klaviyo.resources.reviews import get_review, list_reviews, update_review_status
from joyctl.klaviyo.resources.webhooks import (
    create_webhook,
    delete_webhook,
    get_webhook,
    list_webhook_topics,
    list_webhooks,
    update_webhook,
)
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import (
    FakeKlaviyo,
    body_of,
    collection,
    error_body,
    jsonapi,
    resource,
)


def test_get_account(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    account = resource("account", "A1", public_api_key="Pk6", test_account=True)
    fake.add("GET", "/api/accounts", jsonapi(body=collection(account)))
    assert get_account(make_client()).public_api_key == "Pk6"


def test_get_account_needs_one_account(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("GET", "/api/accounts", jsonapi(body=collection()))
    with pytest.raises(DataError):
        get_account(make_client())


def test_list_reviews_builds_the_filter(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("GET", "/api/reviews", jsonapi(body=collection(resource("review", "R1"))))
    reviews = list(
        list_reviews(
            make_client(),
            created_from=datetime(2026, 7, 1, tzinfo=UTC),
            created_to=datetime(2026, 7, 31, 23, 59, 59, tzinfo=UTC),
            status="published",
            ids=["R1", "R2"],
        )
    )
    assert [r.id for r in reviews] == ["R1"]
    params = fake.requests[0].url.params
    assert params["filter"] == (
        "greater-or-equal(created,2026-07-01T00:00:00Z),"
        "less-or-equal(created,2026-07-31T23:59:59Z),"
        "equals(status,'published'),any(id,['R1','R2'])"
    )
    assert params["sort"] == "created"
    assert params["page[size]"] == "100"


def test_get_review_by_id(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("GET", "/api/reviews/R1", jsonapi(body={"data": resource("review", "R1")}))
    assert get_review(make_client(), "R1").id == "R1"


def test_reject_a_review(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    status = {"value": "rejected", "rejection_reason": {"reason": "fake"}}
    fake.add(
        "PATCH", "/api/reviews/R1", jsonapi(body={"data": resource("review", "R1", status=status)})
    )
    review = update_review_status(make_client(), "R1", "rejected", rejection_reason="fake")
    assert review.status_value == "rejected"
    assert body_of(fake.requests[0]) == {
        "data": {"type": "review", "id": "R1", "attributes": {"status": status}}
    }


def test_moderation_is_retried_after_a_5xx(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add(
        "PATCH",
        "/api/reviews/R1",
        jsonapi(502, error_body(502, "error", "bad gateway")),
        jsonapi(body={"data": resource("review", "R1", status={"value": "published"})}),
    )
    update_review_status(make_client(), "R1", "published")
    assert len(fake.requests) == 2


def test_create_webhook(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("POST", "/api/webhooks", jsonapi(201, {"data": resource("webhook", "W1", name="n")}))
    webhook = create_webhook(
        make_client(),
        name="joyctl reviews",
        endpoint_url="https://hooks.example.com/k",
        secret_key="0123456789abcdef",
        topic_ids=["event:klaviyo.submitted_review"],
        description="reviews",
    )
    assert webhook.id == "W1"
    assert body_of(fake.requests[0]) == {
        "data": {
            "type": "webhook",
            "attributes": {
                "name": "joyctl reviews",
                "endpoint_url": "https://hooks.example.com/k",
                "secret_key": "0123456789abcdef",
                "description": "reviews",
            },
            "relationships": {
                "webhook-topics": {
                    "data": [{"type": "webhook-topic", "id": "event:klaviyo.submitted_review"}]
                }
            },
        }
    }


def test_webhooks_with_a_private_key_hit_the_plan_gate(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    detail = "You must have Advanced KDP enabled to use this endpoint."
    fake.add("GET", "/api/webhooks", jsonapi(403, error_body(403, "permission_denied", detail)))
    with pytest.raises(PlanGateError):
        list_webhooks(make_client(auth=ApiKeyAuth("pk_0123456789abcdef")))


def test_list_get_update_delete_webhooks(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    hook = resource("webhook", "W1", name="n", enabled=True)
    fake.add("GET", "/api/webhooks", jsonapi(body=collection(hook)))
    fake.add("GET", "/api/webhooks/W1", jsonapi(body={"data": hook}))
    fake.add("PATCH", "/api/webhooks/W1", jsonapi(body={"data": hook}))
    fake.add("DELETE", "/api/webhooks/W1", jsonapi(204))
    client = make_client()

    assert [w.id for w in list_webhooks(client)] == ["W1"]
    assert get_webhook(client, "W1").enabled is True
    update_webhook(client, "W1", enabled=True, topic_ids=["t1"])
    delete_webhook(client, "W1")

    listing, single, patch, _ = fake.requests
    assert listing.url.params["include"] == "webhook-topics"
    assert "page[size]" not in listing.url.params
    assert single.url.params["include"] == "webhook-topics"
    assert body_of(patch) == {
        "data": {
            "type": "webhook",
            "id": "W1",
            "attributes": {"enabled": True},
            "relationships": {"webhook-topics": {"data": [{"type": "webhook-topic", "id": "t1"}]}},
        }
    }


def test_list_topics(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    topics = collection(resource("webhook-topic", "event:klaviyo.submitted_review"))
    fake.add("GET", "/api/webhook-topics", jsonapi(body=topics))
    assert [t.id for t in list_webhook_topics(make_client())] == ["event:klaviyo.submitted_review"]


def test_ids_are_escaped_in_paths(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("GET", "/api/reviews/a/b", jsonapi(body={"data": resource("review", "a/b")}))
    assert get_review(make_client(), "a/b").id == "a/b"
    assert fake.requests[0].url.raw_path == b"/api/reviews/a%2Fb"
