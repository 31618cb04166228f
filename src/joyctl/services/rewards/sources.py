"""Turning reviews from Klaviyo, from files and from options into pipeline input.

Every origin ends in the same `IncomingReview`, so a simulated review is decided exactly like
one replayed from Klaviyo or delivered by a webhook.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
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
# What a simulated review is when a field is left out, the same from a file as from options.
SIMULATION_DEFAULTS: Mapping[str, Any] = {
    "status": "published",
    "review_type": "review",
    "verified": False,
}
SIMULATED_ID_PREFIX = "simulated-"

Completion = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""Fills in what a review read from a file leaves out."""


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


class SimulatedReviews:
    """Simulated reviews with the defaults filled in; a review without an id gets a new one.

    Every simulation has its own id unless one is given, so a committed simulation never
    stands in for another customer's review later. The ids made up are kept in `generated`.
    """

    def __init__(self) -> None:
        self.generated: list[str] = []

    def review(self, fields: Mapping[str, Any]) -> IncomingReview:
        return incoming_from_fields(self.complete(fields), origin="simulate")

    def from_file(self, path: Path) -> Iterator[IncomingReview]:
        return read_review_file(path, origin="simulate", complete=self.complete)

    def complete(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        given = {key: value for key, value in fields.items() if value is not None}
        completed = {**SIMULATION_DEFAULTS, **given}
        if not str(completed.get("id") or completed.get("review_id") or "").strip():
            completed["id"] = f"{SIMULATED_ID_PREFIX}{uuid.uuid4().hex[:12]}"
            self.generated.append(completed["id"])
        return completed


def read_review_file(
    path: Path,
    *,
    origin: str,
    complete: Completion | None = None,
) -> Iterator[IncomingReview]:
    """Reviews from a JSON array or JSONL file; a bad line names its line number.

    `complete` fills in what a review leaves out before it is read (the simulation defaults).
    """
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        first = handle.read(1)
        handle.seek(0)
        fill = complete or dict
        if first == "[":
            yield from _from_array(handle.read(), path, origin, fill)
            return
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield _from_line(line, path, number, origin, fill)


def _from_array(text: str, path: Path, origin: str, fill: Completion) -> Iterator[IncomingReview]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DataError(f"{path}: review {index} is not an object")
        yield _located(
            lambda item=item: incoming_from_fields(fill(item), origin=origin), path, index
        )


def _from_line(line: str, path: Path, number: int, origin: str, fill: Completion) -> IncomingReview:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(item, dict):
        raise DataError(f"{path}:{number}: each line must be a JSON object")
    return _located(lambda: incoming_from_fields(fill(item), origin=origin), path, number)


def _located(build: Any, path: Path, where: int) -> IncomingReview:
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
