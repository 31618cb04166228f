"""Klaviyo system-webhook signatures.

The recipe (klaviyo-api.md section 6.3): lowercase hex HMAC-SHA256, keyed with the webhook's
`secret_key`, over the raw body bytes followed directly by the `Klaviyo-Timestamp` header value.
The sandbox signs with `sign`; the receiver checks with `verify` (constant-time).
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
    expected = sign(secret, raw_body, timestamp_header)
    return hmac.compare_digest(expected, signature.strip().lower())
