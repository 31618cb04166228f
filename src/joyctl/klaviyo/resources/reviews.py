"""Klaviyo Reviews: list, read and moderate (server API)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from joyctl.klaviyo import filters
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Review
from joyctl.klaviyo.resources._shared import parse, parse_many, parse_one, path_id

REJECTION_REASONS = frozenset(
    {
        "other",
        "fake",
        "false_or_misleading",
        "private_information",
        "profanity_or_inappropriate",
        "unrelated",
    }
)


def list_reviews(
    client: KlaviyoClient,
    *,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    status: str | None = None,
    ids: Sequence[str] = (),
    sort: str | None = "created",
    page_size: int | None = None,
    limit: int | None = None,
) -> Iterator[Review]:
    """Reviews, oldest first by default, optionally within a created range (inclusive)."""
    condition = filters.all_of(
        filters.greater_or_equal("created", created_from) if created_from else None,
        filters.less_or_equal("created", created_to) if created_to else None,
        filters.equals("status", status) if status else None,
        _ids_condition(ids),
    )
    params: dict[str, str] = {}
    if condition:
        params["filter"] = condition
    if sort:
        params["sort"] = sort
    resources = client.paginate("/api/reviews", params, page_size=page_size, limit=limit)
    return parse_many(Review, resources)


def _ids_condition(ids: Sequence[str]) -> str | None:
    if not ids:
        return None
    if len(ids) == 1:
        return filters.equals("id", ids[0])
    return filters.any_of("id", ids)


def get_review(client: KlaviyoClient, review_id: str) -> Review:
    return parse_one(Review, client.get(f"/api/reviews/{path_id(review_id)}"))


def update_review_status(
    client: KlaviyoClient,
    review_id: str,
    status: str,
    *,
    rejection_reason: str | None = None,
    status_explanation: str | None = None,
) -> Review:
    """Moderate a review; only `status` is patchable. Setting a status is safe to repeat."""
    value: dict[str, Any] = {"value": status}
    if rejection_reason is not None:
        reason: dict[str, Any] = {"reason": rejection_reason}
        if status_explanation:
            reason["status_explanation"] = status_explanation
        value["rejection_reason"] = reason
    body = {"data": {"type": "review", "id": review_id, "attributes": {"status": value}}}
    document = client.patch(f"/api/reviews/{path_id(review_id)}", body, idempotent=True)
    data = document.get("data")
    return parse(Review, data) if isinstance(data, dict) else get_review(client, review_id)
