"""Small request-body checks that answer 400 with the JSON pointer of the offending member."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from joyctl.sandbox.context import RequestContext
from joyctl.sandbox.jsonapi import ApiError, invalid
from joyctl.sandbox.store.records import JsonObject

MAX_BULK_PAYLOAD = 5 * 1024 * 1024


def resource_data(ctx: RequestContext, type_name: str) -> JsonObject:
    """`data` of a single-resource body, checked to be an object of the expected type."""
    body = ctx.json_body()
    data = body.get("data")
    if not isinstance(data, dict):
        raise invalid("'data' is a required object.", pointer="/data")
    if data.get("type") != type_name:
        raise invalid(f"The resource type must be '{type_name}'.", pointer="/data/type")
    return data


def attributes_of(data: JsonObject, pointer: str = "/data") -> JsonObject:
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        raise invalid("'attributes' is a required object.", pointer=f"{pointer}/attributes")
    return attributes


def require_str(container: JsonObject, key: str, pointer: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"'{key}' is a required field.", pointer=f"{pointer}/{key}")
    return value


def optional_str(container: JsonObject, key: str, pointer: str) -> str | None:
    value = container.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f"'{key}' must be a string.", pointer=f"{pointer}/{key}")
    return value


def enum_value(
    container: JsonObject, key: str, allowed: Collection[Any], pointer: str, *, required: bool
) -> Any:
    value = container.get(key)
    if value is None and not required:
        return None
    if value not in allowed or isinstance(value, bool):
        choices = ", ".join(repr(item) for item in allowed)
        raise invalid(f"'{key}' must be one of {choices}.", pointer=f"{pointer}/{key}")
    return value


def identifier_list(container: Any, type_name: str, pointer: str) -> list[str]:
    """Ids from a relationship `data` array of `{type, id}` objects."""
    if not isinstance(container, list):
        raise invalid("'data' must be an array.", pointer=pointer)
    ids: list[str] = []
    for index, item in enumerate(container):
        if not isinstance(item, dict) or item.get("type") != type_name:
            raise invalid(f"Each item must be a '{type_name}'.", pointer=f"{pointer}/{index}/type")
        identifier = item.get("id")
        if not isinstance(identifier, str) or not identifier:
            raise invalid("'id' is a required field.", pointer=f"{pointer}/{index}/id")
        ids.append(identifier)
    return ids


def check_bulk_payload(ctx: RequestContext) -> None:
    if len(ctx.body) > MAX_BULK_PAYLOAD:
        raise ApiError(413, "payload_too_large", "The request payload exceeds 5 MB.")


def same_id(data: JsonObject, path_id: str) -> None:
    """PATCH bodies must name the resource the path names."""
    if data.get("id") != path_id:
        raise ApiError(
            409,
            "conflict",
            f"The id in the body ({data.get('id')!r}) does not match the id in the path.",
            pointer="/data/id",
        )
