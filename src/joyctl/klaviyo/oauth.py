"""Klaviyo OAuth: PKCE, the authorize URL, code exchange, refresh and revocation.

Token and revoke calls use form bodies with HTTP Basic client authentication
(klaviyo-api.md 2.3, 2.4). They must go to `a.klaviyo.com`: since 2025-03-31 Klaviyo blocks
token and revoke traffic through `www.klaviyo.com`, so such URLs are refused up front with the
reason instead of failing later with an HTML 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from joyctl.command_line import command
from joyctl.errors import AuthError, ConfigError, UsageError
from joyctl.klaviyo.errors import map_failure, map_oauth_failure
from joyctl.klaviyo.tokens import REDACTED, TokenBundle, parse_token_response

DEFAULT_AUTHORIZE_URL = "https://www.klaviyo.com/oauth/authorize"
DEFAULT_TOKEN_URL = "https://a.klaviyo.com/oauth/token"  # noqa: S105 - a URL, not a secret
DEFAULT_REVOKE_URL = "https://a.klaviyo.com/oauth/revoke"
KLAVIYO_API_HOST = "a.klaviyo.com"
BLOCKED_TOKEN_HOSTS = frozenset({"www.klaviyo.com", "klaviyo.com"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
VERIFIER_PATTERN = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_FORM_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Accept": "application/json",
}


def check_oauth_server_url(url: str, purpose: str) -> None:
    """Refuse token or revoke URLs that Klaviyo blocks or that would send secrets in clear."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in BLOCKED_TOKEN_HOSTS:
        raise ConfigError(
            f"refusing to send the OAuth {purpose} request to {host}: Klaviyo blocks token and "
            "revoke traffic through www.klaviyo.com since 2025-03-31",
            hint=f"use https://{KLAVIYO_API_HOST}/oauth/{purpose}",
        )
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        raise ConfigError(
            f"refusing to send the OAuth {purpose} request over {parts.scheme or 'no'} scheme "
            f"to {host or url!r}: client credentials need https",
            hint=f"use https://{KLAVIYO_API_HOST}/oauth/{purpose}",
        )


@dataclass(frozen=True, repr=False)
class OAuthApp:
    """A Klaviyo OAuth app and the URLs it talks to; the repr hides the client secret."""

    client_id: str
    client_secret: str | None = None
    authorize_url: str = DEFAULT_AUTHORIZE_URL
    token_url: str = DEFAULT_TOKEN_URL
    revoke_url: str = DEFAULT_REVOKE_URL

    def __post_init__(self) -> None:
        check_oauth_server_url(self.token_url, "token")
        check_oauth_server_url(self.revoke_url, "revoke")

    def __repr__(self) -> str:
        secret = REDACTED if self.client_secret else None
        return (
            f"OAuthApp(client_id={self.client_id!r}, client_secret={secret!r}, "
            f"token_url={self.token_url!r}, revoke_url={self.revoke_url!r})"
        )

    __str__ = __repr__

    @classmethod
    def for_base_url(
        cls, base_url: str, client_id: str, client_secret: str | None = None
    ) -> OAuthApp:
        """Real Klaviyo authorizes on www and issues tokens on `a.`; an emulator does both."""
        root = base_url.rstrip("/")
        host = (urlsplit(root).hostname or "").lower()
        authorize = DEFAULT_AUTHORIZE_URL if host == KLAVIYO_API_HOST else f"{root}/oauth/authorize"
        return cls(
            client_id=client_id,
            client_secret=client_secret,
            authorize_url=authorize,
            token_url=f"{root}/oauth/token",
            revoke_url=f"{root}/oauth/revoke",
        )


@dataclass(frozen=True, repr=False)
class PkcePair:
    """A PKCE code verifier and its S256 challenge; the repr hides the verifier."""

    verifier: str
    challenge: str
    method: str = "S256"

    def __repr__(self) -> str:
        return f"PkcePair(verifier={REDACTED!r}, challenge={self.challenge!r})"


def code_challenge(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generate_pkce_pair() -> PkcePair:
    # 64 random bytes give an 86-character url-safe verifier, inside the allowed 43..128.
    verifier = secrets.token_urlsafe(64)
    return PkcePair(verifier=verifier, challenge=code_challenge(verifier))


def generate_state() -> str:
    return secrets.token_urlsafe(32)


def build_authorize_url(
    app: OAuthApp,
    *,
    redirect_uri: str,
    scopes: Iterable[str],
    state: str,
    pkce: PkcePair,
) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
            "code_challenge_method": pkce.method,
            "code_challenge": pkce.challenge,
        }
    )
    return f"{app.authorize_url}?{query}"


def read_authorization_response(redirected: str, *, expected_state: str) -> str:
    """The `code` from the redirect URL (or its query), after checking `state` and errors."""
    query = urlsplit(redirected).query if "?" in redirected else redirected.lstrip("?")
    params = {key: values[0] for key, values in parse_qs(query).items() if values}
    if "error" in params:
        description = params.get("error_description", "")
        raise AuthError(
            f"Klaviyo did not authorize joyctl ({params['error']}) {description}".strip(),
            hint=f"run `{command('connect')}` again and approve the requested access",
            code="oauth_denied",
        )
    state = params.get("state", "")
    if not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise AuthError(
            "the OAuth state does not match the login joyctl started; nothing was stored",
            hint=f"run `{command('connect')}` again; do not reuse an old redirect URL",
            code="state_mismatch",
        )
    code = params.get("code")
    if not code:
        raise UsageError("the redirect URL has no authorization code", hint="paste the full URL")
    return code


def exchange_code(
    http: httpx.Client,
    app: OAuthApp,
    *,
    code: str,
    code_verifier: str,
    redirect_uri: str,
    now: datetime | None = None,
) -> TokenBundle:
    """Trade an authorization code for tokens."""
    if not VERIFIER_PATTERN.match(code_verifier):
        raise UsageError("the PKCE code verifier has the wrong format")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": code_verifier,
        "redirect_uri": redirect_uri,
    }
    response = _post_form(http, app, app.token_url, form, action="code exchange")
    return parse_token_response(_json(response), now=now)


def refresh_access_token(
    http: httpx.Client, app: OAuthApp, refresh_token: str, *, now: datetime | None = None
) -> TokenBundle:
    """A fresh access token; `invalid_grant` raises AuthError "disconnected" (exit 4)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    response = _post_form(http, app, app.token_url, form, action="refresh")
    return parse_token_response(_json(response), now=now)


def revoke_refresh_token(http: httpx.Client, app: OAuthApp, refresh_token: str) -> bool:
    """Revoke the grant; False when Klaviyo says it was already revoked (`invalid_grant`)."""
    form = {"token": refresh_token, "token_type_hint": "refresh_token"}
    try:
        _post_form(http, app, app.revoke_url, form, action="revoke")
    except AuthError as exc:
        if exc.code == "already_revoked":
            return False
        raise
    return True


def _post_form(
    http: httpx.Client, app: OAuthApp, url: str, form: dict[str, str], *, action: str
) -> httpx.Response:
    check_oauth_server_url(url, "revoke" if action == "revoke" else "token")
    if not app.client_secret:
        raise UsageError(
            f"the OAuth {action} needs the app's client secret",
            hint="set JOYCTL_KLAVIYO_CLIENT_SECRET, pipe it on stdin, or store it in the keyring",
        )
    basic = httpx.BasicAuth(app.client_id, app.client_secret)
    try:
        response = http.post(url, data=form, headers=_FORM_HEADERS, auth=basic)
    except httpx.TransportError as exc:
        raise map_failure(exc, endpoint=None) from None
    if response.is_success:
        return response
    if action == "revoke" and response.status_code == 400 and _is_invalid_grant(response):
        raise AuthError("already revoked", code="already_revoked")
    raise map_oauth_failure(response, action=action)


def _is_invalid_grant(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") == "invalid_grant"


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None
