"""The verification rules, one by one, without a server: signature first, then the document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from joyctl.klaviyo import signing
from joyctl.ledger.deliveries import RejectReason
from joyctl.services.webhooks.verify import (
    DeliveryRequest,
    VerifyRules,
    kept_headers,
    verify_delivery,
)
from tests.webhooks.support import delivery_body, review_event, signed_headers

SECRET = "s3cret-for-tests-0123456789"
WEBHOOK = "01HWEBHOOK0000000000000000"
ACCOUNT = "AbC123"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _rules(**overrides: object) -> VerifyRules:
    values: dict[str, object] = {
        "secret_for": lambda webhook_id: SECRET if webhook_id == WEBHOOK else None,
        "account_id": ACCOUNT,
        "tolerance_seconds": 300.0,
        "now": NOW,
    }
    values.update(overrides)
    return VerifyRules(**values)  # type: ignore[arg-type]


def _request(body: bytes, headers: dict[str, str] | None = None) -> DeliveryRequest:
    sent = headers if headers is not None else signed_headers(SECRET, body, WEBHOOK)
    lowered = {name.lower(): value for name, value in sent.items()}
    return DeliveryRequest(lowered, body, len(body), 10_000)


def _body(**overrides: object) -> bytes:
    values: dict[str, object] = {"account_id": ACCOUNT, "webhook_id": WEBHOOK, "sent_at": NOW}
    values.update(overrides)
    return delivery_body([review_event("e1", "r1")], **values)  # type: ignore[arg-type]


def test_a_genuine_delivery_is_verified() -> None:
    verdict = verify_delivery(_request(_body()), _rules())
    assert (verdict.verdict, verdict.status_code, verdict.event_count) == ("verified", 200, 1)
    assert verdict.account_id == ACCOUNT


@pytest.mark.parametrize(
    ("case", "reason", "status"),
    [
        ("forged", RejectReason.BAD_SIGNATURE, 401),
        ("wrong_secret", RejectReason.BAD_SIGNATURE, 401),
        ("unknown_webhook", RejectReason.UNKNOWN_WEBHOOK, 401),
        ("no_signature", RejectReason.MISSING_HEADERS, 401),
        ("mismatched_webhook_id", RejectReason.WEBHOOK_ID_MISMATCH, 403),
        ("other_account", RejectReason.UNKNOWN_ACCOUNT, 403),
        ("stale", RejectReason.STALE, 400),
        ("future", RejectReason.STALE, 400),
        ("malformed_json", RejectReason.MALFORMED, 400),
        ("no_external_id", RejectReason.MALFORMED, 400),
    ],
)
def test_each_rule_rejects_with_its_reason(case: str, reason: RejectReason, status: int) -> None:
    request = _case(case)
    verdict = verify_delivery(request, _rules())
    assert (verdict.verdict, verdict.reason, verdict.status_code) == ("rejected", reason, status)
    assert verdict.detail
    assert SECRET not in verdict.detail


def _case(case: str) -> DeliveryRequest:
    body = _body()
    if case == "forged":
        headers = signed_headers(SECRET, body, WEBHOOK)
        headers[signing.HEADER_SIGNATURE] = "0" * 64
        return _request(body, headers)
    if case == "wrong_secret":
        return _request(body, signed_headers("another-secret-0123456789", body, WEBHOOK))
    if case == "unknown_webhook":
        other = "01HOTHERWEBHOOK00000000000"
        return _request(_body(webhook_id=other), signed_headers(SECRET, body, other))
    if case == "no_signature":
        headers = signed_headers(SECRET, body, WEBHOOK)
        del headers[signing.HEADER_SIGNATURE]
        return _request(body, headers)
    bodies = {
        "mismatched_webhook_id": _body(webhook_id="01HOTHERWEBHOOK00000000000"),
        "other_account": _body(account_id="XyZ789"),
        "stale": _body(sent_at=NOW - timedelta(seconds=301)),
        "future": _body(sent_at=NOW + timedelta(hours=1)),
        "malformed_json": b'{"data": [',
        "no_external_id": body.replace(b'"external_id": "e1"', b'"external_id": 7'),
    }
    return _request(bodies[case])


def test_tolerance_is_configurable() -> None:
    body = _body(sent_at=NOW - timedelta(minutes=30))
    assert verify_delivery(_request(body), _rules()).reason == RejectReason.STALE
    assert verify_delivery(_request(body), _rules(tolerance_seconds=3600)).verdict == "verified"


def test_an_unread_body_is_too_large_or_lacks_a_length() -> None:
    too_large = DeliveryRequest({}, None, 20_000, 10_000)
    assert verify_delivery(too_large, _rules()).reason == RejectReason.TOO_LARGE
    no_length = DeliveryRequest({}, None, None, 10_000)
    assert verify_delivery(no_length, _rules()).status_code == 411


def test_the_body_is_not_parsed_before_the_signature_holds() -> None:
    headers = signed_headers("another-secret-0123456789", b"not json", WEBHOOK)
    assert verify_delivery(_request(b"not json", headers), _rules()).reason == "bad_signature"


def test_only_known_headers_are_kept() -> None:
    headers = {"authorization": "Bearer t0ken", "cookie": "a=b", "klaviyo-signature": "ab"}
    assert kept_headers(headers) == {"klaviyo-signature": "ab"}
