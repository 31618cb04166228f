"""Deciding whether one stored webhook delivery really comes from the connected Klaviyo account.

The rules (klaviyo-api.md 6.3): an HMAC-SHA256 over the raw body followed by the
`Klaviyo-Timestamp` header, compared in constant time; `meta.klaviyo_webhook_id` must equal the
`Klaviyo-Webhook-Id` header; the account must be the profile's; and freshness comes from
`meta.timestamp`, since the header clock has been seen hours off. The signature is checked
before the body is parsed, so nothing unauthenticated is ever interpreted. Pure: no I/O.
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

STATUS_BY_REASON: dict[RejectReason, int] = {
    RejectReason.TOO_LARGE: 413,
    RejectReason.LENGTH_REQUIRED: 411,
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
        value = self.properties.get("review_id")
        return str(value) if value else None

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
    if request.body is None:
        if request.declared_length is None:
            return reject(RejectReason.LENGTH_REQUIRED, "no Content-Length header")
        return reject(
            RejectReason.TOO_LARGE,
            f"{request.declared_length} bytes; the limit is {request.max_bytes}",
        )
    headers = request.headers
    names = (signing.HEADER_WEBHOOK_ID, signing.HEADER_TIMESTAMP, signing.HEADER_SIGNATURE)
    missing = [name for name in names if not headers.get(name.lower())]
    if missing:
        return reject(RejectReason.MISSING_HEADERS, f"missing {', '.join(missing)}")
    webhook_id = headers[signing.HEADER_WEBHOOK_ID.lower()]
    secret = rules.secret_for(webhook_id)
    if secret is None:
        return reject(RejectReason.UNKNOWN_WEBHOOK, f"no secret is stored for webhook {webhook_id}")
    timestamp = headers[signing.HEADER_TIMESTAMP.lower()]
    if not signing.verify(
        secret, request.body, timestamp, headers[signing.HEADER_SIGNATURE.lower()]
    ):
        return reject(RejectReason.BAD_SIGNATURE, "the signature does not match the body")
    return _verify_document(request.body, webhook_id, rules)


def _verify_document(body: bytes, webhook_id: str, rules: VerifyRules) -> Verdict:
    try:
        document = parse_document(body)
        events = delivery_events(document)
        meta = document["meta"]
        sent_at = _sent_at(meta)
    except MalformedDeliveryError as exc:
        return reject(RejectReason.MALFORMED, str(exc))
    account = str(meta.get("klaviyo_account_id") or "")
    known = {"account_id": account or None, "sent_at": sent_at.isoformat()}
    if str(meta.get("klaviyo_webhook_id") or "") != webhook_id:
        return reject(
            RejectReason.WEBHOOK_ID_MISMATCH,
            "meta.klaviyo_webhook_id differs from the Klaviyo-Webhook-Id header",
            **known,
        )
    if account != rules.account_id:
        return reject(
            RejectReason.UNKNOWN_ACCOUNT,
            f"account {account or '(none)'} is not the connected account {rules.account_id}",
            **known,
        )
    age = (rules.now - sent_at).total_seconds()
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


def _sent_at(meta: Mapping[str, Any]) -> datetime:
    text = meta.get("timestamp")
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedDeliveryError(f"meta.timestamp is not a time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
