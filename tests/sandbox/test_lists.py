"""Lists: name filter, page size capped at 10, daily creation cap, membership calls."""

from __future__ import annotations

from typing import Any

import httpx

from joyctl.sandbox import SandboxServer
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import error_of, inspect, key_client


def _create(client: httpx.Client, name: str) -> httpx.Response:
    return client.post("/api/lists", json={"data": {"type": "list", "attributes": {"name": name}}})


def _members(ids: list[str]) -> dict[str, Any]:
    return {"data": [{"type": "profile", "id": profile_id} for profile_id in ids]}


def _profile_ids(client: httpx.Client) -> list[str]:
    return [p["id"] for p in client.get("/api/profiles?page[size]=100").json()["data"]]


def test_create_get_update_delete(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        created = _create(client, "Joy Gold Tier")
        assert created.status_code == 201
        list_id = created.json()["data"]["id"]
        assert len(list_id) == 6
        assert created.json()["data"]["attributes"]["opt_in_process"] == "single_opt_in"
        body = {"data": {"type": "list", "id": list_id, "attributes": {"name": "Joy Gold"}}}
        assert client.patch(f"/api/lists/{list_id}", json=body).status_code == 200
        assert (
            client.get(f"/api/lists/{list_id}").json()["data"]["attributes"]["name"] == "Joy Gold"
        )
        assert client.delete(f"/api/lists/{list_id}").status_code == 204
        assert client.get(f"/api/lists/{list_id}").status_code == 404


def test_name_is_required(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        response = client.post("/api/lists", json={"data": {"type": "list", "attributes": {}}})
    assert error_of(response)["source"]["pointer"] == "/data/attributes/name"


def test_equals_name_filter(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        for name in ("Joy Gold Tier", "Joy Silver Tier", "Joy Gold Tier"):
            _create(client, name)
        found = client.get("/api/lists", params={"filter": "equals(name,'Joy Gold Tier')"})
        several = client.get(
            "/api/lists", params={"filter": "any(name,['Joy Gold Tier','Joy Silver Tier'])"}
        )
        unsupported = client.get("/api/lists", params={"filter": "contains(name,'Gold')"})
    assert [r["attributes"]["name"] for r in found.json()["data"]] == ["Joy Gold Tier"] * 2
    assert len(several.json()["data"]) == 3
    assert unsupported.status_code == 400


def test_pages_hold_at_most_ten_lists(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        for index in range(23):
            _create(client, f"List {index:02d}")
        assert client.get("/api/lists", params={"page[size]": "11"}).status_code == 400
        names: list[str] = []
        url: str | None = "/api/lists?sort=name"
        pages = 0
        while url:
            document = client.get(url).json()
            assert len(document["data"]) <= 10
            names.extend(r["attributes"]["name"] for r in document["data"])
            url = document["links"].get("next")
            pages += 1
    assert pages == 3
    assert names == [f"List {index:02d}" for index in range(23)]


def test_150_creations_a_day(make_server: ServerFactory) -> None:
    server = make_server(scenario="empty", rate_limits="x1000")
    with key_client(server) as client:
        statuses = [_create(client, f"L{index}").status_code for index in range(150)]
        refused = _create(client, "one too many")
    assert set(statuses) == {201}
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert inspect(server)["throttled"]["by_operation"] == {"create_list": 1}


def test_add_and_remove_members(server: SandboxServer) -> None:
    with key_client(server) as client:
        list_id = _create(client, "Members").json()["data"]["id"]
        ids = _profile_ids(client)[:5]
        added = client.post(f"/api/lists/{list_id}/relationships/profiles", json=_members(ids))
        assert added.status_code == 204
        removed = client.request(
            "DELETE", f"/api/lists/{list_id}/relationships/profiles", json=_members(ids[:2])
        )
        assert removed.status_code == 204
        listed = client.get(f"/api/lists/{list_id}/relationships/profiles").json()["data"]
        members = client.get(f"/api/lists/{list_id}/profiles").json()["data"]
        counted = client.get(
            f"/api/lists/{list_id}", params={"additional-fields[list]": "profile_count"}
        ).json()["data"]
    assert {item["id"] for item in listed} == set(ids[2:])
    assert all("joined_group_at" in m["attributes"] for m in members)
    assert counted["attributes"]["profile_count"] == 3
    assert {"id": list_id, "name": "Members", "member_count": 3} in inspect(server)["lists"]


def test_membership_calls_cap_at_1000_and_reject_unknown_ids(server: SandboxServer) -> None:
    with key_client(server) as client:
        list_id = _create(client, "Capped").json()["data"]["id"]
        ids = _profile_ids(client)
        path = f"/api/lists/{list_id}/relationships/profiles"
        too_many = client.post(path, json=_members(ids * 34))  # 1,020 ids
        unknown = client.post(path, json=_members([ids[0], "01NOTAREALPROFILE000000000"]))
        wrong_type = client.post(path, json={"data": [{"type": "list", "id": ids[0]}]})
        missing_list = client.post("/api/lists/NOPE01/relationships/profiles", json=_members(ids))
    assert too_many.status_code == 400
    assert error_of(unknown)["source"]["pointer"] == "/data/1/id"
    assert error_of(wrong_type)["source"]["pointer"] == "/data/0/type"
    assert missing_list.status_code == 404
    assert {"id": list_id, "name": "Capped", "member_count": 0} in inspect(server)["lists"]


def test_members_filter_by_email(server: SandboxServer) -> None:
    customer = server.scenario_seed.customers[0]
    with key_client(server) as client:
        list_id = _create(client, "Filtered").json()["data"]["id"]
        client.post(
            f"/api/lists/{list_id}/relationships/profiles", json=_members(_profile_ids(client))
        )
        found = client.get(
            f"/api/lists/{list_id}/profiles", params={"filter": f"equals(email,'{customer.email}')"}
        ).json()["data"]
    assert [m["attributes"]["email"] for m in found] == [customer.email]
