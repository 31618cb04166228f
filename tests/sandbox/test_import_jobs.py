"""Profile bulk-import jobs: caps, queued -> processing -> complete, counts, errors, lists."""

from __future__ import annotations

import time
from typing import Any

import httpx

from joyctl.sandbox import SandboxServer
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import control, error_of, inspect, key_client


def _job_body(profiles: list[dict[str, Any]], list_ids: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "profile-bulk-import-job",
        "attributes": {"profiles": {"data": profiles}},
    }
    if list_ids is not None:
        data["relationships"] = {"lists": {"data": [{"type": "list", "id": i} for i in list_ids]}}
    return {"data": data}


def _profile(email: str, **attributes: Any) -> dict[str, Any]:
    return {"type": "profile", "attributes": {"email": email, **attributes}}


def _wait_complete(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/profile-bulk-import-jobs/{job_id}").json()["data"]
        if job["attributes"]["status"] == "complete":
            return job
        time.sleep(0.02)
    raise AssertionError("the import job never completed")


def test_job_moves_from_queued_to_complete(make_server: ServerFactory) -> None:
    server = make_server(scenario="empty", job_step_seconds=30)
    with key_client(server) as client:
        created = client.post(
            "/api/profile-bulk-import-jobs", json=_job_body([_profile("a@x.com")])
        )
        assert created.status_code == 202
        job = created.json()["data"]
        assert job["attributes"]["status"] == "queued"
        assert job["attributes"]["total_count"] == 1
        control(server, "clock", {"advance_seconds": 31})
        status = client.get(f"/api/profile-bulk-import-jobs/{job['id']}").json()["data"]
        assert status["attributes"]["status"] == "processing"
        assert status["attributes"]["started_at"] is not None
        control(server, "clock", {"advance_seconds": 30})
        done = client.get(f"/api/profile-bulk-import-jobs/{job['id']}").json()["data"]
    assert done["attributes"]["status"] == "complete"
    assert done["attributes"]["completed_count"] == 1
    assert done["attributes"]["completed_at"] is not None


def test_job_imports_profiles_reports_errors_and_fills_lists(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        list_id = client.post(
            "/api/lists", json={"data": {"type": "list", "attributes": {"name": "Gold"}}}
        ).json()["data"]["id"]
        profiles = [
            _profile("a@x.com", properties={"Joy Loyalty Points": 10}),
            _profile("not-an-email"),
            _profile("b@x.com"),
            {"type": "profile", "attributes": {"first_name": "No identifier"}},
        ]
        job_id = client.post(
            "/api/profile-bulk-import-jobs", json=_job_body(profiles, [list_id])
        ).json()["data"]["id"]
        job = _wait_complete(client, job_id)
        errors = client.get(f"/api/profile-bulk-import-jobs/{job_id}/import-errors").json()
        jobs = client.get(
            "/api/profile-bulk-import-jobs", params={"filter": "equals(status,'complete')"}
        ).json()["data"]
    assert job["attributes"]["completed_count"] == 2
    assert job["attributes"]["failed_count"] == 2
    assert job["relationships"]["lists"]["data"] == [{"type": "list", "id": list_id}]
    pointers = [e["attributes"]["source"]["pointer"] for e in errors["data"]]
    assert pointers == [
        "/data/attributes/profiles/data/1/attributes/email",
        "/data/attributes/profiles/data/3/attributes",
    ]
    assert errors["data"][0]["attributes"]["original_payload"] == {"email": "not-an-email"}
    assert [j["id"] for j in jobs] == [job_id]
    state = inspect(empty_server)
    assert state["lists"] == [{"id": list_id, "name": "Gold", "member_count": 2}]
    assert state["import_jobs"][0]["status"] == "complete"


def test_job_caps_and_list_checks(empty_server: SandboxServer) -> None:
    too_many = [_profile(f"p{i}@x.com") for i in range(10_001)]
    with key_client(empty_server) as client:
        over = client.post("/api/profile-bulk-import-jobs", json=_job_body(too_many))
        empty = client.post("/api/profile-bulk-import-jobs", json=_job_body([]))
        unknown_list = client.post(
            "/api/profile-bulk-import-jobs", json=_job_body([_profile("a@x.com")], ["NOPE01"])
        )
    assert over.status_code == 400
    assert error_of(over)["source"]["pointer"] == "/data/attributes/profiles/data"
    assert empty.status_code == 400
    assert error_of(unknown_list)["source"]["pointer"] == "/data/relationships/lists/data/0/id"


def test_unknown_job(empty_server: SandboxServer) -> None:
    with key_client(empty_server) as client:
        assert client.get("/api/profile-bulk-import-jobs/nope").status_code == 404
        assert client.get("/api/profile-bulk-import-jobs/nope/import-errors").status_code == 404
