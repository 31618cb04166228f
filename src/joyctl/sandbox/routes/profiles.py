"""Profiles: list, get, create, PATCH and the profile-import upsert (201 new, 200 updated)."""

from __future__ import annotations

from functools import partial

from joyctl.sandbox.context import Handler, RequestContext, World
from joyctl.sandbox.jsonapi import ApiError, Response, json_response, not_found
from joyctl.sandbox.routes.filters import FilterField, Lookup, apply_filter, field_spec
from joyctl.sandbox.routes.listing import page_of, sort_items
from joyctl.sandbox.routes.validation import resource_data, same_id
from joyctl.sandbox.store.flows import subscriptions_field
from joyctl.sandbox.store.profiles import (
    find_profile,
    update_profile,
    upsert_profile,
    validate_profile,
)
from joyctl.sandbox.store.records import JsonObject, ProfileRecord
from joyctl.sandbox.store.resources import profile_resource
from joyctl.sandbox.store.state import SandboxState

MAX_PROFILE_PAYLOAD = 100 * 1024
_COMPARE = "greater-than less-than"
_RANGE_ALL = "greater-or-equal greater-than less-or-equal less-than"
_SUPPRESSIONS = "subscriptions.email.marketing"

PROFILE_FILTERS: dict[str, FilterField[ProfileRecord]] = {
    "id": field_spec(lambda p: p["id"], "any equals"),
    "email": field_spec(lambda p: p["email"], "any equals", "email"),
    "phone_number": field_spec(lambda p: p["phone_number"], "any equals"),
    "external_id": field_spec(lambda p: p["external_id"], "any equals"),
    "created": field_spec(lambda p: p["created"], _COMPARE, "datetime"),
    "updated": field_spec(lambda p: p["updated"], _COMPARE, "datetime"),
    # Fields the spec allows that the emulator keeps no data for: they match nothing.
    "_kx": field_spec(lambda p: None, "equals"),
    f"{_SUPPRESSIONS}.list_suppressions.reason": field_spec(lambda p: None, "equals"),
    f"{_SUPPRESSIONS}.list_suppressions.timestamp": field_spec(
        lambda p: None, _RANGE_ALL, "datetime"
    ),
    f"{_SUPPRESSIONS}.list_suppressions.list_id": field_spec(lambda p: None, "equals"),
    f"{_SUPPRESSIONS}.suppression.reason": field_spec(lambda p: None, "equals"),
    f"{_SUPPRESSIONS}.suppression.timestamp": field_spec(lambda p: None, _RANGE_ALL, "datetime"),
}
PROFILE_SORTS = {
    "created": lambda p: p["created"],
    "email": lambda p: p["email"],
    "id": lambda p: p["id"],
    "updated": lambda p: p["updated"],
}


def _resource(ctx: RequestContext, world: World, profile: ProfileRecord) -> JsonObject:
    """The profile, with its `subscriptions` when `additional-fields[profile]` asks for them."""
    resource = profile_resource(profile, ctx.base_url)
    if "subscriptions" in ctx.list_param("additional-fields[profile]"):
        resource["attributes"]["subscriptions"] = subscriptions_field(world.state, profile)
    return resource


def _single(ctx: RequestContext, profile: ProfileRecord, status: int) -> Response:
    return json_response(
        status, {"data": profile_resource(profile, ctx.base_url), "links": {"self": ctx.url}}
    )


def _check_size(ctx: RequestContext) -> None:
    if len(ctx.body) > MAX_PROFILE_PAYLOAD:
        raise ApiError(413, "payload_too_large", "Profile payloads may be at most 100 KB.")


def profile_lookups(state: SandboxState) -> dict[str, Lookup[ProfileRecord]]:
    """Identifier filters answered from the index: a look-up costs the same among 50,000."""
    return {
        name: partial(state.profiles_holding, name)
        for name in ("id", "email", "phone_number", "external_id")
    }


def get_profiles(ctx: RequestContext, world: World) -> Response:
    state = world.state
    profiles = apply_filter(
        state.profiles.values(), ctx.param("filter"), PROFILE_FILTERS, profile_lookups(state)
    )
    profiles = sort_items(ctx, profiles, PROFILE_SORTS)
    page = page_of(ctx, profiles)
    return json_response(
        200,
        {"data": [_resource(ctx, world, p) for p in page.items], "links": page.links},
    )


def get_profile(ctx: RequestContext, world: World) -> Response:
    profile = world.state.profiles.get(ctx.path_params["id"])
    if profile is None:
        raise not_found("Profile", ctx.path_params["id"])
    return json_response(200, {"data": _resource(ctx, world, profile), "links": {"self": ctx.url}})


def create_profile(ctx: RequestContext, world: World) -> Response:
    """Create only: an existing identifier is a 409 naming the profile that holds it."""
    _check_size(ctx)
    data = resource_data(ctx, "profile")
    data.pop("id", None)
    validate_profile(data, "/data")
    existing = find_profile(world.state, data)
    if existing is not None:
        raise ApiError(
            409,
            "duplicate_profile",
            "A profile already exists with one of these identifiers.",
            pointer="/data/attributes",
            meta={"duplicate_profile_id": existing["id"]},
        )
    profile, _ = upsert_profile(world.state, data, world.now())
    return _single(ctx, profile, 201)


def update_profile_route(ctx: RequestContext, world: World) -> Response:
    _check_size(ctx)
    data = resource_data(ctx, "profile")
    same_id(data, ctx.path_params["id"])
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise ApiError(
            400, "invalid", "'attributes' is a required object.", pointer="/data/attributes"
        )
    profile = world.state.profiles.get(ctx.path_params["id"])
    if profile is None:
        raise not_found("Profile", ctx.path_params["id"])
    validate_profile(data, "/data")
    update_profile(world.state, profile, data, world.now())
    return _single(ctx, profile, 200)


def create_or_update_profile(ctx: RequestContext, world: World) -> Response:
    _check_size(ctx)
    data: JsonObject = resource_data(ctx, "profile")
    validate_profile(data, "/data")
    profile, created = upsert_profile(world.state, data, world.now())
    return _single(ctx, profile, 201 if created else 200)


HANDLERS: dict[str, Handler] = {
    "get_profiles": get_profiles,
    "get_profile": get_profile,
    "create_profile": create_profile,
    "update_profile": update_profile_route,
    "create_or_update_profile": create_or_update_profile,
}
