"""Identifiers shaped like Klaviyo's: ULIDs for profiles and webhooks, 6 characters for lists."""

from __future__ import annotations

import secrets
import string
import uuid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALPHANUMERIC = string.ascii_letters + string.digits


def ulid(timestamp: float) -> str:
    """A 26-character ULID: 48 bits of milliseconds, then 80 random bits, Crockford base 32."""
    value = (int(timestamp * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def short_id(length: int = 6) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def hex_id(length: int = 32) -> str:
    return secrets.token_hex(length // 2)


def uuid_id() -> str:
    return str(uuid.uuid4())


def private_key() -> str:
    """Klaviyo private keys are `pk_` followed by 34 lowercase hex characters."""
    return "pk_" + secrets.token_hex(17)


def token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)
