"""What a submitted-review webhook event says about its review, whatever its properties are named.

Klaviyo documents a delivery's payload only as "the same structure as a Get Event API call";
the property names of a Submitted Review event are not documented. This module is the one place
that decides which names are read (README, "Webhook payloads"):

- the review id: an event property whose name, lower-cased and stripped of everything but
  letters and digits, is `reviewid` (`review_id`, `Review ID`, `reviewId`, `$review_id`, ...),
  or an `id` inside a `review` object;
- the reviewer's email: a property named `email` the same way (`Email`, `$email`), or
  `revieweremail`, `authoremail`, `reviewemail`, `emailaddress`; else an `included` profile of
  the payload; else the event's profile, read with GET /api/profiles/{id};
- the product: `productid`, `productexternalid` or `externalproductid`, or an `external_id`
  inside a `product` object;
- the time: the event's `datetime`, else its `timestamp` (seconds since the epoch).

An event without a review id is matched by `match_review`: the reviews Klaviyo lists as created
within the lookup window of the event's time, written by the event's email and, when the event
names one, for its product. Exactly one must remain; when several do, the one the ledger has
not seen yet is taken (another event already took the others), and when the ledger has seen
them all, the event's review is decided whichever it is (`already done`). Anything else leaves
the event unmatched, with the reason, for `joyctl webhooks replay` to try again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from joyctl.klaviyo.models import Review as KlaviyoReview

REVIEW_ID_NAMES = frozenset({"reviewid"})
EMAIL_NAMES = frozenset({"email", "revieweremail", "authoremail", "reviewemail", "emailaddress"})
PRODUCT_NAMES = frozenset({"productid", "productexternalid", "externalproductid"})
MAX_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class EventClues:
    """What one event tells about its review; None where it says nothing usable."""

    review_id: str | None
    email: str | None
    product_id: str | None
    occurred_at: datetime | None
    profile_id: str | None


@dataclass(frozen=True, slots=True)
class Match:
    """The review an event without an id is about, or why none could be told apart."""

    review: KlaviyoReview | None
    reason: str | None = None
    settled: bool = False
    """No single review, but every candidate is decided already: so is the event's review."""


def plain_name(name: str) -> str:
    """A property name compared without case, spaces or punctuation: `Review ID` -> `reviewid`."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def event_properties(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The event's properties (a Get Event resource keeps them under attributes)."""
    attributes = payload.get("attributes")
    source = attributes if isinstance(attributes, dict) else payload
    found = source.get("event_properties")
    return found if isinstance(found, dict) else {}


def review_id_in(properties: Mapping[str, Any]) -> str | None:
    """The review id an event's properties carry under any of the accepted names."""
    found = _named(properties, REVIEW_ID_NAMES)
    review = _nested(properties, "review")
    if found is None and review is not None:
        found = review.get("id")
    return _identifier(found)


def event_clues(payload: Mapping[str, Any]) -> EventClues:
    """Everything usable about the review in one event's payload; never raises."""
    properties = event_properties(payload)
    attributes = payload.get("attributes")
    attributes = attributes if isinstance(attributes, dict) else {}
    product = _nested(properties, "product")
    product_id = _named(properties, PRODUCT_NAMES)
    if product_id is None and product is not None:
        product_id = product.get("external_id")
    return EventClues(
        review_id=review_id_in(properties),
        email=_email(_named(properties, EMAIL_NAMES)) or _included_email(payload),
        product_id=_identifier(product_id),
        occurred_at=_moment(attributes.get("datetime"), attributes.get("timestamp")),
        profile_id=_profile_id(payload),
    )


def match_review(
    clues: EventClues,
    email: str,
    candidates: Sequence[KlaviyoReview],
    known_ids: set[str],
    window: timedelta,
) -> Match:
    """The one review among `candidates` that the event is about (see the module docstring)."""
    moment = clues.occurred_at
    if moment is None:
        return Match(None, "the event has no time to look its review up by")
    wanted = email.strip().lower()
    found = [
        review
        for review in candidates
        if (review.email or "").strip().lower() == wanted
        and (clues.product_id is None or _product_of(review) == clues.product_id)
        and (review.created is None or abs(_aware(review.created) - moment) <= window)
    ]
    around = f"within {_minutes(window)} of {moment.isoformat()}"
    product = f" for product {clues.product_id}" if clues.product_id else ""
    if len(found) == 1:
        return Match(found[0])
    if not found:
        return Match(None, f"no review by {wanted}{product} was created {around}")
    new = [review for review in found if review.id not in known_ids]
    if len(new) == 1:
        return Match(new[0])
    several = f"{len(found)} reviews by {wanted}{product} were created {around}"
    if not new:
        return Match(None, f"{several}, all of them decided already", settled=True)
    return Match(None, several)


def _named(properties: Mapping[str, Any], names: frozenset[str]) -> Any:
    for key, value in properties.items():
        if isinstance(key, str) and plain_name(key) in names and value not in (None, ""):
            return value
    return None


def _nested(properties: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for key, value in properties.items():
        if isinstance(key, str) and plain_name(key) == name and isinstance(value, dict):
            return value
    return None


def _identifier(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text if text and len(text) <= MAX_ID_LENGTH else None


def _email(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    return text if "@" in text and len(text) <= 320 else None


def _included_email(payload: Mapping[str, Any]) -> str | None:
    included = payload.get("included")
    if not isinstance(included, list):
        return None
    for item in included:
        if isinstance(item, dict) and item.get("type") == "profile":
            attributes = item.get("attributes")
            if isinstance(attributes, dict):
                found = _email(attributes.get("email"))
                if found:
                    return found
    return None


def _profile_id(payload: Mapping[str, Any]) -> str | None:
    relationships = payload.get("relationships")
    profile = relationships.get("profile") if isinstance(relationships, dict) else None
    data = profile.get("data") if isinstance(profile, dict) else None
    return _identifier(data.get("id")) if isinstance(data, dict) else None


def _moment(text: Any, timestamp: Any) -> datetime | None:
    if isinstance(text, str):
        try:
            return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        try:
            return datetime.fromtimestamp(timestamp, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _product_of(review: KlaviyoReview) -> str | None:
    return review.product.external_id if review.product else None


def _minutes(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"
