"""Driving the Klaviyo client against the local emulator: connect by OAuth, inspect state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from joyctl.klaviyo.auth import ApiKeyAuth, KlaviyoAuth
from joyctl.klaviyo.client import KlaviyoClient, build_client
from joyctl.klaviyo.oauth import (
    OAuthApp,
    build_authorize_url,
    exchange_code,
    generate_pkce_pair,
    generate_state,
    read_authorization_response,
)
from joyctl.klaviyo.retry import RetryPolicy
from joyctl.klaviyo.tokens import TokenBundle

if TYPE_CHECKING:
    from joyctl.sandbox import SandboxServer

QUICK_RETRIES = RetryPolicy(base_delay=0.01, max_delay=0.05, max_attempts=8)


def app_for(server: SandboxServer) -> OAuthApp:
    credentials = server.credentials
    return OAuthApp.for_base_url(server.base_url, credentials.client_id, credentials.client_secret)


def client_for(server: SandboxServer, auth: KlaviyoAuth | None, **options: Any) -> KlaviyoClient:
    settings: dict[str, Any] = {"retry": QUICK_RETRIES, **options}
    return build_client(base_url=server.base_url, auth=auth, **settings)


def key_auth(server: SandboxServer) -> ApiKeyAuth:
    return ApiKeyAuth(server.credentials.private_key)


def connect(server: SandboxServer, scopes: str, **options: Any) -> TokenBundle:
    """The authorization-code flow with PKCE, as `joyctl connect` runs it (auto-consent on)."""
    app = app_for(server)
    pkce, state = generate_pkce_pair(), generate_state()
    redirect_uri = server.credentials.redirect_uris[0]
    url = build_authorize_url(
        app, redirect_uri=redirect_uri, scopes=scopes.split(), state=state, pkce=pkce
    )
    with httpx.Client() as browser:
        answer = browser.get(url)
    assert answer.status_code == 302, answer.text
    code = read_authorization_response(answer.headers["location"], expected_state=state)
    with client_for(server, None, **options) as client:
        return exchange_code(
            client.http, app, code=code, code_verifier=pkce.verifier, redirect_uri=redirect_uri
        )


def control(server: SandboxServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{server.base_url}/__sandbox/{path}", json=body)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def inspect(server: SandboxServer) -> dict[str, Any]:
    return server.inspect()
