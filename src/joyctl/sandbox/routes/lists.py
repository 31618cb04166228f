"""Lists and list membership: at most 10 lists a page, 150 creations a day (enforced by the rate
limiter), at most 1,000 profile ids per membership call, and unknown ids rejected."""

from __future__ import annotations

from functools import partial

from joyctl.sandbox.clock import iso
from joyctl.sandbox.context import Handler, RequestContext, World
from joyctl.sandbox.ids import short_id
from joyctl.sandbox.jsonapi import Response, empty_response, invalid, json_response, not_found
from joyctl.sandbox.routes.filters import FilterField, Lookup, apply_filter, field_spec
from joyctl.sandbox.routes.listing import check_includes, page_of, sort_items
from joyctl.sandbox.routes.validation import (
    attributes_of,
    enum_value,
    identifier_list,
    require_str,
    resource_data,
    same_id,
)
from joyctl.sandbox.store.records import JsonObject, ListRecord, ProfileRecord
from joyctl.sandbox.store.resources import list_resource, profile_resource
from joyctl.sandbox.store.state import SandboxState

MAX_MEMBERSHIP_IDS = 1000
OPT_IN_PROCESSES = ("double_opt_in", "single_opt_in")

LIST_FILTERS: dict[str, FilterField[ListRecord]] = {
    "name": field_spec(lambda r: r["name"], "any equals"),
    "id": field_spec(lambda r: r["id"], "any equals"),
    "created": field_spec(lambda r: r["created"], "greater-than", "datetime"),
    "updated": field_spec(lambda r: r["updated"], "greater-than", "datetime"),
}
LIST_SORTS = {
    "created": lambda r: r["created"],
    "id": lambda r: r["id"],
    "name": lambda r: r["name"],
    "updated": lambda r: r["updated"],
}
Member = tuple[ProfileRecord, str]
_COMPARE = "greater-or-equal greater-than less-or-equal less-than"
MEMBER_FILTERS: dict[str, FilterField[Member]] = {
    "email": field_spec(lambda m: m[0]["email"], "any equals", "email"),
    "phone_number": field_spec(lambda m: m[0]["phone_number"], "any equals"),
    "push_token": field_spec(lambda m: None, "any equals"),  # the emulator keeps none
    "_kx": field_spec(lambda m: None, "equals"),
    "joined_group_at": field_spec(lambda m: m[1], _COMPARE, "datetime"),
}


def _list(ctx: RequestContext, world: World) -> ListRecord:
    record = world.state.lists.get(ctx.path_params["id"])
    if record is None:
        raise not_found("List", ctx.path_params["id"])
    return record


def wants_profile_count(ctx: RequestContext) -> bool:
    return "profile_count" in ctx.list_param("additional-fields[list]")


def get_lists(ctx: RequestContext, world: World) -> Response:
    check_includes(ctx, {"tags", "flow-triggers"})
    lists = apply_filter(world.state.lists.values(), ctx.param("filter"), LIST_FILTERS)
    page = page_of(ctx, sort_items(ctx, lists, LIST_SORTS))
    return json_response(
        200, {"data": [list_resource(r, ctx.base_url) for r in page.items], "links": page.links}
    )


def create_list(ctx: RequestContext, world: World) -> Response:
    data = resource_data(ctx, "list")
    attributes = attributes_of(data)
    name = require_str(attributes, "name", "/data/attributes")
    opt_in = enum_value(
        attributes, "opt_in_process", OPT_IN_PROCESSES, "/data/attributes", required=False
    )
    stamp = iso(world.now())
    record = ListRecord(
        id=short_id(),
        name=name,
        opt_in_process=opt_in or "single_opt_in",
        created=stamp,
        updated=stamp,
        members={},
    )
    world.state.lists[record["id"]] = record
    return json_response(
        201, {"data": list_resource(record, ctx.base_url), "links": {"self": ctx.url}}
    )


def get_list(ctx: RequestContext, world: World) -> Response:
    record = _list(ctx, world)
    resource = list_resource(record, ctx.base_url, profile_count=wants_profile_count(ctx))
    return json_response(200, {"data": resource, "links": {"self": ctx.url}})


def update_list(ctx: RequestContext, world: World) -> Response:
    data = resource_data(ctx, "list")
    same_id(data, ctx.path_params["id"])
    record = _list(ctx, world)
    attributes = attributes_of(data)
    if "name" in attributes:
        record["name"] = require_str(attributes, "name", "/data/attributes")
    if attributes.get("opt_in_process") is not None:
        record["opt_in_process"] = enum_value(
            attributes, "opt_in_process", OPT_IN_PROCESSES, "/data/attributes", required=True
        )
    record["updated"] = iso(world.now())
    return json_response(
        200, {"data": list_resource(record, ctx.base_url), "links": {"self": ctx.url}}
    )


def delete_list(ctx: RequestContext, world: World) -> Response:
    record = _list(ctx, world)
    del world.state.lists[record["id"]]
    return empty_response(204)


def _members_holding(
    state: SandboxState, record: ListRecord, field_name: str, values: list[str]
) -> list[Member]:
    """Members with one of the identifiers, in list order: one pass over the ids, and the full
    filter check only for the few the index names."""
    found = {profile["id"] for profile in state.profiles_holding(field_name, values)}
    return [
        (state.profiles[profile_id], joined)
        for profile_id, joined in record["members"].items()
        if profile_id in found
    ]


def _members(ctx: RequestContext, world: World) -> list[Member]:
    record = _list(ctx, world)
    profiles = world.state.profiles
    # Built only if the filter cannot be answered from the index.
    every_member = (
        (profiles[profile_id], joined)
        for profile_id, joined in record["members"].items()
        if profile_id in profiles
    )
    lookups: dict[str, Lookup[Member]] = {
        name: partial(_members_holding, world.state, record, name)
        for name in ("email", "phone_number")
    }
    members = apply_filter(every_member, ctx.param("filter"), MEMBER_FILTERS, lookups)
    return sort_items(ctx, members, {"joined_group_at": lambda m: m[1]})


def get_list_profiles(ctx: RequestContext, world: World) -> Response:
    page = page_of(ctx, _members(ctx, world))
    data: list[JsonObject] = []
    for profile, joined in page.items:
        resource = profile_resource(profile, ctx.base_url)
        resource["attributes"]["joined_group_at"] = joined
        data.append(resource)
    return json_response(200, {"data": data, "links": page.links})


def get_list_profile_ids(ctx: RequestContext, world: World) -> Response:
    page = page_of(ctx, _members(ctx, world))
    data = [{"type": "profile", "id": profile["id"]} for profile, _ in page.items]
    return json_response(200, {"data": data, "links": page.links})


def _membership_ids(ctx: RequestContext, world: World) -> list[str]:
    ids = identifier_list(ctx.json_body().get("data"), "profile", "/data")
    if not ids:
        raise invalid("At least one profile is required.", pointer="/data")
    if len(ids) > MAX_MEMBERSHIP_IDS:
        raise invalid("At most 1,000 profiles may be sent per call.", pointer="/data")
    for index, profile_id in enumerate(ids):
        if profile_id not in world.state.profiles:
            raise invalid(f"Profile {profile_id} does not exist.", pointer=f"/data/{index}/id")
    return ids


def add_profiles_to_list(ctx: RequestContext, world: World) -> Response:
    record = _list(ctx, world)
    ids = _membership_ids(ctx, world)
    joined = iso(world.now())
    for profile_id in ids:
        record["members"].setdefault(profile_id, joined)
    return empty_response(204)


def remove_profiles_from_list(ctx: RequestContext, world: World) -> Response:
    record = _list(ctx, world)
    for profile_id in _membership_ids(ctx, world):
        record["members"].pop(profile_id, None)
    return empty_response(204)


HANDLERS: dict[str, Handler] = {
    "get_lists": get_lists,
    "create_list": create_list,
    "get_list": get_list,
    "update_list": update_list,
    "delete_list": delete_list,
    "get_profiles_for_list": get_list_profiles,
    "get_profile_ids_for_list": get_list_profile_ids,
    "add_profiles_to_list": add_profiles_to_list,
    "remove_profiles_from_list": remove_profiles_from_list,
}
