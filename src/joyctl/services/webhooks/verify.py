"""Deciding whether one stored webhook delivery really comes from the connected Klaviyo account.

The rules (klaviyo-api.md 6.3): an HMAC-SHA256 over the raw body followed by the
`Klaviyo-Timestamp` header, compared in constant time; `meta.klaviyo_webhook_id` must equal the
`Klaviyo-Webhook-Id` header; the account must be the profile's; and freshness comes from
`meta.timestamp`, since the header clock has been seen hours off. The signature is checked
before the body is parsed, so nothing unauthenticated is ever interpreted. Pure: no I/O.

The cheap checks come first, and `screen_headers` runs them before the body is even read:
the required headers, then a secret stored for the webhook the request names. Any text in any
header gives a verdict, never an exception; text taken from headers into a verdict's detail is
shortened and escaped, since it is printed and stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joyctl.errors import DataError
from joyctl.files.limits import load_json
from joyctl.klaviyo import signing
from joyctl.ledger.deliveries import REJECTED, VERIFIED, EventKey, RejectReason, Verdict
from joyctl.services.webhooks.review_event import review_id_in

STATUS_BY_REASON: dict[RejectReason, int] = {
    RejectReason.TOO_LARGE: 413,
    RejectReason.LENGTH_REQUIRED: 411,
    RejectReason.BAD_REQUEST: 400,
    RejectReason.MISSING_HEADERS: 401,
    RejectReason.UNKNOWN_WEBHOOK: 401,
    RejectReason.BAD_SIGNATURE: 401,
    RejectReason.MALFORMED: 400,
    RejectReason.WEBHOOK_ID_MISMATCH: 403,
    RejectReason.UNKNOWN_ACCOUNT: 403,
    RejectReason.STALE: 400,
}
ACCEPTED_STATUS = 200
# Headers worth keeping with a stored delivery; anything else (cookies, auth a proxy may add)
# is dropped so that no credential ever reaches the ledger.
KEPT_HEADERS = frozenset(
    {
        signing.HEADER_WEBHOOK_ID.lower(),
        signing.HEADER_TIMESTAMP.lower(),
        signing.HEADER_SIGNATURE.lower(),
        "content-type",
        "content-length",
        "user-agent",
        "x-forwarded-for",
    }
)


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    """One request as the receiver read it; `body` is None when it was refused unread."""

    headers: Mapping[str, str]  # names in lower case
    body: bytes | None
    declared_length: int | None
    max_bytes: int


@dataclass(frozen=True, slots=True)
class VerifyRules:
    secret_for: Callable[[str], str | None]
    account_id: str
    tolerance_seconds: float
    now: datetime


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    external_id: str
    topic: str
    payload: dict[str, Any]

    @property
    def properties(self) -> dict[str, Any]:
        """The event's properties (a Get Event resource keeps them under attributes)."""
        attributes = self.payload.get("attributes")
        source = attributes if isinstance(attributes, dict) else self.payload
        found = source.get("event_properties")
        return found if isinstance(found, dict) else {}

    @property
    def review_id(self) -> str | None:
        """Under any name `review_event` accepts for it (Klaviyo does not document one)."""
        return review_id_in(self.properties)

    @property
    def key(self) -> EventKey:
        return EventKey(self.external_id, self.topic, self.review_id)


class MalformedDeliveryError(ValueError):
    """The body is not a Klaviyo delivery document."""


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name in KEPT_HEADERS}


def reject(reason: RejectReason, detail: str, **known: Any) -> Verdict:
    return Verdict(REJECTED, STATUS_BY_REASON[reason], str(reason), detail, **known)


def verify_delivery(request: DeliveryRequest, rules: VerifyRules) -> Verdict:
    """Every rule, cheapest first: the verdict on the request as a whole."""
    return verify_signature(request, rules) or verify_document(request, rules)


def verify_signature(request: DeliveryRequest, rules: VerifyRules) -> Verdict | None:
    """The checks up to the signature: a rejection, or None when the body is signed."""
    if request.body is None:
        if request.declared_length is None:
            return reject(RejectReason.LENGTH_REQUIRED, "no Content-Length header")
        return reject(
            RejectReason.TOO_LARGE,
            f"{request.declared_length} bytes; the limit is {request.max_bytes}",
        )
    secret = _secret_or_rejection(request.headers, rules)
    if isinstance(secret, Verdict):
        return secret
    headers = request.headers
    timestamp = headers[signing.HEADER_TIMESTAMP.lower()]
    if not signing.verify(
        secret, request.body, timestamp, headers[signing.HEADER_SIGNATURE.lower()]
    ):
        return reject(RejectReason.BAD_SIGNATURE, "the signature does not match the body")
    return None


def screen_headers(headers: Mapping[str, str], rules: VerifyRules) -> Verdict | None:
    """What can be refused before the body is read: missing headers, an unknown webhook."""
    found = _secret_or_rejection(headers, rules)
    return found if isinstance(found, Verdict) else None


def _secret_or_rejection(headers: Mapping[str, str], rules: VerifyRules) -> str | Verdict:
    names = (signing.HEADER_WEBHOOK_ID, signing.HEADER_TIMESTAMP, signing.HEADER_SIGNATURE)
    missing = [name for name in names if not headers.get(name.lower())]
    if missing:
        return reject(RejectReason.MISSING_HEADERS, f"missing {', '.join(missing)}")
    webhook_id = headers[signing.HEADER_WEBHOOK_ID.lower()]
    secret = rules.secret_for(webhook_id)
    if secret is None:
        return reject(
            RejectReason.UNKNOWN_WEBHOOK, f"no secret is stored for webhook {shown(webhook_id)}"
        )
    return secret


def shown(value: str, limit: int = 80) -> str:
    """Header text fit for a report line: shortened, with control characters escaped."""
    text = value if len(value) <= limit else value[:limit] + "..."
    return text if text.isprintable() and text.isascii() else repr(text)


def verify_document(request: DeliveryRequest, rules: VerifyRules) -> Verdict:
    """The rules on a signed body: a delivery document, this webhook, this account, fresh."""
    webhook_id = request.headers.get(signing.HEADER_WEBHOOK_ID.lower(), "")
    return _verify_document(request.body or b"", webhook_id, rules)


def _verify_document(body: bytes, webhook_id: str, rules: VerifyRules) -> Verdict:
    try:
        document = parse_document(body)
        events = delivery_events(document)
        meta = document["meta"]
        sent_at = _sent_at(meta)
        age = (rules.now - sent_at).total_seconds()
    except MalformedDeliveryError as exc:
        return reject(RejectReason.MALFORMED, str(exc))
    except OverflowError:  # a time at the edge of the calendar, with an offset
        return reject(RejectReason.MALFORMED, "meta.timestamp is out of range")
    account = _text(meta.get("klaviyo_account_id"))
    known = {"account_id": account[:100] or None, "sent_at": sent_at.isoformat()}
    if _text(meta.get("klaviyo_webhook_id")) != webhook_id:
        return reject(
            RejectReason.WEBHOOK_ID_MISMATCH,
            "meta.klaviyo_webhook_id differs from the Klaviyo-Webhook-Id header",
            **known,
        )
    if account != rules.account_id:
        return reject(
            RejectReason.UNKNOWN_ACCOUNT,
            f"account {shown(account) or '(none)'} is not the connected account {rules.account_id}",
            **known,
        )
    if abs(age) > rules.tolerance_seconds:
        when = "old" if age > 0 else "in the future"
        return reject(
            RejectReason.STALE,
            f"sent {abs(age):.0f}s {when}; the tolerance is {rules.tolerance_seconds:g}s",
            **known,
        )
    return Verdict(VERIFIED, ACCEPTED_STATUS, event_count=len(events), **known)


def parse_document(body: bytes) -> dict[str, Any]:
    """The delivery document of a body, within the shared bounds (`joyctl.files.limits`)."""
    try:
        document = load_json(body)
    except DataError as exc:
        raise MalformedDeliveryError(f"not JSON: {exc.message}") from None
    if not isinstance(document, dict) or not isinstance(document.get("meta"), dict):
        raise MalformedDeliveryError("not a delivery: no meta object")
    return document


def delivery_events(document: Mapping[str, Any]) -> list[DeliveryEvent]:
    items = document.get("data")
    if not isinstance(items, list):
        raise MalformedDeliveryError("not a delivery: no data list")
    events = []
    for index, item in enumerate(items):
        external_id = item.get("external_id") if isinstance(item, dict) else None
        topic = item.get("topic") if isinstance(item, dict) else None
        if not isinstance(external_id, str) or not external_id or not isinstance(topic, str):
            raise MalformedDeliveryError(f"data[{index}] lacks external_id or topic")
        payload = item.get("payload")
        events.append(
            DeliveryEvent(external_id, topic, payload if isinstance(payload, dict) else {})
        )
    return events


def _text(value: Any) -> str:
    """A string field of the document; anything else (a number, a list) counts as absent."""
    return value if isinstance(value, str) else ""


def _sent_at(meta: Mapping[str, Any]) -> datetime:
    text = meta.get("timestamp")
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:  # also an integer too long to write out
        shown_text = shown(text) if isinstance(text, str) else type(text).__name__
        raise MalformedDeliveryError(f"meta.timestamp is not a time: {shown_text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
