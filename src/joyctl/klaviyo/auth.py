"""Credentials applied to each request as it is sent (httpx auth flows).

`ApiKeyAuth` sends a private key. `OAuthAuth` sends a bearer token and keeps it fresh: it
refreshes shortly before expiry, and once more if Klaviyo still answers 401, then hands the new
bundle to `on_tokens_refreshed` so the caller can store it (a rotated refresh token that is not
stored would disconnect the next run). A lock makes concurrent requests share one refresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from datetime import UTC, datetime

import httpx

from joyctl.errors import UsageError
from joyctl.klaviyo.oauth import OAuthApp, refresh_access_token
from joyctl.klaviyo.tokens import REDACTED, TokenBundle

TokensRefreshed = Callable[[TokenBundle], None]
TokenRefresher = Callable[[str], TokenBundle]
DEFAULT_REFRESH_MARGIN = 60.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class ApiKeyAuth(httpx.Auth):
    """`Authorization: Klaviyo-API-Key pk_...`."""

    def __init__(self, api_key: str) -> None:
        if not api_key.strip():
            raise UsageError("the Klaviyo API key is empty")
        self._api_key = api_key.strip()

    def __repr__(self) -> str:
        return f"ApiKeyAuth(api_key={REDACTED!r})"

    def secrets(self) -> tuple[str, ...]:
        return (self._api_key,)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Klaviyo-API-Key {self._api_key}"
        yield request


class OAuthAuth(httpx.Auth):
    """`Authorization: Bearer <access token>`, refreshed before expiry and once on a 401.

    Without an `app` (for example a bare access token from the environment) nothing can be
    refreshed, and a 401 is reported as it is.
    """

    def __init__(
        self,
        tokens: TokenBundle,
        *,
        app: OAuthApp | None = None,
        on_tokens_refreshed: TokensRefreshed | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._tokens = tokens
        self._app = app
        self._on_tokens_refreshed = on_tokens_refreshed
        self._refresh_margin = refresh_margin
        self._now = now
        self._refresher: TokenRefresher | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OAuthAuth(tokens={self._tokens!r}, app={self._app!r})"

    @property
    def tokens(self) -> TokenBundle:
        return self._tokens

    def secrets(self) -> tuple[str, ...]:
        found = [self._tokens.access_token, self._tokens.refresh_token]
        if self._app is not None:
            found.append(self._app.client_secret)
        return tuple(secret for secret in found if secret)

    def attach(self, http: httpx.Client) -> None:
        """Refresh through `http` (the factory passes the client it builds)."""
        app = self._app
        if app is None:
            return

        def refresh(refresh_token: str) -> TokenBundle:
            return refresh_access_token(http, app, refresh_token, now=self._now())

        self._refresher = refresh

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._expires_soon():
            self._refresh(stale_access_token=self._tokens.access_token)
        sent_with = self._tokens.access_token
        request.headers["Authorization"] = f"Bearer {sent_with}"
        response = yield request
        if response.status_code == 401 and self._can_refresh():
            self._refresh(stale_access_token=sent_with)
            request.headers["Authorization"] = f"Bearer {self._tokens.access_token}"
            yield request

    def _can_refresh(self) -> bool:
        return self._refresher is not None and self._tokens.refresh_token is not None

    def _expires_soon(self) -> bool:
        left = self._tokens.seconds_left(self._now())
        return left is not None and left < self._refresh_margin and self._can_refresh()

    def _refresh(self, *, stale_access_token: str) -> None:
        with self._lock:
            current = self._tokens
            # Another request refreshed while this one waited for the lock: use its result.
            if current.access_token != stale_access_token:
                return
            if self._refresher is None or current.refresh_token is None:
                return
            fresh = current.with_refreshed(self._refresher(current.refresh_token))
            self._tokens = fresh
            if self._on_tokens_refreshed is not None:
                self._on_tokens_refreshed(fresh)


KlaviyoAuth = ApiKeyAuth | OAuthAuth
