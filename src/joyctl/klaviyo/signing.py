"""Klaviyo system-webhook signatures.

The recipe (klaviyo-api.md section 6.3): lowercase hex HMAC-SHA256, keyed with the webhook's
`secret_key`, over the raw body bytes followed directly by the `Klaviyo-Timestamp` header value.
The sandbox signs with `sign`; the receiver checks with `verify` (constant-time, on bytes).
Header values arrive as text decoded from Latin-1, so `verify` turns them back into the bytes
that were sent: a signature or timestamp holding any byte at all is a mismatch, never an error.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER_WEBHOOK_ID = "Klaviyo-Webhook-Id"
HEADER_TIMESTAMP = "Klaviyo-Timestamp"
HEADER_SIGNATURE = "Klaviyo-Signature"


def sign(secret: str, raw_body: bytes, timestamp_header: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256)
    mac.update(timestamp_header.encode("utf-8"))
    return mac.hexdigest()


def verify(secret: str, raw_body: bytes, timestamp_header: str, signature: str) -> bool:
    mac = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256)
    mac.update(_wire_bytes(timestamp_header))
    expected = mac.hexdigest().encode("ascii")
    return hmac.compare_digest(expected, _wire_bytes(signature.strip().lower()))


def _wire_bytes(header_value: str) -> bytes:
    """The bytes a header value was received as (HTTP headers are decoded as Latin-1)."""
    try:
        return header_value.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire: text that Latin-1 cannot hold
        return header_value.encode("utf-8", "backslashreplace")
