"""Managing Klaviyo system-webhook subscriptions: topics, list, create, enable, disable, delete.

Every call here is XS-limited (1/s, 15/m); the client paces each operation, so a burst of
commands waits instead of failing on a 429. A new subscription's signing secret is the one in
JOYCTL_WEBHOOK_SECRET when that is set (CI and containers keep it in their secret store, and
the listener reads the same variable; joyctl writes it nowhere). Otherwise a secret is
generated and only the profile's credential store keeps it, under the webhook's id: where the
profile keeps its secrets (the keyring, or the file it chose) is checked before Klaviyo is
asked for anything. Klaviyo masks endpoint URLs in its answers, so the URL joyctl subscribed
is kept in the ledger to show it back.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr

from joyctl import envvars
from joyctl.command_line import command
from joyctl.credentials import (
    CredentialStore,
    KeyringUnavailableError,
    under_ci,
    webhook_secret_from_environment,
    with_lookup_order,
)
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
MIN_SECRET_CHARACTERS = 16  # Klaviyo's minimum for a webhook's secret key
GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"  # noqa: S105 - how to make one


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
    # "stored", "env" (JOYCTL_WEBHOOK_SECRET), "missing" or "unknown" (the store is unreadable)
    secret: str
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
    client: KlaviyoClient,
    store: CredentialStore,
    connection: sqlite3.Connection,
    environ: Mapping[str, str] | None = None,
) -> list[WebhookView]:
    ours = delivery_queries.subscriptions(connection)
    env = environ or {}
    return [_view(hook, store, ours, env) for hook in webhook_api.list_webhooks(client)]


def _view(
    hook: Webhook,
    store: CredentialStore,
    ours: dict[str, delivery_queries.Subscription],
    environ: Mapping[str, str],
) -> WebhookView:
    known = ours.get(hook.id)
    return WebhookView(
        id=hook.id,
        name=hook.name,
        enabled=hook.enabled,
        topics=hook.topic_ids,
        endpoint_url=known.endpoint_url if known else hook.endpoint_url,
        secret=_secret_state(store, hook.id, environ),
        created_at=hook.created_at.isoformat() if hook.created_at else None,
    )


def _secret_state(store: CredentialStore, webhook_id: str, environ: Mapping[str, str]) -> str:
    if webhook_secret_from_environment(environ) is not None:
        return "env"
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
    environ: Mapping[str, str] | None = None,
) -> WebhookView:
    """Subscribe the endpoint with the environment's secret, or a new one kept only in the
    profile's credential store (checked usable before Klaviyo is asked anything)."""
    env = environ or {}
    url = check_endpoint(endpoint_url)
    topics = list(dict.fromkeys(topic_ids or [SUBMITTED_REVIEW_TOPIC]))
    given = _environment_secret(env)
    if given is None:
        _check_secret_has_a_home(store, env)
    _check_topics_offered(client, topics)
    secret = given or secrets.token_urlsafe(SECRET_BYTES)
    hook = webhook_api.create_webhook(
        client, name=name, endpoint_url=url, secret_key=secret, topic_ids=topics
    )
    if given is None:
        try:
            store.write_webhook_secret(hook.id, SecretStr(secret))
        except JoyctlError:
            # A webhook whose secret nobody keeps could never be verified: take it back.
            _delete_quietly(client, hook.id)
            raise
    now = datetime.now(UTC).isoformat()
    delivery_queries.record_subscription(connection, hook.id, url, topics, now)
    view = _view(hook, store, delivery_queries.subscriptions(connection), env)
    return view.model_copy(update={"topics": hook.topic_ids or topics})


def _environment_secret(environ: Mapping[str, str]) -> str | None:
    found = webhook_secret_from_environment(environ)
    if found is None:
        return None
    secret = found.get_secret_value()
    if len(secret) < MIN_SECRET_CHARACTERS or any(ch.isspace() for ch in secret):
        raise UsageError(
            f"{envvars.WEBHOOK_SECRET} must be at least {MIN_SECRET_CHARACTERS} characters"
            " without spaces, as Klaviyo requires of a webhook's secret",
            hint=f"generate one with: {GENERATE_SECRET}",
        )
    return secret


def _check_secret_has_a_home(store: CredentialStore, environ: Mapping[str, str]) -> None:
    """Fail before anything exists in Klaviyo when the new secret could not be kept."""
    try:
        store.check_writable()
    except KeyringUnavailableError as exc:
        raise KeyringUnavailableError(
            f"{exc.reason}; the new webhook's signing secret would have nowhere to go,"
            " so nothing was created",
            advice=secret_home_advice(environ, missing=exc.missing),
            missing=exc.missing,
        ) from None


def secret_home_advice(environ: Mapping[str, str], *, missing: bool) -> str:
    """Where a webhook's signing secret can live when the keyring cannot hold it: the
    environment first under CI or without any keyring, the keyring first on a desktop."""
    environment = (
        f"generate a secret ({GENERATE_SECRET}), keep it in your secret store as"
        f" {envvars.WEBHOOK_SECRET} for this command and for"
        f" `{command('webhooks', 'listen')}`, and run this again"
    )
    insecure = (
        "pass --insecure-storage to keep it in this profile's 0600 file (the profile"
        " remembers the choice)"
    )
    service = "install and unlock a Secret Service such as gnome-keyring (it needs D-Bus)"
    steps = [environment, insecure, service]
    if not missing and not under_ci(environ):
        steps = [service, insecure, environment]
    text = "; or ".join(steps)
    return with_lookup_order(text[0].upper() + text[1:] + ".")


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
    return _view(hook, store, delivery_queries.subscriptions(connection), {})


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
        if not ours and _secret_state(store, webhook_id, {}) != "stored":
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
