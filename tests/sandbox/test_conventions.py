"""JSON:API conventions: revision header, content types, error shape, paging, unknown routes."""

from __future__ import annotations

import httpx

from joyctl.sandbox import SandboxServer
from tests.sandbox.support import (
    JSON_API,
    REVISION,
    error_of,
    key_client,
    profile_body,
    raw_client,
)


def test_accounts_answer_in_json_api(server: SandboxServer) -> None:
    with key_client(server) as client:
        response = client.get("/api/accounts")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_API
    account = response.json()["data"][0]
    assert account["type"] == "account"
    assert account["attributes"]["public_api_key"] == server.credentials.public_api_key
    assert len(account["attributes"]["public_api_key"]) == 6
    assert account["attributes"]["test_account"] is True


def test_single_account_and_unknown_account(server: SandboxServer) -> None:
    account_id = server.credentials.account_id
    with key_client(server) as client:
        assert client.get(f"/api/accounts/{account_id}").json()["data"]["id"] == account_id
        missing = client.get("/api/accounts/NOPE01")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"


def test_revision_header_is_required(server: SandboxServer) -> None:
    key = server.credentials.private_key
    with raw_client(server) as client:
        response = client.get("/api/accounts", headers={"Authorization": f"Klaviyo-API-Key {key}"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["source"] == {"parameter": "revision"}


def test_error_bodies_have_klaviyo_shape(server: SandboxServer) -> None:
    with key_client(server) as client:
        response = client.post("/api/profile-import", json=profile_body("not-an-email"))
    assert response.status_code == 400
    error = error_of(response)
    assert set(error) >= {"id", "status", "code", "title", "detail", "source"}
    assert error["title"] == "Invalid input."
    assert error["source"]["pointer"] == "/data/attributes/email"


def test_malformed_json_is_a_400(server: SandboxServer) -> None:
    with key_client(server) as client:
        response = client.post("/api/profile-import", content=b"{not json")
    assert response.status_code == 400
    assert error_of(response)["source"]["pointer"] == "/data"


def test_other_body_types_are_415(server: SandboxServer) -> None:
    with key_client(server) as client:
        response = client.post(
            "/api/lists", content=b"name=x", headers={"Content-Type": "text/plain"}
        )
    assert response.status_code == 415


def test_plain_json_content_type_is_accepted(server: SandboxServer) -> None:
    with key_client(server) as client:
        response = client.post(
            "/api/lists",
            json={"data": {"type": "list", "attributes": {"name": "Plain"}}},
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 201


def test_unknown_paths_and_methods(server: SandboxServer) -> None:
    with key_client(server) as client:
        unknown = client.get("/api/not-a-thing")
        wrong_method = client.put("/api/lists")
    assert unknown.status_code == 404
    assert error_of(unknown)["code"] == "not_found"
    assert wrong_method.status_code == 405


def test_trailing_slash_links_are_followable(server: SandboxServer) -> None:
    with key_client(server) as client:
        created = client.post(
            "/api/lists", json={"data": {"type": "list", "attributes": {"name": "Linked"}}}
        )
        self_link = created.json()["data"]["links"]["self"]
        assert self_link.endswith("/")
        assert client.get(self_link).json()["data"]["attributes"]["name"] == "Linked"


def test_links_use_the_host_the_client_called(server: SandboxServer) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    with httpx.Client(base_url=f"http://localhost:{port}", trust_env=False) as client:
        key = server.credentials.private_key
        response = client.get(
            "/api/accounts",
            headers={"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION},
        )
    assert response.json()["links"]["self"].startswith(f"http://localhost:{port}/")
