"""Credentials (401), per-operation scopes (403 naming what is missing) and the plan gate."""

from __future__ import annotations

import pytest

from joyctl.klaviyo.endpoints import ENDPOINTS
from joyctl.sandbox import SandboxServer
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import (
    REVISION,
    bearer_client,
    connect,
    control,
    error_of,
    key_client,
    raw_client,
)

PLAN_GATE = "You must have Advanced KDP enabled to use this endpoint."
WEBHOOK_CALLS = [
    ("GET", "/api/webhooks"),
    ("POST", "/api/webhooks"),
    ("GET", "/api/webhooks/01HF7AYTK76RHR4F17G6DGTRGF"),
    ("PATCH", "/api/webhooks/01HF7AYTK76RHR4F17G6DGTRGF"),
    ("DELETE", "/api/webhooks/01HF7AYTK76RHR4F17G6DGTRGF"),
    ("GET", "/api/webhook-topics"),
    ("GET", "/api/webhook-topics/event:klaviyo.submitted_review"),
]


def test_missing_credentials_are_not_authenticated(server: SandboxServer) -> None:
    with raw_client(server) as client:
        response = client.get("/api/accounts", headers={"revision": REVISION})
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_unknown_private_key_fails_authentication(server: SandboxServer) -> None:
    with key_client(server, "pk_" + "0" * 34) as client:
        response = client.get("/api/accounts")
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "authentication_failed"
    assert error["title"] == "Incorrect authentication credentials."
    assert "ratelimit-limit" not in response.headers


def test_unknown_bearer_token_fails_authentication(server: SandboxServer) -> None:
    with bearer_client(server, "not-a-token") as client:
        assert client.get("/api/accounts").status_code == 401


def test_private_key_has_every_scope(server: SandboxServer) -> None:
    assert server.credentials.private_key.startswith("pk_")
    assert len(server.credentials.private_key) == 37
    with key_client(server) as client:
        assert client.get("/api/reviews").status_code == 200
        assert client.get("/api/lists").status_code == 200


def test_legacy_grant_lacks_review_and_webhook_scopes(server: SandboxServer) -> None:
    connection = server.scenario_seed.connection
    assert connection is not None
    with bearer_client(server, connection.access_token) as client:
        assert client.get("/api/accounts").status_code == 200
        reviews = client.get("/api/reviews")
        webhooks = client.get("/api/webhooks")
        topics = client.get("/api/webhook-topics")
        create = client.post("/api/webhooks", json={"data": {"type": "webhook"}})
    for response, scope in [
        (reviews, "reviews:read"),
        (webhooks, "webhooks:read"),
        (topics, "webhooks:read"),
        (create, "webhooks:write"),
    ]:
        assert response.status_code == 403
        error = error_of(response)
        assert error["code"] == "permission_denied"
        assert scope in error["detail"]
        assert PLAN_GATE not in error["detail"]


def test_scope_403_names_every_missing_scope(server: SandboxServer) -> None:
    control(server, "settings", {"consent_withheld_scopes": ["lists:write", "profiles:write"]})
    tokens = connect(server, "accounts:read lists:read lists:write profiles:read profiles:write")
    assert "lists:write" not in tokens["scope"].split()
    body = {"data": [{"type": "profile", "id": "x"}]}
    with bearer_client(server, tokens["access_token"]) as client:
        response = client.post("/api/lists/abc/relationships/profiles", json=body)
    assert response.status_code == 403
    detail = error_of(response)["detail"]
    assert "lists:write" in detail
    assert "profiles:write" in detail


@pytest.mark.parametrize(("method", "path"), WEBHOOK_CALLS)
def test_plan_gate_for_private_keys_on_webhook_endpoints(
    server: SandboxServer, method: str, path: str
) -> None:
    with key_client(server) as client:
        response = client.request(method, path)
    assert response.status_code == 403
    assert error_of(response)["detail"] == PLAN_GATE


def test_plan_gate_response_carries_rate_limit_headers(make_server: ServerFactory) -> None:
    server = make_server(rate_limits="real")
    with key_client(server) as client:
        response = client.get("/api/webhooks")
    assert response.status_code == 403
    assert response.headers["RateLimit-Limit"] == "1, 1;w=1, 15;w=60"


def test_advanced_kdp_lifts_the_plan_gate(make_server: ServerFactory) -> None:
    server = make_server(scenario="advanced-kdp")
    with key_client(server) as client:
        assert client.get("/api/webhooks").status_code == 200
        assert client.get("/api/webhook-topics").status_code == 200


def test_oauth_tokens_are_not_plan_gated(make_server: ServerFactory) -> None:
    server = make_server(scenario="healthy")
    connection = server.scenario_seed.connection
    assert connection is not None
    with bearer_client(server, connection.access_token) as client:
        assert client.get("/api/webhooks").status_code == 200


def test_plan_gate_can_be_switched_on_the_fly(server: SandboxServer) -> None:
    control(server, "settings", {"advanced_kdp": True})
    with key_client(server) as client:
        assert client.get("/api/webhooks").status_code == 200


def test_every_endpoint_in_the_table_has_a_handler() -> None:
    from joyctl.sandbox.routes.routing import HANDLERS

    assert {endpoint.operation_id for endpoint in ENDPOINTS} <= set(HANDLERS)
