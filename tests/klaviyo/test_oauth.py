"""OAuth helpers: PKCE, state, authorize URL, code exchange, revoke, refused hosts."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from joyctl.errors import AuthError, ConfigError, DataError, UsageError
from joyctl.klaviyo.oauth import (
    OAuthApp,
    build_authorize_url,
    code_challenge,
    exchange_code,
    generate_pkce_pair,
    generate_state,
    read_authorization_response,
    refresh_access_token,
    revoke_refresh_token,
)
from joyctl.klaviyo.tokens import parse_token_response
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import FakeKlaviyo

VERIFIER_RULE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
APP = OAuthApp(client_id="client-abc", client_secret="client-secret-xyz")
NOW = datetime(2026, 8, 1, tzinfo=UTC)
TOKEN_RESPONSE = {
    "access_token": "at-1234567890",
    "token_type": "Bearer",
    "expires_in": 3600,
    "refresh_token": "rt-1234567890",
    "scope": "accounts:read events:write",
}


def test_pkce_verifier_format_and_s256_challenge() -> None:
    pair = generate_pkce_pair()
    assert VERIFIER_RULE.match(pair.verifier)
    digest = hashlib.sha256(pair.verifier.encode()).digest()
    assert pair.challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert "=" not in pair.challenge
    assert pair.method == "S256"
    assert pair.verifier not in repr(pair)


def test_challenge_matches_the_rfc_7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_and_state_are_random() -> None:
    assert generate_pkce_pair().verifier != generate_pkce_pair().verifier
    state = generate_state()
    assert len(state) >= 32 and state != generate_state()


def test_authorize_url_carries_every_required_parameter() -> None:
    pair = generate_pkce_pair()
    url = build_authorize_url(
        APP,
        redirect_uri="http://127.0.0.1:8976/callback",
        scopes=["accounts:read", "events:write"],
        state="st-1",
        pkce=pair,
    )
    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.klaviyo.com/oauth/authorize"
    )
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query == {
        "response_type": "code",
        "client_id": "client-abc",
        "redirect_uri": "http://127.0.0.1:8976/callback",
        "scope": "accounts:read events:write",
        "state": "st-1",
        "code_challenge_method": "S256",
        "code_challenge": pair.challenge,
    }


@pytest.mark.parametrize(
    "url", ["https://www.klaviyo.com/oauth/token", "https://klaviyo.com/oauth/token"]
)
def test_token_urls_on_www_are_refused_with_the_reason(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        OAuthApp(client_id="c", client_secret="s", token_url=url)
    assert "2025-03-31" in caught.value.message
    assert caught.value.hint is not None and "a.klaviyo.com" in caught.value.hint


def test_revoke_urls_on_www_are_refused() -> None:
    with pytest.raises(ConfigError):
        OAuthApp(client_id="c", revoke_url="https://www.klaviyo.com/oauth/revoke")


def test_plain_http_is_only_for_loopback() -> None:
    with pytest.raises(ConfigError):
        OAuthApp(client_id="c", token_url="http://a.klaviyo.com/oauth/token")
    OAuthApp(client_id="c", token_url="http://127.0.0.1:9/oauth/token")


def test_an_emulator_serves_every_oauth_url() -> None:
    app = OAuthApp.for_base_url("http://127.0.0.1:8765/", "c")
    assert app.authorize_url == "http://127.0.0.1:8765/oauth/authorize"
    assert app.token_url == "http://127.0.0.1:8765/oauth/token"
    real = OAuthApp.for_base_url("https://a.klaviyo.com", "c")
    assert real.authorize_url == "https://www.klaviyo.com/oauth/authorize"
    assert real.revoke_url == "https://a.klaviyo.com/oauth/revoke"


def test_code_exchange_posts_a_form_with_basic_auth(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/oauth/token", httpx.Response(200, json=TOKEN_RESPONSE))
    pair = generate_pkce_pair()
    client = make_client()

    tokens = exchange_code(
        client.http,
        APP,
        code="auth-code-1",
        code_verifier=pair.verifier,
        redirect_uri="http://127.0.0.1:8976/callback",
        now=NOW,
    )

    request = fake.requests[0]
    assert request.url == "https://a.klaviyo.com/oauth/token"
    expected = base64.b64encode(b"client-abc:client-secret-xyz").decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["authorization_code"],
        "code": ["auth-code-1"],
        "code_verifier": [pair.verifier],
        "redirect_uri": ["http://127.0.0.1:8976/callback"],
    }
    assert tokens.access_token == "at-1234567890"
    assert tokens.refresh_token == "rt-1234567890"
    assert tokens.expires_at == NOW + timedelta(hours=1)
    assert tokens.scopes == ("accounts:read", "events:write")


def test_a_bad_verifier_is_refused_before_sending(make_client: ClientFactory) -> None:
    with pytest.raises(UsageError):
        exchange_code(
            make_client().http, APP, code="c", code_verifier="short", redirect_uri="http://x"
        )


def test_token_calls_need_the_client_secret(make_client: ClientFactory) -> None:
    with pytest.raises(UsageError) as caught:
        refresh_access_token(make_client().http, OAuthApp(client_id="c"), "rt")
    assert caught.value.hint is not None and "JOYCTL_KLAVIYO_CLIENT_SECRET" in caught.value.hint


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (httpx.Response(401, json={"error": "invalid_client"}), "invalid_client"),
        (httpx.Response(400, json={"error": "invalid_grant"}), "disconnected"),
        (httpx.Response(403, text="<html>blocked</html>"), "oauth_failed"),
    ],
)
def test_refresh_failures_are_auth_errors(
    fake: FakeKlaviyo, make_client: ClientFactory, reply: httpx.Response, code: str
) -> None:
    fake.add("POST", "/oauth/token", reply)
    with pytest.raises(AuthError) as caught:
        refresh_access_token(make_client().http, APP, "rt-1")
    assert caught.value.code == code


def test_revoke_sends_the_refresh_token(fake: FakeKlaviyo, make_client: ClientFactory) -> None:
    fake.add("POST", "/oauth/revoke", httpx.Response(200))
    assert revoke_refresh_token(make_client().http, APP, "rt-1") is True
    form = parse_qs(fake.requests[0].content.decode())
    assert form == {"token": ["rt-1"], "token_type_hint": ["refresh_token"]}
    assert fake.requests[0].headers["authorization"].startswith("Basic ")


def test_revoking_an_already_revoked_token_is_fine(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("POST", "/oauth/revoke", httpx.Response(400, json={"error": "invalid_grant"}))
    assert revoke_refresh_token(make_client().http, APP, "rt-1") is False


def test_a_malformed_token_response_is_a_data_error() -> None:
    with pytest.raises(DataError):
        parse_token_response({"token_type": "Bearer"})


def test_token_response_without_expiry_or_scope() -> None:
    tokens = parse_token_response({"access_token": "at"})
    assert tokens.expires_at is None and tokens.scopes == () and tokens.refresh_token is None


def test_the_redirect_yields_the_code_when_state_matches() -> None:
    url = "http://127.0.0.1:8976/callback?code=abc&state=st-1"
    assert read_authorization_response(url, expected_state="st-1") == "abc"
    assert read_authorization_response("?code=abc&state=st-1", expected_state="st-1") == "abc"


def test_a_state_mismatch_is_rejected() -> None:
    with pytest.raises(AuthError) as caught:
        read_authorization_response("http://x/cb?code=abc&state=other", expected_state="st-1")
    assert caught.value.code == "state_mismatch"


def test_a_denied_authorization_is_reported() -> None:
    url = "http://x/cb?error=access_denied&error_description=User+said+no&state=st-1"
    with pytest.raises(AuthError) as caught:
        read_authorization_response(url, expected_state="st-1")
    assert "access_denied" in caught.value.message
