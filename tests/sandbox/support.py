"""Helpers for driving the sandbox with plain httpx, as any Klaviyo client would."""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from joyctl.sandbox import SandboxServer

REVISION = "2026-07-15"
# One TLS context for every test client: building one per client is what makes them slow.
TLS = ssl.create_default_context()
JSON_API = "application/vnd.api+json"


def api_headers(authorization: str | None = None) -> dict[str, str]:
    headers = {"revision": REVISION, "Accept": JSON_API, "Content-Type": JSON_API}
    if authorization is not None:
        headers["Authorization"] = authorization
    return headers


def key_client(server: SandboxServer, key: str | None = None) -> httpx.Client:
    """A client authenticated with a private key (the sandbox's own unless given)."""
    private_key = key if key is not None else server.credentials.private_key
    return httpx.Client(
        base_url=server.base_url,
        headers=api_headers(f"Klaviyo-API-Key {private_key}"),
        trust_env=False,
        verify=TLS,
    )


def bearer_client(server: SandboxServer, access_token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers=api_headers(f"Bearer {access_token}"),
        trust_env=False,
        verify=TLS,
    )


def public_client(server: SandboxServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url, headers=api_headers(), trust_env=False, verify=TLS
    )


def raw_client(server: SandboxServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, trust_env=False, verify=TLS)


def inspect(server: SandboxServer) -> dict[str, Any]:
    with raw_client(server) as client:
        response = client.get("/__sandbox/state")
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document


def control(server: SandboxServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with raw_client(server) as client:
        response = client.post(f"/__sandbox/{path}", json=body)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document


def error_of(response: httpx.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1
    error: dict[str, Any] = errors[0]
    return error


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def authorize_params(server: SandboxServer, scopes: str, challenge: str) -> dict[str, str]:
    credentials = server.credentials
    return {
        "response_type": "code",
        "client_id": credentials.client_id,
        "redirect_uri": credentials.redirect_uris[0],
        "scope": scopes,
        "state": "xyzzy",
        "code_challenge_method": "S256",
        "code_challenge": challenge,
    }


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def obtain_code(server: SandboxServer, scopes: str) -> tuple[str, str]:
    """Authorize with auto-consent on; returns (code, verifier)."""
    verifier, challenge = pkce_pair()
    control(server, "settings", {"auto_consent": True})
    with raw_client(server) as client:
        response = client.get(
            "/oauth/authorize", params=authorize_params(server, scopes, challenge)
        )
    return redirect_query(response)["code"], verifier


def token_request(server: SandboxServer, form: dict[str, str]) -> httpx.Response:
    credentials = server.credentials
    with raw_client(server) as client:
        return client.post(
            "/oauth/token",
            data=form,
            headers={"Authorization": basic(credentials.client_id, credentials.client_secret)},
        )


def connect(server: SandboxServer, scopes: str) -> dict[str, Any]:
    """The whole authorization-code flow; returns the token response."""
    code, verifier = obtain_code(server, scopes)
    response = token_request(
        server,
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": server.credentials.redirect_uris[0],
        },
    )
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def profile_body(email: str, **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "profile", "attributes": {"email": email, **attributes}}}


def event_body(
    email: str, metric: str = "Joy: Earn Point", unique_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "properties": {"Earned points": 50},
        "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
        "profile": {"data": {"type": "profile", "attributes": {"email": email}}},
        **extra,
    }
    if unique_id is not None:
        attributes["unique_id"] = unique_id
    return {"data": {"type": "event", "attributes": attributes}}


def review_body(
    email: str, content: str = "A lovely product that I use every day.", **extra: Any
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "review_type": "review",
        "email": email,
        "author": "Test Author",
        "content": content,
        "rating": 5,
        "product": {"external_id": "8840012001", "integration_key": "shopify"},
        **extra,
    }
    return {"data": {"type": "review", "attributes": attributes}}
