"""Flows and what they send: create (metric trigger, send-email), get, list, status, the flows
a metric starts, actions, messages and templates; consent jobs (subscribe, suppress)."""

from __future__ import annotations

from typing import Any

from joyctl.sandbox.clock import iso
from joyctl.sandbox.context import Handler, RequestContext, World
from joyctl.sandbox.ids import hex_id
from joyctl.sandbox.jsonapi import Response, empty_response, invalid, json_response, not_found
from joyctl.sandbox.routes.listing import page_of
from joyctl.sandbox.routes.validation import attributes_of, require_str, resource_data, same_id
from joyctl.sandbox.store import flows as store
from joyctl.sandbox.store.profiles import upsert_profile, validate_profile
from joyctl.sandbox.store.records import (
    FlowActionRecord,
    FlowMessageRecord,
    FlowRecord,
    JsonObject,
    TemplateRecord,
)
from joyctl.sandbox.store.resources import relationship

MAX_CONSENT_PROFILES = 1000


def _self(base: str, collection: str, identifier: str) -> JsonObject:
    return {"self": f"{base}/api/{collection}/{identifier}/"}


def flow_resource(flow: FlowRecord, base: str) -> JsonObject:
    return {
        "type": "flow",
        "id": flow["id"],
        "attributes": {
            "name": flow["name"],
            "status": flow["status"],
            "archived": flow["archived"],
            "created": flow["created"],
            "updated": flow["updated"],
            "trigger_type": "Metric" if flow["trigger_metric_id"] else "Unconfigured",
        },
        "relationships": {
            "flow-actions": {"links": relationship(base, "flows", flow["id"], "flow-actions")},
            "tags": {"links": relationship(base, "flows", flow["id"], "tags")},
        },
        "links": _self(base, "flows", flow["id"]),
    }


def _action_resource(action: FlowActionRecord, world: World, base: str) -> JsonObject:
    message = world.state.flow_messages[action["message_ids"][0]]
    definition = {
        "id": action["id"],
        "type": "send-email",
        "data": {
            "message": {
                "subject_line": message["subject_line"],
                "template_id": message["template_id"],
                "name": message["name"],
                "id": message["id"],
            },
            "status": action["status"],
        },
    }
    return {
        "type": "flow-action",
        "id": action["id"],
        "attributes": {
            "created": action["created"],
            "updated": action["updated"],
            "definition": definition,
        },
        "relationships": {
            "flow": {
                "data": {"type": "flow", "id": action["flow_id"]},
                "links": relationship(base, "flow-actions", action["id"], "flow"),
            },
            "flow-messages": {
                "data": [{"type": "flow-message", "id": i} for i in action["message_ids"]],
                "links": relationship(base, "flow-actions", action["id"], "flow-messages"),
            },
        },
        "links": _self(base, "flow-actions", action["id"]),
    }


def _message_resource(message: FlowMessageRecord, base: str) -> JsonObject:
    template: JsonObject = {"links": relationship(base, "flow-messages", message["id"], "template")}
    if message["template_id"]:
        template["data"] = {"type": "template", "id": message["template_id"]}
    return {
        "type": "flow-message",
        "id": message["id"],
        "attributes": {
            "channel": "email",
            "created": message["created"],
            "updated": message["updated"],
            # No `definition`: the spec's message definitions cannot tell an email from a
            # WhatsApp message (neither has required fields), so none validates; the action
            # carries the subject and template.
        },
        "relationships": {
            "flow-action": {
                "data": {"type": "flow-action", "id": message["action_id"]},
                "links": relationship(base, "flow-messages", message["id"], "flow-action"),
            },
            "template": template,
        },
        "links": _self(base, "flow-messages", message["id"]),
    }


def template_resource(template: TemplateRecord, base: str) -> JsonObject:
    return {
        "type": "template",
        "id": template["id"],
        "attributes": {
            "name": template["name"],
            "editor_type": template["editor_type"],
            "html": template["html"],
            "text": template["text"],
            "amp": None,
            "created": template["created"],
            "updated": template["updated"],
        },
        "links": _self(base, "templates", template["id"]),
    }


def _flow(world: World, flow_id: str) -> FlowRecord:
    flow = world.state.flows.get(flow_id)
    if flow is None:
        raise not_found("Flow", flow_id)
    return flow


def get_flows(ctx: RequestContext, world: World) -> Response:
    page = page_of(ctx, list(world.state.flows.values()))
    data = [flow_resource(flow, ctx.base_url) for flow in page.items]
    return json_response(200, {"data": data, "links": page.links})


def get_flow(ctx: RequestContext, world: World) -> Response:
    flow = _flow(world, ctx.path_params["id"])
    return json_response(
        200, {"data": flow_resource(flow, ctx.base_url), "links": {"self": ctx.url}}
    )


def create_flow(ctx: RequestContext, world: World) -> Response:
    data = resource_data(ctx, "flow")
    attributes = attributes_of(data)
    name = require_str(attributes, "name", "/data/attributes")
    flow = store.create_flow(world.state, name, attributes.get("definition"), world.now())
    return json_response(
        201, {"data": flow_resource(flow, ctx.base_url), "links": {"self": ctx.url}}
    )


def update_flow(ctx: RequestContext, world: World) -> Response:
    data = resource_data(ctx, "flow")
    same_id(data, ctx.path_params["id"])
    status = require_str(attributes_of(data), "status", "/data/attributes")
    flow = _flow(world, ctx.path_params["id"])
    store.set_flow_status(flow, status, world.now())
    return json_response(
        200, {"data": flow_resource(flow, ctx.base_url), "links": {"self": ctx.url}}
    )


def get_flows_triggered_by_metric(ctx: RequestContext, world: World) -> Response:
    metric_id = ctx.path_params["id"]
    if metric_id not in world.state.metrics:
        raise not_found("Metric", metric_id)
    flows = [f for f in world.state.flows.values() if f["trigger_metric_id"] == metric_id]
    data = [flow_resource(flow, ctx.base_url) for flow in flows]
    return json_response(200, {"data": data, "links": {"self": ctx.url}})


def get_actions_for_flow(ctx: RequestContext, world: World) -> Response:
    flow = _flow(world, ctx.path_params["id"])
    page = page_of(ctx, [world.state.flow_actions[i] for i in flow["action_ids"]])
    data = [_action_resource(action, world, ctx.base_url) for action in page.items]
    return json_response(200, {"data": data, "links": page.links})


def get_flow_action_messages(ctx: RequestContext, world: World) -> Response:
    action = world.state.flow_actions.get(ctx.path_params["id"])
    if action is None:
        raise not_found("FlowAction", ctx.path_params["id"])
    page = page_of(ctx, [world.state.flow_messages[i] for i in action["message_ids"]])
    data = [_message_resource(message, ctx.base_url) for message in page.items]
    return json_response(200, {"data": data, "links": page.links})


def get_template_for_flow_message(ctx: RequestContext, world: World) -> Response:
    message = world.state.flow_messages.get(ctx.path_params["id"])
    if message is None:
        raise not_found("FlowMessage", ctx.path_params["id"])
    template = world.state.templates.get(message["template_id"] or "")
    data = None if template is None else template_resource(template, ctx.base_url)
    return json_response(200, {"data": data, "links": {"self": ctx.url}})


def create_template(ctx: RequestContext, world: World) -> Response:
    attributes = attributes_of(resource_data(ctx, "template"))
    name = require_str(attributes, "name", "/data/attributes")
    html = attributes.get("html")
    if not isinstance(html, str):
        raise invalid("'html' is required for CODE templates.", pointer="/data/attributes/html")
    text = attributes.get("text")
    template = store.create_template(
        world.state, name, html, text if isinstance(text, str) else None, world.now()
    )
    return json_response(
        201, {"data": template_resource(template, ctx.base_url), "links": {"self": ctx.url}}
    )


def _consent_profiles(ctx: RequestContext, type_name: str) -> list[JsonObject]:
    attributes = attributes_of(resource_data(ctx, type_name))
    container = attributes.get("profiles")
    items: Any = container.get("data") if isinstance(container, dict) else None
    pointer = "/data/attributes/profiles/data"
    if not isinstance(items, list) or not items:
        raise invalid("'profiles.data' is a required array.", pointer=pointer)
    if len(items) > MAX_CONSENT_PROFILES:
        raise invalid("A job may carry at most 1,000 profiles.", pointer=pointer)
    for index, item in enumerate(items):
        validate_profile(item, f"{pointer}/{index}")
        if not (item.get("attributes") or {}).get("email"):
            raise invalid("'email' is required.", pointer=f"{pointer}/{index}/attributes/email")
    return items


def bulk_subscribe_profiles(ctx: RequestContext, world: World) -> Response:
    now = world.now()
    for item in _consent_profiles(ctx, "profile-subscription-bulk-create-job"):
        email = {"type": "profile", "attributes": {"email": item["attributes"]["email"]}}
        profile, _ = upsert_profile(world.state, email, now)
        store.subscribe(world.state, profile, now)
    return empty_response(202)


def bulk_suppress_profiles(ctx: RequestContext, world: World) -> Response:
    now = world.now()
    items = _consent_profiles(ctx, "profile-suppression-bulk-create-job")
    for item in items:
        email = {"type": "profile", "attributes": {"email": item["attributes"]["email"]}}
        profile, _ = upsert_profile(world.state, email, now)
        store.suppress(world.state, profile, "USER_SUPPRESSED", now)
    job_id = hex_id(24)
    stamp = iso(now)
    job = {
        "type": "profile-suppression-bulk-create-job",
        "id": job_id,
        "attributes": {
            "status": "complete",
            "created_at": stamp,
            "total_count": len(items),
            "completed_count": len(items),
            "completed_at": stamp,
            "skipped_count": 0,
        },
        "links": _self(ctx.base_url, "profile-suppression-bulk-create-jobs", job_id),
    }
    return json_response(202, {"data": job, "links": {"self": ctx.url}})


HANDLERS: dict[str, Handler] = {
    "get_flows": get_flows,
    "get_flow": get_flow,
    "create_flow": create_flow,
    "update_flow": update_flow,
    "get_flows_triggered_by_metric": get_flows_triggered_by_metric,
    "get_actions_for_flow": get_actions_for_flow,
    "get_flow_action_messages": get_flow_action_messages,
    "get_template_for_flow_message": get_template_for_flow_message,
    "create_template": create_template,
    "bulk_subscribe_profiles": bulk_subscribe_profiles,
    "bulk_suppress_profiles": bulk_suppress_profiles,
}
