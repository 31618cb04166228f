"""`--debug` logs requests and responses, and no secret ever reaches the log."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from joyctl.errors import DataError
from joyctl.klaviyo.auth import ApiKeyAuth, OAuthAuth
from joyctl.klaviyo.debuglog import LOGGER_NAME, HttpDebugLog
from joyctl.klaviyo.oauth import OAuthApp, exchange_code, generate_pkce_pair
from joyctl.klaviyo.redact import Redactor
from joyctl.klaviyo.resources.webhooks import create_webhook
from joyctl.klaviyo.tokens import TokenBundle
from tests.klaviyo.conftest import ClientFactory
from tests.klaviyo.support import FakeKlaviyo, collection, error_body, jsonapi, resource

API_KEY = "pk_live_abcdef1234567890"
OLD_ACCESS, NEW_ACCESS = "at-old-SECRET-0001", "at-new-SECRET-0002"
OLD_REFRESH, NEW_REFRESH = "rt-old-SECRET-0003", "rt-new-SECRET-0004"
CLIENT_SECRET = "cs-SECRET-0005-client"
AUTH_CODE = "code-SECRET-0006"
WEBHOOK_SECRET = "whsec-SECRET-0007-abcdefgh"
NOW = datetime(2026, 8, 1, tzinfo=UTC)
APP = OAuthApp(client_id="client-abc", client_secret=CLIENT_SECRET)
ALL_SECRETS = [OLD_ACCESS, NEW_ACCESS, OLD_REFRESH, NEW_REFRESH, CLIENT_SECRET, AUTH_CODE]
ALL_SECRETS += [WEBHOOK_SECRET]


def token_reply(access: str, refresh: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={"access_token": access, "refresh_token": refresh, "expires_in": 3600},
    )


def assert_clean(log: str, secrets: list[str]) -> None:
    basic = base64.b64encode(f"client-abc:{CLIENT_SECRET}".encode()).decode()
    for secret in [*secrets, basic]:
        assert secret not in log, f"a secret leaked into the debug log: {secret[:6]}..."


def test_oauth_traffic_is_logged_without_its_secrets(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    pkce = generate_pkce_pair()
    fake.add("POST", "/oauth/token", token_reply(OLD_ACCESS, OLD_REFRESH))
    fake.add("POST", "/oauth/token", token_reply(NEW_ACCESS, NEW_REFRESH))
    fake.add("POST", "/api/webhooks", jsonapi(201, {"data": resource("webhook", "W1", name="n")}))
    unauthorized = jsonapi(401, error_body(401, "authentication_failed", f"bad {OLD_ACCESS}"))
    fake.add("GET", "/api/accounts", unauthorized, jsonapi(body=collection()))
    lines: list[str] = []

    connect = make_client(debug=True, debug_sink=lines.append)
    tokens = exchange_code(
        connect.http, APP, code=AUTH_CODE, code_verifier=pkce.verifier, redirect_uri="http://x"
    )
    auth = OAuthAuth(
        TokenBundle(tokens.access_token, tokens.refresh_token, NOW + timedelta(hours=1)),
        app=APP,
        now=lambda: NOW,
    )
    client = make_client(auth=auth, debug=True, debug_sink=lines.append)
    create_webhook(
        client,
        name="n",
        endpoint_url="https://hooks.example.com/k",
        secret_key=WEBHOOK_SECRET,
        topic_ids=["event:klaviyo.submitted_review"],
    )
    client.get("/api/accounts")

    log = "\n".join(lines)
    assert_clean(log, [*ALL_SECRETS, pkce.verifier])
    assert "--> POST https://a.klaviyo.com/oauth/token" in log
    assert "<-- 201 POST https://a.klaviyo.com/api/webhooks in " in log
    assert "authorization: Bearer [redacted]" in log
    assert "authorization: Basic [redacted]" in log
    assert "grant_type=refresh_token" in log
    assert '"code": "authentication_failed"' in log
    assert "event:klaviyo.submitted_review" in log


def test_api_keys_are_redacted_in_headers_and_bodies(
    fake: FakeKlaviyo, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add("GET", "/api/accounts", jsonapi(400, error_body(400, "x", f"key {API_KEY} bad")))
    client = make_client(auth=ApiKeyAuth(API_KEY), debug=True)

    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME), pytest.raises(DataError) as caught:
        client.get("/api/accounts")

    log = caplog.text
    assert "Klaviyo-API-Key [redacted]" in log
    assert_clean(log, [API_KEY])
    assert_clean(f"{caught.value} {caught.value.message} {caught.value!r}", [API_KEY])


def test_secrets_echoed_by_the_server_stay_out_of_errors(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    echoed = error_body(400, "invalid", f"token {OLD_ACCESS} is malformed")
    fake.add("GET", "/api/accounts", jsonapi(400, echoed))
    auth = OAuthAuth(TokenBundle(OLD_ACCESS), app=APP)
    with pytest.raises(DataError) as caught:
        make_client(auth=auth).get("/api/accounts")
    assert "is malformed" in caught.value.message
    assert_clean(f"{caught.value} {caught.value.message}", [OLD_ACCESS])


def test_without_debug_nothing_is_logged(
    fake: FakeKlaviyo, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add("GET", "/api/accounts", jsonapi(body=collection()))
    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME):
        make_client(auth=ApiKeyAuth(API_KEY)).get("/api/accounts")
    assert caplog.records == []


def test_transport_errors_and_retries_are_logged(
    fake: FakeKlaviyo, make_client: ClientFactory
) -> None:
    fake.add("GET", "/api/reviews", httpx.ReadError("reset"), jsonapi(body=collection()))
    lines: list[str] = []
    make_client(debug=True, debug_sink=lines.append).get("/api/reviews")
    log = "\n".join(lines)
    assert "<-- ReadError GET https://a.klaviyo.com/api/reviews: reset" in log
    assert "retrying in" in log


def test_long_bodies_are_truncated_after_redaction() -> None:
    lines: list[str] = []
    log = HttpDebugLog(lines.append, Redactor(lambda: ["secret-value-123"]), max_body=30)
    body = b'{"note": "' + b"x" * 15 + b'secret-value-123", "more": "' + b"y" * 100 + b'"}'
    request = httpx.Request("POST", "https://a.klaviyo.com/api/events", content=body)
    request.headers["content-type"] = "application/vnd.api+json"

    log.on_request(request)

    assert "secret-val" not in lines[0]
    assert "more characters]" in lines[0]


def test_query_strings_and_form_codes_are_redacted() -> None:
    redactor = Redactor()
    url = httpx.URL("http://127.0.0.1/cb?code=abc12345&state=s1&company_id=AbC123")
    assert redactor.url(url) == "http://127.0.0.1/cb?code=%5Bredacted%5D&state=s1&company_id=AbC123"
    form = redactor.body(
        b"code=abc12345&code_verifier=v&grant_type=x", "application/x-www-form-urlencoded"
    )
    assert "abc12345" not in form and "grant_type=x" in form
