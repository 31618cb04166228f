"""JSON:API conventions as Klaviyo applies them: content type, error bodies, cursor paging."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from joyctl.sandbox.ids import uuid_id
from joyctl.sandbox.store.records import JsonObject

JSON_API = "application/vnd.api+json"

# Titles Klaviyo sends for each error code (its API is built on Django REST framework).
_TITLES = {
    "invalid": "Invalid input.",
    "not_found": "Not found.",
    "not_authenticated": "Authentication credentials were not provided.",
    "authentication_failed": "Incorrect authentication credentials.",
    "permission_denied": "You do not have permission to perform this action.",
    "throttled": "Request was throttled.",
    "method_not_allowed": "Method not allowed.",
    "conflict": "Conflict.",
    "gone": "Gone.",
    "duplicate_profile": "Conflict.",
    "unsupported_media_type": "Unsupported media type.",
    "payload_too_large": "Request payload too large.",
    "error": "A server error occurred.",
    "service_unavailable": "Service temporarily unavailable.",
}

RATE_LIMIT_DOCS = (
    "https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling#rate-limits"
)

T = TypeVar("T")


class ApiError(Exception):
    """An error answered in Klaviyo's shape: `{"errors": [{id, status, code, title, ...}]}`."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        meta: JsonObject | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.meta = meta
        self.headers = headers or {}

    def document(self) -> JsonObject:
        error: JsonObject = {
            "id": uuid_id(),
            "status": self.status,
            "code": self.code,
            "title": _TITLES.get(self.code, "Error."),
            "detail": self.detail,
        }
        if self.parameter is not None:
            error["source"] = {"parameter": self.parameter}
        else:
            error["source"] = {"pointer": self.pointer or "/data/"}
        if self.code == "throttled":
            error["links"] = {"type": RATE_LIMIT_DOCS}
        if self.meta is not None:
            error["meta"] = self.meta
        return {"errors": [error]}


def invalid(detail: str, *, pointer: str | None = None, parameter: str | None = None) -> ApiError:
    return ApiError(400, "invalid", detail, pointer=pointer, parameter=parameter)


def not_found(kind: str, identifier: str) -> ApiError:
    return ApiError(404, "not_found", f"{kind} with id {identifier} not found.")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False  # close the socket without answering (fault injection)


def json_response(status: int, document: Any, content_type: str = JSON_API) -> Response:
    body = json.dumps(document, separators=(",", ":")).encode("utf-8")
    return Response(status, body, {"Content-Type": content_type})


def empty_response(status: int) -> Response:
    return Response(status)


def error_response(error: ApiError) -> Response:
    response = json_response(error.status, error.document())
    response.headers.update(error.headers)
    return response


# -- cursor pagination ---------------------------------------------------------------------------


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    prefix, _, number = text.partition(":")
    if prefix != "offset" or not number.isdigit():
        raise invalid("Invalid page cursor.", parameter="page[cursor]")
    return int(number)


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    links: JsonObject


def paginate(
    items: Sequence[T],
    *,
    url: str,
    query: list[tuple[str, str]],
    size: int,
) -> Page:
    """Slice `items` at the request's cursor; `links.next` repeats the query with a new cursor."""
    cursor = next((value for key, value in query if key == "page[cursor]"), None)
    offset = decode_cursor(cursor) if cursor else 0
    page = items[offset : offset + size]
    others = [(key, value) for key, value in query if key != "page[cursor]"]
    links: JsonObject = {"self": _with_query(url, query)}
    if offset + size < len(items):
        links["next"] = _with_query(url, [*others, ("page[cursor]", encode_cursor(offset + size))])
    if offset > 0:
        previous = max(0, offset - size)
        links["prev"] = _with_query(url, [*others, ("page[cursor]", encode_cursor(previous))])
    return Page(page, links)


def _with_query(url: str, query: list[tuple[str, str]]) -> str:
    return f"{url}?{urlencode(query)}" if query else url


# -- sparse fieldsets ----------------------------------------------------------------------------


def requested_fieldsets(query: list[tuple[str, str]]) -> dict[str, list[str]]:
    """`fields[profile]=email,properties.tier` -> {"profile": ["email", "properties.tier"]}."""
    fieldsets: dict[str, list[str]] = {}
    for key, value in query:
        if key.startswith("fields[") and key.endswith("]"):
            names = [name.strip() for name in value.split(",") if name.strip()]
            fieldsets.setdefault(key[len("fields[") : -1], []).extend(names)
    return fieldsets


def sparse(response: Response, fieldsets: dict[str, list[str]]) -> Response:
    """Keep only the requested attributes of each resource of a listed type, as Klaviyo does.

    A dotted name (`location.city`) keeps that member of an object attribute.
    """
    if not fieldsets or not response.body or response.status >= 300:
        return response
    document = json.loads(response.body)
    data = document.get("data")
    resources = [*(data if isinstance(data, list) else [data]), *document.get("included", [])]
    for resource in resources:
        if isinstance(resource, dict) and resource.get("type") in fieldsets:
            wanted = fieldsets[resource["type"]]
            resource["attributes"] = _only(resource.get("attributes") or {}, wanted)
    body = json.dumps(document, separators=(",", ":")).encode("utf-8")
    return Response(response.status, body, response.headers, response.drop_connection)


def _only(attributes: JsonObject, wanted: list[str]) -> JsonObject:
    kept: JsonObject = {}
    for name in wanted:
        head, _, rest = name.partition(".")
        if head not in attributes:
            continue
        value = attributes[head]
        if rest and isinstance(value, dict):
            inner = _only(value, [rest])
            kept[head] = {**kept.get(head, {}), **inner}
        else:
            kept[head] = value
    return kept
