"""Accounts, events, event bulk-create jobs and metrics."""

from __future__ import annotations

from typing import Any

from joyctl.sandbox.context import Handler, RequestContext, World
from joyctl.sandbox.jsonapi import Response, empty_response, invalid, json_response, not_found
from joyctl.sandbox.routes.filters import FilterField, apply_filter, field_spec
from joyctl.sandbox.routes.listing import check_includes, page_of, sort_items
from joyctl.sandbox.routes.validation import check_bulk_payload, resource_data
from joyctl.sandbox.store.events import (
    EventInput,
    dedup_key,
    parse_event,
    profile_identity,
)
from joyctl.sandbox.store.pending import accept_events
from joyctl.sandbox.store.profiles import validate_profile
from joyctl.sandbox.store.records import EventRecord, JsonObject, MetricRecord
from joyctl.sandbox.store.resources import (
    account_resource,
    event_resource,
    metric_resource,
    profile_resource,
)

MAX_BULK_EVENTS = 1000


def get_accounts(ctx: RequestContext, world: World) -> Response:
    account = world.state.account
    return json_response(
        200, {"data": [account_resource(account, ctx.base_url)], "links": {"self": ctx.url}}
    )


def get_account(ctx: RequestContext, world: World) -> Response:
    account = world.state.account
    if ctx.path_params["id"] != account["id"]:
        raise not_found("Account", ctx.path_params["id"])
    return json_response(
        200, {"data": account_resource(account, ctx.base_url), "links": {"self": ctx.url}}
    )


def create_event(ctx: RequestContext, world: World) -> Response:
    data = resource_data(ctx, "event")
    event = parse_event(data.get("attributes"), "/data/attributes", world.now())
    accept_events(world, [event])
    return empty_response(202)


def _bulk_entries(ctx: RequestContext, now: float) -> list[EventInput]:
    data = resource_data(ctx, "event-bulk-create-job")
    container = (data.get("attributes") or {}).get("events-bulk-create")
    entries = container.get("data") if isinstance(container, dict) else None
    pointer = "/data/attributes/events-bulk-create/data"
    if not isinstance(entries, list):
        raise invalid("'events-bulk-create.data' is a required array.", pointer=pointer)
    events: list[EventInput] = []
    for index, entry in enumerate(entries):
        entry_pointer = f"{pointer}/{index}/attributes"
        attributes = entry.get("attributes") if isinstance(entry, dict) else None
        if not isinstance(attributes, dict):
            raise invalid("'attributes' is a required object.", pointer=entry_pointer)
        profile = (attributes.get("profile") or {}).get("data")
        validate_profile(profile, f"{entry_pointer}/profile/data")
        items = (attributes.get("events") or {}).get("data")
        if not isinstance(items, list) or not items:
            raise invalid("'events.data' is a required array.", pointer=f"{entry_pointer}/events")
        for position, item in enumerate(items):
            item_pointer = f"{entry_pointer}/events/data/{position}/attributes"
            raw = item.get("attributes") if isinstance(item, dict) else None
            events.append(parse_event(raw, item_pointer, now, profile))
        if len(events) > MAX_BULK_EVENTS:
            raise invalid("A bulk job may carry at most 1,000 events.", pointer=pointer)
    return events


def bulk_create_events(ctx: RequestContext, world: World) -> Response:
    """All or nothing: a repeated unique_id for one profile and metric fails the whole job."""
    check_bulk_payload(ctx)
    now = world.now()
    events = _bulk_entries(ctx, now)
    seen: set[str] = set()
    for event in events:
        if event.unique_id is None:
            continue
        key = dedup_key(
            profile_identity(world.state, event.profile),
            event.metric_name,
            event.unique_id,
            event.time,
        )
        if key in seen:
            raise invalid(
                f"unique_id '{event.unique_id}' is repeated for the same profile and metric; "
                "no events were processed.",
                pointer=f"{event.pointer}/unique_id",
            )
        seen.add(key)
    accept_events(world, events)
    return empty_response(202)


EVENT_FILTERS: dict[str, FilterField[EventRecord]] = {
    "metric_id": field_spec(lambda e: e["metric_id"], "equals"),
    "profile_id": field_spec(lambda e: e["profile_id"], "equals"),
    "profile": field_spec(lambda e: e["profile_id"], "has"),
    "metric": field_spec(lambda e: e["metric_id"], "has"),
    "datetime": field_spec(
        lambda e: e["datetime"],
        "greater-or-equal greater-than less-or-equal less-than",
        "datetime",
    ),
    "timestamp": field_spec(
        lambda e: e["timestamp"], "greater-or-equal greater-than less-or-equal less-than", "number"
    ),
}


def _event_includes(events: list[Any], world: World, base: str, wanted: set[str]) -> list[Any]:
    included: dict[tuple[str, str], JsonObject] = {}
    for event in events:
        metric = world.state.metrics.get(event["metric_id"])
        profile = world.state.profiles.get(event["profile_id"])
        if "metric" in wanted and metric is not None:
            included[("metric", metric["id"])] = metric_resource(metric, base)
        if "profile" in wanted and profile is not None:
            included[("profile", profile["id"])] = profile_resource(profile, base)
    return list(included.values())


def get_events(ctx: RequestContext, world: World) -> Response:
    wanted = check_includes(ctx, {"attributions", "metric", "profile"})
    events = apply_filter(world.state.events.values(), ctx.param("filter"), EVENT_FILTERS)
    events = sort_items(
        ctx, events, {"datetime": lambda e: e["datetime"], "timestamp": lambda e: e["timestamp"]}
    )
    page = page_of(ctx, events)
    document: JsonObject = {
        "data": [event_resource(event, ctx.base_url) for event in page.items],
        "links": page.links,
    }
    if wanted - {"attributions"}:
        document["included"] = _event_includes(list(page.items), world, ctx.base_url, wanted)
    return json_response(200, document)


def get_event(ctx: RequestContext, world: World) -> Response:
    wanted = check_includes(ctx, {"attributions", "metric", "profile"})
    event = world.state.events.get(ctx.path_params["id"])
    if event is None:
        raise not_found("Event", ctx.path_params["id"])
    document: JsonObject = {"data": event_resource(event, ctx.base_url), "links": {"self": ctx.url}}
    if wanted - {"attributions"}:
        document["included"] = _event_includes([event], world, ctx.base_url, wanted)
    return json_response(200, document)


METRIC_FILTERS: dict[str, FilterField[MetricRecord]] = {
    "integration.name": field_spec(lambda m: m["integration"].get("name"), "equals"),
    "integration.category": field_spec(lambda m: m["integration"].get("category"), "equals"),
}


def get_metrics(ctx: RequestContext, world: World) -> Response:
    check_includes(ctx, {"flow-triggers"})
    metrics = apply_filter(world.state.metrics.values(), ctx.param("filter"), METRIC_FILTERS)
    page = page_of(ctx, metrics)
    return json_response(
        200,
        {"data": [metric_resource(m, ctx.base_url) for m in page.items], "links": page.links},
    )


def get_metric(ctx: RequestContext, world: World) -> Response:
    metric = world.state.metrics.get(ctx.path_params["id"])
    if metric is None:
        raise not_found("Metric", ctx.path_params["id"])
    return json_response(
        200, {"data": metric_resource(metric, ctx.base_url), "links": {"self": ctx.url}}
    )


HANDLERS: dict[str, Handler] = {
    "get_accounts": get_accounts,
    "get_account": get_account,
    "create_event": create_event,
    "bulk_create_events": bulk_create_events,
    "get_events": get_events,
    "get_event": get_event,
    "get_metrics": get_metrics,
    "get_metric": get_metric,
}
