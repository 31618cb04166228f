"""System webhooks and their topics (all XS-limited: 1/s, 15/m).

Webhook management needs Advanced KDP or an OAuth connection; a private key gets a plan-gate
403 that `joyctl.klaviyo.errors` reports as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Webhook, WebhookTopic
from joyctl.klaviyo.resources._shared import (
    linkage,
    parse_many,
    parse_one,
    path_id,
    resource_body,
)

_TOPICS = "webhook-topics"
_INCLUDE_TOPICS = {"include": _TOPICS}


def list_webhooks(client: KlaviyoClient) -> list[Webhook]:
    return list(parse_many(Webhook, client.paginate("/api/webhooks", _INCLUDE_TOPICS)))


def get_webhook(client: KlaviyoClient, webhook_id: str) -> Webhook:
    return parse_one(Webhook, client.get(f"/api/webhooks/{path_id(webhook_id)}", _INCLUDE_TOPICS))


def create_webhook(
    client: KlaviyoClient,
    *,
    name: str,
    endpoint_url: str,
    secret_key: str,
    topic_ids: Sequence[str],
    description: str | None = None,
) -> Webhook:
    """Subscribe `endpoint_url` (https) to topics; deliveries are signed with `secret_key`."""
    attributes: dict[str, Any] = {
        "name": name,
        "endpoint_url": endpoint_url,
        "secret_key": secret_key,
    }
    if description is not None:
        attributes["description"] = description
    body = resource_body(
        "webhook", attributes, relationships={_TOPICS: linkage("webhook-topic", topic_ids)}
    )
    return parse_one(Webhook, client.post("/api/webhooks", body))


def update_webhook(
    client: KlaviyoClient,
    webhook_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    endpoint_url: str | None = None,
    secret_key: str | None = None,
    enabled: bool | None = None,
    topic_ids: Sequence[str] | None = None,
) -> Webhook:
    """Change only the given fields; `topic_ids` replaces the whole topic list."""
    changes = {
        "name": name,
        "description": description,
        "endpoint_url": endpoint_url,
        "secret_key": secret_key,
        "enabled": enabled,
    }
    attributes = {key: value for key, value in changes.items() if value is not None}
    relationships = (
        {_TOPICS: linkage("webhook-topic", topic_ids)} if topic_ids is not None else None
    )
    body = resource_body("webhook", attributes, resource_id=webhook_id, relationships=relationships)
    # Every field is set to an absolute value, so repeating the request changes nothing.
    document = client.patch(f"/api/webhooks/{path_id(webhook_id)}", body, idempotent=True)
    return parse_one(Webhook, document)


def delete_webhook(client: KlaviyoClient, webhook_id: str) -> None:
    client.delete(f"/api/webhooks/{path_id(webhook_id)}")


def list_webhook_topics(client: KlaviyoClient) -> list[WebhookTopic]:
    return list(parse_many(WebhookTopic, client.paginate("/api/webhook-topics")))
