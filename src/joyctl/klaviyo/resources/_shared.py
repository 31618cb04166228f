"""Helpers shared by the resource modules: JSON:API bodies and typed parsing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from joyctl.errors import DataError, UsageError
from joyctl.klaviyo.bounds import operation_name
from joyctl.klaviyo.models import Resource

ModelT = TypeVar("ModelT", bound=Resource)


def path_id(value: str) -> str:
    """An id made safe to put in a URL path."""
    if not value or not value.strip():
        raise UsageError("an empty id was given")
    return quote(value, safe="")


def resource_body(
    resource_type: str,
    attributes: Mapping[str, Any],
    *,
    resource_id: str | None = None,
    relationships: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"type": resource_type, "attributes": dict(attributes)}
    if resource_id is not None:
        data["id"] = resource_id
    if relationships:
        data["relationships"] = dict(relationships)
    return {"data": data}


def linkage(resource_type: str, ids: Sequence[str]) -> dict[str, Any]:
    return {"data": [{"type": resource_type, "id": item} for item in ids]}


def parse(model: type[ModelT], resource: Any) -> ModelT:
    try:
        return model.model_validate(resource)
    except ValidationError as exc:
        raise DataError(
            f"Klaviyo sent a {model.__name__} joyctl cannot read ({exc.error_count()} problems)",
            hint="rerun with --debug to see the response",
        ) from exc


def parse_one(
    model: type[ModelT], document: Mapping[str, Any] | None, *, operation: str | None = None
) -> ModelT:
    data = document.get("data") if document else None
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict):
        to = f" {operation}" if operation else ""
        raise DataError(
            f"Klaviyo answered{to} without the {model.__name__} it should return",
            hint="check the profile's base URL; rerun with --debug to see the response",
        )
    return parse(model, data)


def expect_accepted(response: httpx.Response) -> None:
    """A call documented to answer 202 (accepted, processed later) must answer exactly that:
    any other success says nothing about whether Klaviyo took what was sent."""
    if response.status_code != 202:
        raise DataError(
            f"Klaviyo answered {response.status_code} to {operation_name(response.request)}"
            " where 202 (accepted) is documented; joyctl cannot tell whether it was accepted",
            hint="check the profile's base URL; rerun with --debug to see the response",
        )


def parse_many(model: type[ModelT], resources: Iterator[dict[str, Any]]) -> Iterator[ModelT]:
    for resource in resources:
        yield parse(model, resource)


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
