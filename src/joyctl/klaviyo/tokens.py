"""OAuth token bundles: what the token endpoint returns and what joyctl stores.

The repr never shows a token, so a bundle can be logged, put in an exception or printed in a
debugger without leaking it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from joyctl.errors import DataError

REDACTED = "[redacted]"


@dataclass(frozen=True, repr=False)
class TokenBundle:
    """An OAuth grant: access token, refresh token, expiry (UTC) and granted scopes."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret

    def __repr__(self) -> str:
        refresh = REDACTED if self.refresh_token else None
        expires = self.expires_at.isoformat() if self.expires_at else None
        return (
            f"TokenBundle(access_token={REDACTED!r}, refresh_token={refresh!r}, "
            f"expires_at={expires!r}, scopes={self.scopes!r}, token_type={self.token_type!r})"
        )

    __str__ = __repr__

    def seconds_left(self, now: datetime) -> float | None:
        """Seconds until the access token expires, or None when the expiry is unknown."""
        if self.expires_at is None:
            return None
        return (self.expires_at - now).total_seconds()

    def with_refreshed(self, fresh: TokenBundle) -> TokenBundle:
        """Merge a refresh response: Klaviyo may omit an unchanged refresh token or scope."""
        return replace(
            fresh,
            refresh_token=fresh.refresh_token or self.refresh_token,
            scopes=fresh.scopes or self.scopes,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the credential store (it holds secrets: keyring only)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "scopes": list(self.scopes),
            "token_type": self.token_type,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenBundle:
        expires = data.get("expires_at")
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(expires) if expires else None,
            scopes=tuple(data.get("scopes") or ()),
            token_type=str(data.get("token_type") or "Bearer"),
        )


def parse_token_response(payload: Any, *, now: datetime | None = None) -> TokenBundle:
    """Build a bundle from a token endpoint's JSON (`access_token`, `expires_in`, `scope` ...)."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("access_token"), str):
        raise DataError(
            "the token endpoint answered without an access token",
            hint="check the token URL; it must be https://a.klaviyo.com/oauth/token",
        )
    issued = now or datetime.now(UTC)
    expires_in = payload.get("expires_in")
    expires_at = None
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        expires_at = issued + timedelta(seconds=float(expires_in))
    scope = payload.get("scope")
    refresh = payload.get("refresh_token")
    return TokenBundle(
        access_token=payload["access_token"],
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=expires_at,
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
        token_type=str(payload.get("token_type") or "Bearer"),
    )
