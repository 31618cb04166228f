"""Turning reviews from Klaviyo, from files and from options into pipeline input.

Every origin ends in the same `IncomingReview`, so a simulated review is decided exactly like
one replayed from Klaviyo or delivered by a webhook. Fields are checked with the shared bounds
(`joyctl.files.limits`): a time from 1900 to 2200, a rating from 0 to 5, an id of at most 255
characters, text where text is meant. A review file (`ReviewFile`) quarantines the reviews it
cannot use and reads on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from joyctl.engine import Review, ReviewStatus
from joyctl.errors import DataError, UsageError
from joyctl.files import limits
from joyctl.files.formats import FileFormat
from joyctl.files.quarantine import QuarantineLog, default_quarantine_path
from joyctl.files.reader import open_binary, read_records
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
MAX_ID_CHARACTERS = 255
_HEAD_BYTES = 4096


_STATUSES = {status.value: status for status in ReviewStatus}


def _status(value: Any) -> ReviewStatus:
    text = _text(value, "status") or "pending"
    # A dict look-up first: the enum's own look-up costs several times more, once per review.
    status = _STATUSES.get(text)
    if status is not None:
        return status
    try:
        return ReviewStatus(text)
    except ValueError:
        known = ", ".join(status.value for status in ReviewStatus)
        raise DataError(
            f"unknown review status {limits.shown(text)}", hint=f"use one of: {known}"
        ) from None


def incoming_from_fields(fields: Mapping[str, Any], *, origin: str) -> IncomingReview:
    """Build pipeline input from plain fields (a file line, options, a webhook payload).

    Every field is checked and bounded; DataError names the first that is wrong.
    """
    review_id = _text(fields.get("id"), "id") or _text(fields.get("review_id"), "review_id")
    if not review_id or not review_id.strip():
        raise DataError("a review needs an id", hint='add "id" to each review')
    review_id = limits.bounded_text(review_id.strip(), "id", max_characters=MAX_ID_CHARACTERS)
    created = fields.get("created") or fields.get("created_at")
    created_at = parse_time(created) if created else datetime.now(UTC)
    status = _status(fields.get("status"))
    review_type = _text(fields.get("review_type"), "review_type") or "review"
    images = _images(fields.get("images"))
    email = (_text(fields.get("email"), "email") or "").strip().lower() or None
    engine_review = Review(
        review_id=review_id,
        email=email or "",
        content=_text(fields.get("content"), "content") or "",
        created_at=created_at,
        status=status,
        review_type=review_type,
        product_id=_text(fields.get("product_id"), "product_id"),
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

    def complete(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        given = {key: value for key, value in fields.items() if value is not None}
        completed = {**SIMULATION_DEFAULTS, **given}
        if not str(completed.get("id") or completed.get("review_id") or "").strip():
            completed["id"] = f"{SIMULATED_ID_PREFIX}{uuid.uuid4().hex[:12]}"
            self.generated.append(completed["id"])
        return completed


class ReviewFile:
    """The reviews of a JSON array or JSON Lines file, each checked as it is read.

    A review that cannot be used goes to the quarantine file with its line (JSON Lines) or its
    place in the array, and the reason; the rest go on. Only a file that cannot be read at all
    (missing, or an array that is not valid JSON) stops the reading, naming the file.
    `complete` fills in what a review leaves out before it is checked (the quarantine keeps the
    review as written).
    """

    def __init__(
        self,
        path: Path,
        *,
        origin: str,
        quarantine: Path | None = None,
        complete: Completion | None = None,
    ) -> None:
        self.path = path
        self.origin = origin
        self.complete = complete
        with open_binary(path) as handle:
            self.is_array = _opens_an_array(handle)
        target = quarantine or default_quarantine_path(path)
        if target.expanduser().resolve() == path.expanduser().resolve():
            raise UsageError("the quarantine file cannot be the review file", hint="--quarantine")
        self.quarantine = QuarantineLog(
            target, resumed=False, origin_name="review" if self.is_array else "line"
        )

    def __iter__(self) -> Iterator[IncomingReview]:
        with open_binary(self.path) as handle:
            if self.is_array:
                entries: Iterator[tuple[int, Any, str | None]] = _array_entries(handle, self.path)
            else:
                entries = _line_entries(handle)
            for where, fields, problem in entries:
                if problem is not None:
                    self.quarantine.add(where, problem, fields)
                elif (incoming := self._usable(where, fields)) is not None:
                    yield incoming
        self.quarantine.flush()

    def close(self) -> None:
        self.quarantine.close()

    def _usable(self, where: int, fields: Any) -> IncomingReview | None:
        if not isinstance(fields, dict):
            self.quarantine.add(where, "a review must be a JSON object", fields)
            return None
        try:
            completed = self.complete(fields) if self.complete is not None else fields
            return incoming_from_fields(completed, origin=self.origin)
        except DataError as exc:
            self.quarantine.add(where, exc.message, fields)
            return None


def _opens_an_array(handle: IO[bytes]) -> bool:
    head = handle.read(_HEAD_BYTES).lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"[")


def _array_entries(handle: IO[bytes], path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """Each item of a JSON array file, numbered from 1 (DataError if the array is unreadable)."""
    content = handle.read(limits.MAX_DOCUMENT_BYTES + 1)
    if len(content) > limits.MAX_DOCUMENT_BYTES:
        raise DataError(
            f"{path}: a JSON array over {limits.MAX_DOCUMENT_BYTES:,} bytes",
            hint="write one review per line (JSON Lines) instead",
        )
    try:
        items = limits.load_json(content.removeprefix(b"\xef\xbb\xbf"))
    except DataError as exc:
        hint = "check the file, or write one review per line (JSON Lines)"
        raise DataError(f"{path}: {exc.message}", hint=hint) from None
    if not isinstance(items, list):
        raise DataError(f"{path}: not a JSON array of reviews")
    for index, item in enumerate(items, start=1):
        yield index, item, None


def _line_entries(handle: IO[bytes]) -> Iterator[tuple[int, Any, str | None]]:
    for record in read_records(handle, FileFormat.JSONL):
        yield record.line, record.values, record.problem


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time from 1900 to 2200, as written (UTC when it names no offset)."""
    try:
        return limits.moment(value, "time")
    except DataError as exc:
        raise DataError(exc.message, hint="e.g. 2026-05-01T12:00:00Z") from None


def _rating(value: Any) -> int | None:
    if value is None:
        return None
    return limits.whole_number(value, "rating", low=0, high=5)


def _images(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if not isinstance(value, list) or not all(isinstance(image, str) for image in value):
        raise DataError("images must be a list of URLs")
    return tuple(value)


def _text(value: Any, name: str) -> str | None:
    """A text field: None when empty; a number is taken as its text; anything else refused."""
    if type(value) is str:  # the usual case, first
        return value or None
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise DataError(f"{name} must be text, not {type(value).__name__}")
