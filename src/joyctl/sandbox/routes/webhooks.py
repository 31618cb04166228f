"""Webhooks CRUD (https endpoints; loopback http allowed unless strict; URLs masked), topics."""

from __future__ import annotations

from urllib.parse import urlsplit

from joyctl.loopback import is_loopback_host
from joyctl.sandbox.clock import iso
from joyctl.sandbox.context import Handler, RequestContext, World
from joyctl.sandbox.ids import ulid
from joyctl.sandbox.jsonapi import Response, empty_response, invalid, json_response, not_found
from joyctl.sandbox.routes.listing import check_includes, page_of
from joyctl.sandbox.routes.validation import (
    attributes_of,
    identifier_list,
    optional_str,
    require_str,
    resource_data,
    same_id,
)
from joyctl.sandbox.store.records import JsonObject, WebhookRecord
from joyctl.sandbox.store.resources import topic_resource, webhook_resource
from joyctl.sandbox.store.state import SandboxState
from joyctl.sandbox.store.topics import available_topics

TOPICS_POINTER = "/data/relationships/webhook-topics/data"


def _check_endpoint_url(url: str, *, strict: bool) -> None:
    """https only, as Klaviyo requires; plain http to a loopback address too unless `strict`."""
    parts = urlsplit(url)
    pointer = "/data/attributes/endpoint_url"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(f"'{url}' is not a valid URL.", pointer=pointer)
    if parts.scheme == "http" and (strict or not is_loopback_host(parts.hostname)):
        raise invalid("endpoint_url must use https.", pointer=pointer)


def _topics(state: SandboxState, data: JsonObject, *, required: bool) -> list[str] | None:
    relationship = (data.get("relationships") or {}).get("webhook-topics")
    if relationship is None and not required:
        return None
    topics = identifier_list((relationship or {}).get("data"), "webhook-topic", TOPICS_POINTER)
    if not topics:
        raise invalid("At least one webhook topic is required.", pointer=TOPICS_POINTER)
    known = set(available_topics(state))
    for index, topic in enumerate(topics):
        if topic not in known:
            raise invalid(
                f"Unknown webhook topic '{topic}'.", pointer=f"{TOPICS_POINTER}/{index}/id"
            )
    return topics


def _single(ctx: RequestContext, webhook: WebhookRecord, status: int) -> Response:
    return json_response(
        status, {"data": webhook_resource(webhook, ctx.base_url), "links": {"self": ctx.url}}
    )


def _webhook(ctx: RequestContext, world: World) -> WebhookRecord:
    webhook = world.state.webhooks.get(ctx.path_params["id"])
    if webhook is None:
        raise not_found("Webhook", ctx.path_params["id"])
    return webhook


def create_webhook(ctx: RequestContext, world: World) -> Response:
    data = resource_data(ctx, "webhook")
    attributes = attributes_of(data)
    pointer = "/data/attributes"
    name = require_str(attributes, "name", pointer)
    url = require_str(attributes, "endpoint_url", pointer)
    _check_endpoint_url(url, strict=world.config.strict_webhook_urls)
    secret = require_str(attributes, "secret_key", pointer)
    topics = _topics(world.state, data, required=True) or []
    now = world.now()
    webhook = WebhookRecord(
        id=ulid(now),
        name=name,
        description=optional_str(attributes, "description", pointer),
        endpoint_url=url,
        secret_key=secret,
        enabled=True,
        topics=topics,
        created_at=iso(now),
        updated_at=iso(now),
    )
    world.state.webhooks[webhook["id"]] = webhook
    return _single(ctx, webhook, 201)


def _apply_attributes(webhook: WebhookRecord, attributes: JsonObject, *, strict: bool) -> None:
    pointer = "/data/attributes"
    if attributes.get("name") is not None:
        webhook["name"] = require_str(attributes, "name", pointer)
    if attributes.get("endpoint_url") is not None:
        webhook["endpoint_url"] = require_str(attributes, "endpoint_url", pointer)
        _check_endpoint_url(webhook["endpoint_url"], strict=strict)
    if attributes.get("secret_key") is not None:
        webhook["secret_key"] = require_str(attributes, "secret_key", pointer)
    if attributes.get("description") is not None:  # Klaviyo ignores "description": null
        webhook["description"] = optional_str(attributes, "description", pointer)
    enabled = attributes.get("enabled")
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise invalid("'enabled' must be a boolean.", pointer=f"{pointer}/enabled")
        webhook["enabled"] = enabled


def update_webhook(ctx: RequestContext, world: World) -> Response:
    data = resource_data(ctx, "webhook")
    same_id(data, ctx.path_params["id"])
    webhook = _webhook(ctx, world)
    _apply_attributes(webhook, attributes_of(data), strict=world.config.strict_webhook_urls)
    topics = _topics(world.state, data, required=False)
    if topics is not None:
        webhook["topics"] = topics
    webhook["updated_at"] = iso(world.now())
    return _single(ctx, webhook, 200)


def get_webhooks(ctx: RequestContext, world: World) -> Response:
    wanted = check_includes(ctx, {"webhook-topics"})
    page = page_of(ctx, list(world.state.webhooks.values()))
    document: JsonObject = {
        "data": [webhook_resource(w, ctx.base_url) for w in page.items],
        "links": page.links,
    }
    if wanted:
        topics = dict.fromkeys(topic for w in page.items for topic in w["topics"])
        document["included"] = [topic_resource(topic, ctx.base_url) for topic in topics]
    return json_response(200, document)


def get_webhook(ctx: RequestContext, world: World) -> Response:
    wanted = check_includes(ctx, {"webhook-topics"})
    webhook = _webhook(ctx, world)
    document: JsonObject = {
        "data": webhook_resource(webhook, ctx.base_url),
        "links": {"self": ctx.url},
    }
    if wanted:
        document["included"] = [topic_resource(t, ctx.base_url) for t in webhook["topics"]]
    return json_response(200, document)


def delete_webhook(ctx: RequestContext, world: World) -> Response:
    webhook = _webhook(ctx, world)
    del world.state.webhooks[webhook["id"]]
    return empty_response(204)


def get_webhook_topics(ctx: RequestContext, world: World) -> Response:
    page = page_of(ctx, available_topics(world.state))
    return json_response(
        200, {"data": [topic_resource(t, ctx.base_url) for t in page.items], "links": page.links}
    )


def get_webhook_topic(ctx: RequestContext, world: World) -> Response:
    topic = ctx.path_params["id"]
    if topic not in available_topics(world.state):
        raise not_found("Webhook topic", topic)
    return json_response(
        200, {"data": topic_resource(topic, ctx.base_url), "links": {"self": ctx.url}}
    )


HANDLERS: dict[str, Handler] = {
    "get_webhooks": get_webhooks,
    "create_webhook": create_webhook,
    "get_webhook": get_webhook,
    "update_webhook": update_webhook,
    "delete_webhook": delete_webhook,
    "get_webhook_topics": get_webhook_topics,
    "get_webhook_topic": get_webhook_topic,
}
