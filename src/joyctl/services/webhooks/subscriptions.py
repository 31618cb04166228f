"""Managing Klaviyo system-webhook subscriptions: topics, list, create, enable, disable, delete.

Every call here is XS-limited (1/s, 15/m); the client paces each operation, so a burst of
commands waits instead of failing on a 429. A new subscription gets a generated secret that
only the profile's credential store keeps, under the webhook's id; Klaviyo masks endpoint URLs
in its answers, so the URL joyctl subscribed is kept in the ledger to show it back.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from joyctl.command_line import command
from joyctl.credentials import CredentialStore
from joyctl.errors import CredentialStoreError, JoyctlError, NotFoundError, UsageError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Webhook
from joyctl.klaviyo.resources import webhooks as webhook_api
from joyctl.ledger import deliveries as delivery_queries
from joyctl.loopback import is_loopback_host
from joyctl.services.webhooks.process import SUBMITTED_REVIEW_TOPIC

REVIEW_TOPICS = (
    "event:klaviyo.ready_to_review",
    SUBMITTED_REVIEW_TOPIC,
    "event:klaviyo.submitted_rating",
)
DEFAULT_NAME = "joyctl reviews"
SECRET_BYTES = 32  # 43 URL-safe characters, well above the 16 Klaviyo asks for


def no_review_topics_hint() -> str:
    return (
        "review topics appear once the account uses Klaviyo Reviews: turn it on in Klaviyo, "
        f"then run `{command('webhooks', 'topics')}` again"
    )


class TopicView(BaseModel):
    id: str
    review: bool


class TopicsReport(BaseModel):
    topics: list[TopicView]
    review_topics: list[str]


class WebhookView(BaseModel):
    id: str
    name: str | None
    enabled: bool | None
    topics: list[str]
    endpoint_url: str | None
    secret: str  # "stored", "missing" or "unknown" (the store could not be read)
    created_at: str | None


class DeletedWebhook(BaseModel):
    id: str
    deleted_in_klaviyo: bool
    secret_removed: bool


def list_topics(client: KlaviyoClient) -> TopicsReport:
    topics = [
        TopicView(id=topic.id, review=topic.id in REVIEW_TOPICS)
        for topic in webhook_api.list_webhook_topics(client)
    ]
    return TopicsReport(topics=topics, review_topics=[t.id for t in topics if t.review])


def list_subscriptions(
    client: KlaviyoClient, store: CredentialStore, connection: sqlite3.Connection
) -> list[WebhookView]:
    ours = delivery_queries.subscriptions(connection)
    return [_view(hook, store, ours) for hook in webhook_api.list_webhooks(client)]


def _view(
    hook: Webhook, store: CredentialStore, ours: dict[str, delivery_queries.Subscription]
) -> WebhookView:
    known = ours.get(hook.id)
    return WebhookView(
        id=hook.id,
        name=hook.name,
        enabled=hook.enabled,
        topics=hook.topic_ids,
        endpoint_url=known.endpoint_url if known else hook.endpoint_url,
        secret=_secret_state(store, hook.id),
        created_at=hook.created_at.isoformat() if hook.created_at else None,
    )


def _secret_state(store: CredentialStore, webhook_id: str) -> str:
    try:
        return "stored" if store.read_webhook_secret(webhook_id) is not None else "missing"
    except JoyctlError:
        return "unknown"


def check_endpoint(url: str) -> str:
    """https, or plain http only to a loopback address (a local `joyctl webhooks listen`)."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(
            f"not an http(s) URL: {url!r}", hint="e.g. https://hooks.example.com/klaviyo/webhooks"
        )
    if parts.username or parts.password:
        raise UsageError("the endpoint URL must not carry a user name or password")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise UsageError(
            f"refusing plain http to {host}: Klaviyo sends deliveries only over https",
            hint="use an https URL"
            f" (e.g. a TLS proxy in front of `{command('webhooks', 'listen')}`)",
        )
    return url.strip()


def create_subscription(
    client: KlaviyoClient,
    store: CredentialStore,
    connection: sqlite3.Connection,
    *,
    endpoint_url: str,
    topic_ids: Sequence[str],
    name: str = DEFAULT_NAME,
) -> WebhookView:
    """Subscribe the endpoint with a new secret, kept only in the credential store."""
    url = check_endpoint(endpoint_url)
    topics = list(dict.fromkeys(topic_ids or [SUBMITTED_REVIEW_TOPIC]))
    _check_topics_offered(client, topics)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    hook = webhook_api.create_webhook(
        client, name=name, endpoint_url=url, secret_key=secret, topic_ids=topics
    )
    try:
        store.write_webhook_secret(hook.id, SecretStr(secret))
    except JoyctlError:
        # A webhook whose secret nobody keeps could never be verified: take it back.
        _delete_quietly(client, hook.id)
        raise
    now = datetime.now(UTC).isoformat()
    delivery_queries.record_subscription(connection, hook.id, url, topics, now)
    view = _view(hook, store, delivery_queries.subscriptions(connection))
    return view.model_copy(update={"topics": hook.topic_ids or topics})


def _check_topics_offered(client: KlaviyoClient, topics: Sequence[str]) -> None:
    offered = {topic.id for topic in webhook_api.list_webhook_topics(client)}
    unknown = [topic for topic in topics if topic not in offered]
    if not unknown:
        return
    review = any(topic in REVIEW_TOPICS for topic in unknown)
    raise UsageError(
        f"this account offers no webhook topic {unknown[0]!r}",
        hint=no_review_topics_hint()
        if review
        else f"see `{command('webhooks', 'topics')}` for the ids",
    )


def _delete_quietly(client: KlaviyoClient, webhook_id: str) -> None:
    with contextlib.suppress(JoyctlError):  # the original failure is the one worth reporting
        webhook_api.delete_webhook(client, webhook_id)


def set_enabled(
    client: KlaviyoClient,
    store: CredentialStore,
    connection: sqlite3.Connection,
    webhook_id: str,
    *,
    enabled: bool,
) -> WebhookView:
    hook = webhook_api.update_webhook(client, webhook_id, enabled=enabled)
    return _view(hook, store, delivery_queries.subscriptions(connection))


def delete_subscription(
    client: KlaviyoClient, store: CredentialStore, connection: sqlite3.Connection, webhook_id: str
) -> DeletedWebhook:
    """Delete in Klaviyo, then forget the secret; a webhook already gone still loses its
    local secret, so a half-finished earlier delete can be completed."""
    ours = webhook_id in delivery_queries.subscriptions(connection)
    try:
        webhook_api.delete_webhook(client, webhook_id)
        deleted = True
    except NotFoundError:
        if not ours and _secret_state(store, webhook_id) != "stored":
            raise
        deleted = False
    removed = _remove_secret(store, webhook_id)
    delivery_queries.mark_subscription_deleted(
        connection, webhook_id, datetime.now(UTC).isoformat()
    )
    return DeletedWebhook(id=webhook_id, deleted_in_klaviyo=deleted, secret_removed=removed)


def _remove_secret(store: CredentialStore, webhook_id: str) -> bool:
    try:
        outcome = store.delete_webhook_secret(webhook_id)
    except CredentialStoreError:
        return False
    return bool(outcome.removed_from)
