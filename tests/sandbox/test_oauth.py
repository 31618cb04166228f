"""OAuth: authorize (consent page or auto-consent), token with PKCE, refresh, revoke."""

from __future__ import annotations

import re

from joyctl.sandbox import SandboxServer
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import (
    authorize_params,
    basic,
    bearer_client,
    connect,
    control,
    inspect,
    obtain_code,
    pkce_pair,
    raw_client,
    redirect_query,
    token_request,
)

SCOPES = "accounts:read reviews:read webhooks:read webhooks:write"


def _exchange(server: SandboxServer, code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": server.credentials.redirect_uris[0],
    }


def test_consent_page_then_allow(server: SandboxServer) -> None:
    _, challenge = pkce_pair()
    with raw_client(server) as client:
        page = client.get("/oauth/authorize", params=authorize_params(server, SCOPES, challenge))
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "reviews:read" in page.text
        request_id = re.search(r"name='request_id' value='([^']+)'", page.text)
        assert request_id is not None
        answer = client.post(
            "/oauth/authorize", data={"request_id": request_id.group(1), "decision": "allow"}
        )
    query = redirect_query(answer)
    assert query["state"] == "xyzzy"
    assert query["code"]


def test_consent_page_deny_redirects_with_access_denied(server: SandboxServer) -> None:
    _, challenge = pkce_pair()
    with raw_client(server) as client:
        page = client.get("/oauth/authorize", params=authorize_params(server, SCOPES, challenge))
        request_id = re.search(r"name='request_id' value='([^']+)'", page.text)
        assert request_id is not None
        answer = client.post(
            "/oauth/authorize", data={"request_id": request_id.group(1), "decision": "deny"}
        )
    assert redirect_query(answer) == {
        "error": "access_denied",
        "error_description": "The user denied access.",
        "state": "xyzzy",
    }


def test_auto_consent_redirects_at_once(make_server: ServerFactory) -> None:
    server = make_server(auto_consent=True)
    _, challenge = pkce_pair()
    with raw_client(server) as client:
        response = client.get(
            "/oauth/authorize", params=authorize_params(server, SCOPES, challenge)
        )
    assert "code" in redirect_query(response)


def test_unknown_client_and_inexact_redirect_are_not_redirected(server: SandboxServer) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(server, SCOPES, challenge)
    with raw_client(server) as client:
        unknown = client.get("/oauth/authorize", params={**params, "client_id": "nope"})
        inexact = client.get(
            "/oauth/authorize", params={**params, "redirect_uri": params["redirect_uri"] + "/"}
        )
    assert unknown.status_code == 400
    assert inexact.status_code == 400
    assert "location" not in inexact.headers


def test_pkce_is_mandatory(server: SandboxServer) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(server, SCOPES, challenge)
    with raw_client(server) as client:
        plain = client.get("/oauth/authorize", params={**params, "code_challenge_method": "plain"})
        missing = client.get("/oauth/authorize", params={**params, "code_challenge": ""})
    assert redirect_query(plain)["error"] == "invalid_request"
    assert redirect_query(missing)["error"] == "invalid_request"


def test_scopes_must_be_within_the_app(server: SandboxServer) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(server, "accounts:read made-up:scope", challenge)
    with raw_client(server) as client:
        response = client.get("/oauth/authorize", params=params)
    query = redirect_query(response)
    assert query["error"] == "invalid_scope"
    assert "made-up:scope" in query["error_description"]


def test_response_type_and_state_are_checked(server: SandboxServer) -> None:
    _, challenge = pkce_pair()
    params = authorize_params(server, SCOPES, challenge)
    with raw_client(server) as client:
        token_type = client.get("/oauth/authorize", params={**params, "response_type": "token"})
        no_state = client.get("/oauth/authorize", params={**params, "state": ""})
    assert redirect_query(token_type)["error"] == "unsupported_response_type"
    assert redirect_query(no_state)["error"] == "invalid_request"


def test_code_exchange_returns_tokens_with_granted_scopes(server: SandboxServer) -> None:
    tokens = connect(server, SCOPES)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == set(SCOPES.split())
    with bearer_client(server, tokens["access_token"]) as client:
        assert client.get("/api/reviews").status_code == 200


def test_accounts_read_is_always_granted(server: SandboxServer) -> None:
    tokens = connect(server, "reviews:read")
    assert "accounts:read" in tokens["scope"].split()


def test_verifier_format_is_checked(server: SandboxServer) -> None:
    code, _ = obtain_code(server, SCOPES)
    response = token_request(server, _exchange(server, code, "short!"))
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": 'Invalid "code_verifier"',
    }


def test_verifier_must_match_the_challenge(server: SandboxServer) -> None:
    code, _ = obtain_code(server, SCOPES)
    other_verifier, _ = pkce_pair()
    response = token_request(server, _exchange(server, code, other_verifier))
    assert response.status_code == 400
    assert response.json()["error_description"] == "Code challenge failed."


def test_codes_are_single_use(server: SandboxServer) -> None:
    code, verifier = obtain_code(server, SCOPES)
    assert token_request(server, _exchange(server, code, verifier)).status_code == 200
    again = token_request(server, _exchange(server, code, verifier))
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_client_authentication_is_basic(server: SandboxServer) -> None:
    code, verifier = obtain_code(server, SCOPES)
    credentials = server.credentials
    with raw_client(server) as client:
        missing = client.post("/oauth/token", data=_exchange(server, code, verifier))
        wrong = client.post(
            "/oauth/token",
            data=_exchange(server, code, verifier),
            headers={"Authorization": basic(credentials.client_id, "wrong-secret")},
        )
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_client"}


def test_token_body_must_be_form_encoded(server: SandboxServer) -> None:
    code, verifier = obtain_code(server, SCOPES)
    credentials = server.credentials
    with raw_client(server) as client:
        response = client.post(
            "/oauth/token",
            json=_exchange(server, code, verifier),
            headers={"Authorization": basic(credentials.client_id, credentials.client_secret)},
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant_type"


def test_refresh_keeps_the_refresh_token_and_the_old_access_token(server: SandboxServer) -> None:
    tokens = connect(server, SCOPES)
    refreshed = token_request(
        server, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    ).json()
    assert refreshed["refresh_token"] == tokens["refresh_token"]
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["scope"] == tokens["scope"]
    for access_token in (tokens["access_token"], refreshed["access_token"]):
        with bearer_client(server, access_token) as client:
            assert client.get("/api/accounts").status_code == 200


def test_access_tokens_expire(server: SandboxServer) -> None:
    tokens = connect(server, SCOPES)
    control(server, "clock", {"advance_seconds": 3601})
    with bearer_client(server, tokens["access_token"]) as client:
        response = client.get("/api/accounts")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


def test_access_token_lifetime_is_configurable(make_server: ServerFactory) -> None:
    server = make_server(access_token_lifetime=60)
    assert connect(server, SCOPES)["expires_in"] == 60


def test_refresh_token_unused_for_90_days_is_invalid(server: SandboxServer) -> None:
    tokens = connect(server, SCOPES)
    control(server, "clock", {"advance_seconds": 91 * 86400})
    response = token_request(
        server, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_unknown_grant_type(server: SandboxServer) -> None:
    response = token_request(server, {"grant_type": "client_credentials"})
    assert response.json()["error"] == "invalid_grant_type"


def test_revoke_disconnects_the_installation(server: SandboxServer) -> None:
    tokens = connect(server, SCOPES)
    credentials = server.credentials
    auth = {"Authorization": basic(credentials.client_id, credentials.client_secret)}
    form = {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}
    with raw_client(server) as client:
        assert client.post("/oauth/revoke", data=form, headers=auth).status_code == 200
        again = client.post("/oauth/revoke", data=form, headers=auth)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    with bearer_client(server, tokens["access_token"]) as client:
        assert client.get("/api/accounts").status_code == 401
    refresh = token_request(
        server, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert refresh.json()["error"] == "invalid_grant"


def test_reconnecting_replaces_the_legacy_grant_scopes(server: SandboxServer) -> None:
    seed = server.scenario_seed
    assert seed.connection is not None
    tokens = connect(server, " ".join([*seed.connection.scopes, "reviews:read", "webhooks:read"]))
    with bearer_client(server, tokens["access_token"]) as client:
        assert client.get("/api/reviews").status_code == 200


def test_inspection_counts_tokens(server: SandboxServer) -> None:
    connect(server, SCOPES)
    tokens = inspect(server)["tokens"]
    assert tokens["access"]["active"] == 2  # the legacy grant's and the new one
    assert tokens["refresh"]["active"] == 2
    assert "access_token" not in str(tokens)
