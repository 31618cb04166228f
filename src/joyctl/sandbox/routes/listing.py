"""Collection endpoints: `page[size]` within the endpoint's cap, `sort`, then a cursor page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from joyctl.sandbox.context import RequestContext
from joyctl.sandbox.jsonapi import Page, invalid, paginate

R = TypeVar("R")

# Endpoints without `page[size]` (metrics, webhooks, topics) still page, at this fixed size.
UNSIZED_PAGE = 200


def page_size(ctx: RequestContext) -> int:
    endpoint = ctx.endpoint
    default = endpoint.page_size_default if endpoint else None
    maximum = endpoint.page_size_max if endpoint else None
    raw = ctx.param("page[size]")
    if default is None or maximum is None:
        if raw is not None:
            raise invalid("This endpoint does not accept 'page[size]'.", parameter="page[size]")
        return UNSIZED_PAGE
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise invalid(
            f"'page[size]' must be an integer between 1 and {maximum}.", parameter="page[size]"
        )
    return int(raw)


def sort_items(
    ctx: RequestContext, items: Sequence[R], keys: dict[str, Callable[[R], Any]]
) -> list[R]:
    """Apply `sort=field` or `sort=-field`; missing values sort first, ties keep their order."""
    sort = ctx.param("sort")
    if not sort:
        return list(items)
    name = sort.removeprefix("-")
    key = keys.get(name)
    if key is None:
        raise invalid(f"'{sort}' is not a valid sort for this resource.", parameter="sort")

    def sort_key(item: R) -> tuple[int, Any]:
        value = key(item)
        return (0, "") if value is None else (1, value)

    return sorted(items, key=sort_key, reverse=sort.startswith("-"))


def page_of(ctx: RequestContext, items: Sequence[R]) -> Page:
    return paginate(items, url=ctx.url, query=ctx.query, size=page_size(ctx))


def check_includes(ctx: RequestContext, allowed: set[str]) -> set[str]:
    requested = set(ctx.list_param("include"))
    unknown = requested - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise invalid(f"'{name}' is not a valid relationship to include.", parameter="include")
    return requested
