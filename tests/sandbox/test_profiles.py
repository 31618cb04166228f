"""Profiles: import upserts (201 new, 200 updated), null clears, omitted keeps, 409s, filters."""

from __future__ import annotations

from joyctl.sandbox import SandboxServer
from tests.sandbox.support import error_of, key_client, profile_body


def test_profile_import_creates_then_updates(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        created = client.post(
            "/api/profile-import",
            json=profile_body("a@example.com", first_name="Ava", properties={"points": 10}),
        )
        updated = client.post(
            "/api/profile-import", json=profile_body("A@example.com", last_name="Martinez")
        )
    assert created.status_code == 201
    assert updated.status_code == 200
    assert created.json()["data"]["id"] == updated.json()["data"]["id"]
    attributes = updated.json()["data"]["attributes"]
    assert attributes["first_name"] == "Ava"  # omitted: kept
    assert attributes["last_name"] == "Martinez"
    assert attributes["properties"] == {"points": 10}


def test_null_clears_and_properties_merge(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        client.post(
            "/api/profile-import",
            json=profile_body("a@example.com", first_name="Ava", properties={"a": 1, "b": 2}),
        )
        response = client.post(
            "/api/profile-import",
            json=profile_body("a@example.com", first_name=None, properties={"b": None, "c": 3}),
        )
    attributes = response.json()["data"]["attributes"]
    assert attributes["first_name"] is None
    assert attributes["properties"] == {"a": 1, "c": 3}


def test_patch_properties_unset_and_append(empty_server: SandboxServer) -> None:
    body = profile_body("a@example.com", properties={"tags": ["x"], "old": 1})
    with key_client(empty_server) as client:
        client.post("/api/profile-import", json=body)
        patch = profile_body("a@example.com")
        patch["data"]["meta"] = {"patch_properties": {"append": {"tags": "y"}, "unset": "old"}}
        response = client.post("/api/profile-import", json=patch)
    assert response.json()["data"]["attributes"]["properties"] == {"tags": ["x", "y"]}


def test_profile_validation(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        bad_email = client.post("/api/profile-import", json=profile_body("nope"))
        no_identifier = client.post(
            "/api/profile-import", json={"data": {"type": "profile", "attributes": {}}}
        )
        bad_phone = client.post(
            "/api/profile-import", json=profile_body("a@example.com", phone_number="555")
        )
        wrong_type = client.post(
            "/api/profile-import", json={"data": {"type": "list", "attributes": {}}}
        )
    assert error_of(bad_email)["source"]["pointer"] == "/data/attributes/email"
    assert error_of(no_identifier)["source"]["pointer"] == "/data/attributes"
    assert error_of(bad_phone)["source"]["pointer"] == "/data/attributes/phone_number"
    assert error_of(wrong_type)["source"]["pointer"] == "/data/type"


def test_create_profile_conflicts_on_existing_identifier(server: SandboxServer) -> None:
    email = server.scenario_seed.customers[0].email
    with key_client(server) as client:
        response = client.post("/api/profiles", json=profile_body(email))
        created = client.post("/api/profiles", json=profile_body("brand-new@example.com"))
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "duplicate_profile"
    assert error["meta"]["duplicate_profile_id"]
    assert created.status_code == 201


def test_patch_profile(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        profile_id = client.post("/api/profile-import", json=profile_body("a@x.com")).json()[
            "data"
        ]["id"]
        body = {"data": {"type": "profile", "id": profile_id, "attributes": {"title": "Dr"}}}
        patched = client.patch(f"/api/profiles/{profile_id}", json=body)
        mismatch = client.patch("/api/profiles/other", json=body)
        fetched = client.get(f"/api/profiles/{profile_id}")
    assert patched.status_code == 200
    assert fetched.json()["data"]["attributes"]["title"] == "Dr"
    assert mismatch.status_code == 409


def test_patch_cannot_take_another_profiles_email(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        client.post("/api/profile-import", json=profile_body("a@x.com"))
        second = client.post("/api/profile-import", json=profile_body("b@x.com")).json()["data"]
        body = {"data": {"type": "profile", "id": second["id"], "attributes": {"email": "a@x.com"}}}
        response = client.patch(f"/api/profiles/{second['id']}", json=body)
    assert response.status_code == 409
    assert error_of(response)["code"] == "duplicate_profile"


def test_profiles_filter_and_page_caps(server: SandboxServer) -> None:
    customer = server.scenario_seed.customers[3]
    with key_client(server) as client:
        by_email = client.get(
            "/api/profiles", params={"filter": f"equals(email,'{customer.email.upper()}')"}
        ).json()["data"]
        by_ids = client.get(
            "/api/profiles",
            params={"filter": f"any(external_id,['{customer.external_id}','none'])"},
        ).json()["data"]
        default_page = client.get("/api/profiles").json()
        too_big = client.get("/api/profiles", params={"page[size]": "101"})
    assert [p["attributes"]["email"] for p in by_email] == [customer.email]
    assert len(by_ids) == 1
    assert len(default_page["data"]) == 20
    assert "next" in default_page["links"]
    assert too_big.status_code == 400
    assert error_of(too_big)["source"] == {"parameter": "page[size]"}


def test_profiles_sort(server: SandboxServer) -> None:
    with key_client(server) as client:
        emails = [
            p["attributes"]["email"]
            for p in client.get(
                "/api/profiles", params={"sort": "-email", "page[size]": 100}
            ).json()["data"]
        ]
        bad = client.get("/api/profiles", params={"sort": "shoe_size"})
    assert emails == sorted(emails, reverse=True)
    assert bad.status_code == 400
