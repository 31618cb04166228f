"""Submitting a review through the client API (`POST /client/reviews?company_id=`).

Client endpoints authenticate with the account's public key as `company_id`, so no
credentials are sent; the `revision` header is still required.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from joyctl.errors import UsageError
from joyctl.klaviyo.client import KlaviyoClient

REVIEW_TYPES = frozenset({"review", "question", "rating", "store"})


@dataclass(frozen=True)
class ClientReview:
    review_type: str
    email: str
    author: str
    content: str
    rating: int | None = None
    title: str | None = None
    product_external_id: str | None = None
    integration_key: str = "shopify"
    incentive_type: str | None = None
    images: Sequence[str] = field(default_factory=tuple)
    order_id: str | None = None


def submit_client_review(client: KlaviyoClient, company_id: str, review: ClientReview) -> None:
    """Submit a review as a shopper would (202, processed asynchronously)."""
    if review.review_type not in REVIEW_TYPES:
        raise UsageError(f"unknown review type {review.review_type!r}")
    data: dict[str, Any] = {"type": "review", "attributes": _attributes(review)}
    if review.order_id:
        data["relationships"] = {"order": {"data": {"type": "order", "id": review.order_id}}}
    client.request(
        "POST",
        "/client/reviews",
        params={"company_id": company_id},
        body={"data": data},
        authenticated=False,
    )


def _attributes(review: ClientReview) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "review_type": review.review_type,
        "email": review.email,
        "author": review.author,
        "content": review.content,
    }
    optional = {
        "rating": review.rating,
        "title": review.title,
        "incentive_type": review.incentive_type,
    }
    attributes.update({key: value for key, value in optional.items() if value is not None})
    if review.images:
        attributes["images"] = list(review.images)
    if review.product_external_id:
        attributes["product"] = {
            "external_id": review.product_external_id,
            "integration_key": review.integration_key,
        }
    return attributes
