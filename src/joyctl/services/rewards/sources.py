"""Turning reviews from Klaviyo, from files and from options into pipeline input.

Every origin ends in the same `IncomingReview`, so a simulated review is decided exactly like
one replayed from Klaviyo or delivered by a webhook.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joyctl.engine import Review, ReviewStatus
from joyctl.errors import DataError, UsageError
from joyctl.ledger.reviews import InboxReview
from joyctl.services.rewards.pipeline import IncomingReview

if TYPE_CHECKING:
    from joyctl.klaviyo.models import Review as KlaviyoReview

REVIEW_TYPES = ("review", "question", "rating", "store")


def _status(value: str | None) -> ReviewStatus:
    try:
        return ReviewStatus(value or "pending")
    except ValueError:
        known = ", ".join(status.value for status in ReviewStatus)
        raise DataError(f"unknown review status {value!r}", hint=f"use one of: {known}") from None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def incoming_from_fields(fields: Mapping[str, Any], *, origin: str) -> IncomingReview:
    """Build pipeline input from plain fields (a file line, options, a webhook payload)."""
    review_id = str(fields.get("id") or fields.get("review_id") or "").strip()
    if not review_id:
        raise DataError("a review needs an id", hint='add "id" to each review')
    created = fields.get("created") or fields.get("created_at")
    created_at = parse_time(created) if created else datetime.now(UTC)
    status = _status(fields.get("status"))
    review_type = str(fields.get("review_type") or "review")
    images = tuple(str(image) for image in fields.get("images") or ())
    email = str(fields.get("email") or "").strip().lower() or None
    engine_review = Review(
        review_id=review_id,
        email=email or "",
        content=str(fields.get("content") or ""),
        created_at=created_at,
        status=status,
        review_type=review_type,
        product_id=_text(fields.get("product_id")),
        images=images,
        verified=bool(fields.get("verified", False)),
    )
    inbox = InboxReview(
        review_id=review_id,
        email=email,
        customer_id=None,
        product_id=engine_review.product_id,
        review_type=review_type,
        status=status.value,
        verified=engine_review.verified,
        rating=_rating(fields.get("rating")),
        has_images=bool(images),
        created_at=created_at.isoformat(),
        updated_at=None,
        origin=origin,
        raw=dict(fields),
    )
    return IncomingReview(engine_review, inbox)


def incoming_from_klaviyo(review: KlaviyoReview, *, origin: str) -> IncomingReview:
    fields: dict[str, Any] = {
        "id": review.id,
        "email": review.email,
        "content": review.content,
        "created": review.created.isoformat() if review.created else None,
        "status": review.status_value,
        "review_type": review.review_type,
        "product_id": review.product.external_id if review.product else None,
        "images": review.images,
        "verified": bool(review.verified),
        "rating": review.rating,
        "title": review.title,
    }
    return incoming_from_fields(fields, origin=origin)


def read_review_file(
    path: Path, *, origin: str, name: str | None = None
) -> Iterator[IncomingReview]:
    """Reviews from a JSON array or JSONL file; a bad line names its line number.

    `name` is what errors call the file when `path` is a copy of it (of stdin, say).
    """
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    shown = name or str(path)
    with handle:
        first = handle.read(1)
        handle.seek(0)
        if first == "[":
            yield from _from_array(handle.read(), shown, origin)
            return
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield _from_line(line, shown, number, origin)


def _from_array(text: str, path: str, origin: str) -> Iterator[IncomingReview]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DataError(f"{path}: review {index} is not an object")
        yield _located(lambda item=item: incoming_from_fields(item, origin=origin), path, index)


def _from_line(line: str, path: str, number: int, origin: str) -> IncomingReview:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(item, dict):
        raise DataError(f"{path}:{number}: each line must be a JSON object")
    return _located(lambda: incoming_from_fields(item, origin=origin), path, number)


def _located(build: Any, path: str, where: int) -> IncomingReview:
    try:
        result: IncomingReview = build()
    except DataError as exc:
        raise DataError(f"{path}:{where}: {exc.message}", hint=exc.hint) from exc
    return result


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return _aware(value)
    try:
        return _aware(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise DataError(
            f"not an ISO 8601 time: {value!r}", hint="e.g. 2026-05-01T12:00:00Z"
        ) from None


def _rating(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DataError(f"rating must be a whole number: {value!r}") from None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
