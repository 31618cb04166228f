"""Bearer auth: proactive refresh, one refresh on 401, invalid_grant means disconnected."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from joyctl.errors import AuthError, ExitCode
from joyctl.klaviyo.auth import OAuthAuth
from joyctl.klaviyo.oauth import OAuthApp
from joyctl.klaviyo.tokens import TokenBundle
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import FakeKlaviyo, collection, error_body, jsonapi

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
APP = OAuthApp(client_id="client-abc", client_secret="client-secret-xyz")


def bundle(expires_in: float, access: str = "access-old-1234") -> TokenBundle:
    return TokenBundle(
        access_token=access,
        refresh_token="refresh-0001-abcd",
        expires_at=NOW + timedelta(seconds=expires_in),
        scopes=("accounts:read", "events:write"),
    )


def token_reply(access: str, refresh: str | None = "refresh-0002-abcd") -> httpx.Response:
    body: dict[str, object] = {"access_token": access, "token_type": "Bearer", "expires_in": 3600}
    if refresh:
        body["refresh_token"] = refresh
    body["scope"] = "accounts:read events:write"
    return httpx.Response(200, json=body)


def oauth(tokens: TokenBundle, stored: list[TokenBundle], app: OAuthApp | None = APP) -> OAuthAuth:
    return OAuthAuth(tokens, app=app, on_tokens_refreshed=stored.append, now=lambda: NOW)


def accounts_ok() -> httpx.Response:
    return jsonapi(body=collection())


def test_a_fresh_token_is_sent_as_bearer_without_refreshing(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("GET", "/api/accounts", accounts_ok())
    stored: list[TokenBundle] = []
    make_client(auth=oauth(bundle(3000), stored)).get("/api/accounts")

    assert fake.requests[0].headers["authorization"] == "Bearer access-old-1234"
    assert stored == []


def test_a_token_about_to_expire_is_refreshed_first_and_stored(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/oauth/token", token_reply("access-new-5678"))
    fake.add("GET", "/api/accounts", accounts_ok())
    stored: list[TokenBundle] = []
    auth = oauth(bundle(30), stored)

    make_client(auth=auth).get("/api/accounts")

    refresh, call = fake.requests
    assert refresh.url == "https://a.klaviyo.com/oauth/token"
    assert refresh.headers["content-type"] == "application/x-www-form-urlencoded"
    expected_basic = base64.b64encode(b"client-abc:client-secret-xyz").decode()
    assert refresh.headers["authorization"] == f"Basic {expected_basic}"
    assert parse_qs(refresh.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["refresh-0001-abcd"],
    }
    assert call.headers["authorization"] == "Bearer access-new-5678"
    assert [b.access_token for b in stored] == ["access-new-5678"]
    assert stored[0].refresh_token == "refresh-0002-abcd"
    assert stored[0].expires_at == NOW + timedelta(seconds=3600)
    assert auth.tokens == stored[0]


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/oauth/token", token_reply("access-new-5678", refresh=None))
    fake.add("GET", "/api/accounts", accounts_ok())
    stored: list[TokenBundle] = []
    make_client(auth=oauth(bundle(10), stored)).get("/api/accounts")
    assert stored[0].refresh_token == "refresh-0001-abcd"


def test_a_401_refreshes_once_and_retries(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    unauthorized = jsonapi(401, error_body(401, "authentication_failed", "expired"))
    fake.add("GET", "/api/accounts", unauthorized, accounts_ok())
    fake.add("POST", "/oauth/token", token_reply("access-new-5678"))
    stored: list[TokenBundle] = []

    make_client(auth=oauth(bundle(3000), stored)).get("/api/accounts")

    auth_headers = [r.headers["authorization"] for r in fake.sent("GET", "/api/accounts")]
    assert auth_headers == ["Bearer access-old-1234", "Bearer access-new-5678"]
    assert len(stored) == 1


def test_a_second_401_is_an_auth_error_not_a_loop(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    unauthorized = jsonapi(401, error_body(401, "authentication_failed", "bad token"))
    fake.add("GET", "/api/accounts", unauthorized, unauthorized)
    fake.add("POST", "/oauth/token", token_reply("access-new-5678"))

    with pytest.raises(AuthError) as caught:
        make_client(auth=oauth(bundle(3000), [])).get("/api/accounts")

    assert caught.value.code == "authentication_failed"
    assert caught.value.exit_code == ExitCode.AUTH
    assert len(fake.sent("POST", "/oauth/token")) == 1


def test_invalid_grant_on_refresh_means_disconnected(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/oauth/token", httpx.Response(400, json={"error": "invalid_grant"}))
    stored: list[TokenBundle] = []

    with pytest.raises(AuthError) as caught:
        make_client(auth=oauth(bundle(5), stored)).get("/api/accounts")

    assert caught.value.exit_code == ExitCode.AUTH
    assert int(caught.value.exit_code) == 4
    assert "disconnected: run `joyctl connect`" in caught.value.message
    assert fake.sent("GET", "/api/accounts") == []
    assert stored == []


def test_without_an_app_a_401_is_reported_as_is(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("GET", "/api/accounts", jsonapi(401, error_body(401, "authentication_failed", "x")))
    with pytest.raises(AuthError):
        make_client(auth=oauth(bundle(3000), [], app=None)).get("/api/accounts")
    assert fake.sent("POST", "/oauth/token") == []


def test_concurrent_requests_share_one_refresh(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/oauth/token", token_reply("access-new-5678"))
    fake.always("GET", "/api/accounts", accounts_ok())
    stored: list[TokenBundle] = []
    client = make_client(auth=oauth(bundle(1), stored))

    threads = [threading.Thread(target=client.get, args=("/api/accounts",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(fake.sent("POST", "/oauth/token")) == 1
    headers = {r.headers["authorization"] for r in fake.sent("GET", "/api/accounts")}
    assert headers == {"Bearer access-new-5678"}


def test_token_holders_never_show_secrets_in_repr() -> None:
    auth = oauth(bundle(30), [])
    for text in (repr(auth), str(auth.tokens), repr(APP), repr(bundle(1))):
        for secret in ("access-old-1234", "refresh-0001-abcd", "client-secret-xyz"):
            assert secret not in text


def test_bundles_round_trip_through_a_dict() -> None:
    original = bundle(100)
    assert TokenBundle.from_dict(original.to_dict()) == original
