"""The client against the local Klaviyo emulator: credentials, OAuth, errors, redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from joyctl.errors import AuthError, ExitCode, PermissionDeniedError, PlanGateError
from joyctl.klaviyo.auth import ApiKeyAuth, OAuthAuth
from joyctl.klaviyo.oauth import refresh_access_token, revoke_refresh_token
from joyctl.klaviyo.resources.accounts import get_account
from joyctl.klaviyo.resources.reviews import list_reviews
from joyctl.klaviyo.resources.webhooks import list_webhooks
from joyctl.klaviyo.tokens import TokenBundle
from tests.klaviyo.conftest import SandboxFactory
from tests.klaviyo.sandbox_support import (
    app_for,
    client_for,
    connect,
    control,
    inspect,
    key_auth,
)

REVIEW_SCOPES = "accounts:read reviews:read webhooks:read webhooks:write"


def test_a_private_key_reads_the_account(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox()
    with client_for(server, key_auth(server)) as client:
        account = get_account(client)
    assert account.id == server.credentials.account_id
    assert account.public_api_key == server.credentials.public_api_key
    assert account.test_account is True


def test_a_wrong_private_key_is_an_auth_error(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox()
    client = client_for(server, ApiKeyAuth("pk_not_a_real_key_000"))
    with client, pytest.raises(AuthError) as caught:
        get_account(client)
    assert caught.value.code == "authentication_failed"
    assert caught.value.exit_code == ExitCode.AUTH


def test_connect_by_oauth_then_use_the_grant(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(auto_consent=True)
    tokens = connect(server, REVIEW_SCOPES)
    assert set(tokens.scopes) == set(REVIEW_SCOPES.split())
    auth = OAuthAuth(tokens, app=app_for(server))
    with client_for(server, auth) as client:
        assert get_account(client).id == server.credentials.account_id
        assert len(list(list_reviews(client))) == 36
        assert list_webhooks(client) == []


def test_an_expired_token_is_refreshed_after_a_401(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(auto_consent=True)
    stored: list[TokenBundle] = []
    auth = OAuthAuth(
        connect(server, REVIEW_SCOPES), app=app_for(server), on_tokens_refreshed=stored.append
    )
    control(server, "clock", {"advance_seconds": 7200})

    with client_for(server, auth) as client:
        get_account(client)

    assert len(stored) == 1
    assert inspect(server)["requests"]["by_status"].get("401") == 1


def test_a_token_close_to_expiry_is_refreshed_first(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(auto_consent=True, access_token_lifetime=30)
    stored: list[TokenBundle] = []
    auth = OAuthAuth(
        connect(server, REVIEW_SCOPES), app=app_for(server), on_tokens_refreshed=stored.append
    )
    with client_for(server, auth) as client:
        get_account(client)
    assert len(stored) == 1
    assert "401" not in inspect(server)["requests"]["by_status"]


def test_a_revoked_grant_means_disconnected(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(auto_consent=True)
    tokens = connect(server, REVIEW_SCOPES)
    assert tokens.refresh_token is not None
    app = app_for(server)

    with client_for(server, None) as connection:
        assert revoke_refresh_token(connection.http, app, tokens.refresh_token) is True
        assert revoke_refresh_token(connection.http, app, tokens.refresh_token) is False
        with pytest.raises(AuthError) as refused:
            refresh_access_token(connection.http, app, tokens.refresh_token)
    assert refused.value.code == "disconnected"

    expired = TokenBundle(
        tokens.access_token, tokens.refresh_token, datetime.now(UTC) - timedelta(seconds=1)
    )
    client = client_for(server, OAuthAuth(expired, app=app))
    with client, pytest.raises(AuthError) as caught:
        get_account(client)
    assert caught.value.exit_code == ExitCode.AUTH
    assert "disconnected: run `joyctl connect`" in caught.value.message
    assert inspect(server)["tokens"]["grants"][-1]["revoked"] is True


def test_a_missing_scope_names_the_scope(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox(auto_consent=True)
    auth = OAuthAuth(connect(server, "accounts:read"), app=app_for(server))
    client = client_for(server, auth)
    with client, pytest.raises(PermissionDeniedError) as caught:
        list(list_reviews(client))
    assert not isinstance(caught.value, PlanGateError)
    assert "reviews:read" in caught.value.message


def test_webhooks_with_a_private_key_hit_the_plan_gate(make_sandbox: SandboxFactory) -> None:
    server = make_sandbox()
    client = client_for(server, key_auth(server))
    with client, pytest.raises(PlanGateError) as caught:
        list_webhooks(client)
    assert "Advanced KDP" in caught.value.message


def test_the_debug_log_of_connecting_and_calling_holds_no_secret(
    make_sandbox: SandboxFactory,
) -> None:
    server = make_sandbox(auto_consent=True, access_token_lifetime=30)
    lines: list[str] = []
    debug = {"debug": True, "debug_sink": lines.append}
    tokens = connect(server, REVIEW_SCOPES, **debug)
    stored: list[TokenBundle] = []
    auth = OAuthAuth(tokens, app=app_for(server), on_tokens_refreshed=stored.append)
    with client_for(server, auth, **debug) as client:
        get_account(client)
    with client_for(server, key_auth(server), **debug) as client:
        get_account(client)

    log = "\n".join(lines)
    secrets = [server.credentials.client_secret, server.credentials.private_key]
    for bundle in [tokens, *stored]:
        secrets += [bundle.access_token, bundle.refresh_token or "unset"]
    assert "--> POST" in log and "/oauth/token" in log and "<-- 200 GET" in log
    for secret in secrets:
        assert secret not in log
