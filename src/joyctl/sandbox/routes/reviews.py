"""Reviews: `GET/PATCH /api/reviews` (server side) and `/client/reviews` (public key, no auth)."""

from __future__ import annotations

from joyctl.sandbox.clock import iso
from joyctl.sandbox.context import Handler, RequestContext, World, require_param
from joyctl.sandbox.jsonapi import (
    ApiError,
    Response,
    empty_response,
    invalid,
    json_response,
    not_found,
)
from joyctl.sandbox.routes.filters import FilterField, apply_filter, field_spec
from joyctl.sandbox.routes.listing import check_includes, page_of, sort_items
from joyctl.sandbox.routes.validation import attributes_of, resource_data, same_id
from joyctl.sandbox.store.pending import accept_review
from joyctl.sandbox.store.records import JsonObject, ReviewRecord
from joyctl.sandbox.store.resources import event_resource, review_resource
from joyctl.sandbox.store.reviews import validate_status, validate_submission

_RANGE = "greater-or-equal less-or-equal"
_RATING_OPERATORS = "any equals greater-or-equal less-or-equal"
REVIEW_SORTS = {
    "created": lambda r: r["created"],
    "rating": lambda r: r["rating"],
    "updated": lambda r: r["updated"],
}
REVIEW_FILTERS: dict[str, FilterField[ReviewRecord]] = {
    "created": field_spec(lambda r: r["created"], _RANGE, "datetime"),
    "rating": field_spec(lambda r: r["rating"], _RATING_OPERATORS, "number"),
    "id": field_spec(lambda r: r["id"], "any equals"),
    "item.id": field_spec(lambda r: (r["product"] or {}).get("external_id"), "any equals"),
    "content": field_spec(lambda r: r["content"], "contains"),
    "status": field_spec(lambda r: r["status"]["value"], "equals"),
    "review_type": field_spec(lambda r: r["review_type"], "equals"),
    "verified": field_spec(lambda r: r["verified"], "equals", "bool"),
}
CLIENT_FILTERS: dict[str, FilterField[ReviewRecord]] = {
    "status": REVIEW_FILTERS["status"],
    "review_type": REVIEW_FILTERS["review_type"],
    "rating": REVIEW_FILTERS["rating"],
    "id": REVIEW_FILTERS["id"],
    "content": REVIEW_FILTERS["content"],
    "smart_quote": field_spec(lambda r: r["smart_quote"], "has"),
    "public_reply": field_spec(lambda r: r["public_reply"], "has"),
    "verified": REVIEW_FILTERS["verified"],
    "incentivized": field_spec(lambda r: r["incentive_type"] is not None, "equals", "bool"),
    "edited": field_spec(lambda r: False, "equals", "bool"),
    "media": field_spec(lambda r: r["images"], "has"),
    "created": REVIEW_FILTERS["created"],
    "updated": field_spec(lambda r: r["updated"], _RANGE, "datetime"),
}
PUBLIC_STATUSES = ("published", "featured")


def _review(ctx: RequestContext, world: World) -> ReviewRecord:
    review = world.state.reviews.get(ctx.path_params["id"])
    if review is None:
        raise not_found("Review", ctx.path_params["id"])
    return review


def _included_events(world: World, reviews: list[ReviewRecord], base: str) -> list[JsonObject]:
    events = world.state.events
    return [
        event_resource(events[event_id], base)
        for review in reviews
        for event_id in review["event_ids"]
        if event_id in events
    ]


def get_reviews(ctx: RequestContext, world: World) -> Response:
    wanted = check_includes(ctx, {"events"})
    reviews = apply_filter(world.state.reviews.values(), ctx.param("filter"), REVIEW_FILTERS)
    page = page_of(ctx, sort_items(ctx, reviews, REVIEW_SORTS))
    document: JsonObject = {
        "data": [review_resource(r, ctx.base_url) for r in page.items],
        "links": page.links,
    }
    if wanted:
        document["included"] = _included_events(world, list(page.items), ctx.base_url)
    return json_response(200, document)


def get_review(ctx: RequestContext, world: World) -> Response:
    wanted = check_includes(ctx, {"events"})
    review = _review(ctx, world)
    document: JsonObject = {
        "data": review_resource(review, ctx.base_url),
        "links": {"self": ctx.url},
    }
    if wanted:
        document["included"] = _included_events(world, [review], ctx.base_url)
    return json_response(200, document)


def update_review(ctx: RequestContext, world: World) -> Response:
    """Only `status` can change; a rejection carries its reason."""
    data = resource_data(ctx, "review")
    same_id(data, ctx.path_params["id"])
    review = _review(ctx, world)
    attributes = attributes_of(data)
    unknown = sorted(set(attributes) - {"status"})
    if unknown:
        raise invalid(
            f"'{unknown[0]}' cannot be changed.", pointer=f"/data/attributes/{unknown[0]}"
        )
    if "status" in attributes:
        review["status"] = validate_status(attributes["status"])
        review["updated"] = iso(world.now())
    return json_response(
        200, {"data": review_resource(review, ctx.base_url), "links": {"self": ctx.url}}
    )


def _check_company(ctx: RequestContext, world: World) -> None:
    company = require_param(ctx, "company_id")
    if company != world.state.account["public_api_key"]:
        raise invalid(f"'{company}' is not a valid company_id.", parameter="company_id")


def create_client_review(ctx: RequestContext, world: World) -> Response:
    _check_company(ctx, world)
    if not world.state.account["reviews_enabled"]:
        raise ApiError(403, "permission_denied", "Klaviyo Reviews is not enabled for this account.")
    values = validate_submission(resource_data(ctx, "review"))
    accept_review(world, values, ctx.base_url)
    return empty_response(202)


def get_client_reviews(ctx: RequestContext, world: World) -> Response:
    """The storefront view: published and featured reviews only, without the reviewer's email."""
    _check_company(ctx, world)
    visible = [r for r in world.state.reviews.values() if r["status"]["value"] in PUBLIC_STATUSES]
    reviews = apply_filter(visible, ctx.param("filter"), CLIENT_FILTERS)
    page = page_of(ctx, sort_items(ctx, reviews, REVIEW_SORTS))
    return json_response(
        200,
        {
            "data": [review_resource(r, ctx.base_url, client_view=True) for r in page.items],
            "links": page.links,
        },
    )


HANDLERS: dict[str, Handler] = {
    "get_reviews": get_reviews,
    "get_review": get_review,
    "update_review": update_review,
    "create_client_review": create_client_review,
    "get_client_reviews": get_client_reviews,
}
