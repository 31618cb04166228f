"""Profiles found by identifier from an index: the same answers as a scan, among many profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from joyctl.sandbox.jsonapi import ApiError
from joyctl.sandbox.routes.filters import apply_filter
from joyctl.sandbox.routes.profiles import PROFILE_FILTERS, profile_lookups
from joyctl.sandbox.scenarios.catalogue import build_state
from joyctl.sandbox.store.persistence import save_state
from joyctl.sandbox.store.profiles import upsert_profile
from joyctl.sandbox.store.state import SandboxState
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import key_client, profile_body

MANY = 20_000
SEEDED_AT = 1_760_000_000.0


def _seed(state: SandboxState, count: int) -> None:
    for n in range(count):
        attributes: dict[str, Any] = {"email": f"Member{n}@Example.com", "external_id": f"x-{n}"}
        if n % 1000 == 0:
            attributes["phone_number"] = f"+1500555{n // 1000:04d}"
        upsert_profile(state, {"type": "profile", "attributes": attributes}, SEEDED_AT + n)


@pytest.fixture(scope="module")
def many() -> SandboxState:
    state = build_state("empty", SEEDED_AT)
    _seed(state, MANY)
    return state


def _emails(data: list[dict[str, Any]]) -> list[str]:
    return [profile["attributes"]["email"] for profile in data]


def test_email_look_up_among_many_loaded_profiles(
    many: SandboxState, make_server: ServerFactory, tmp_path: Path
) -> None:
    save_state(tmp_path / "state.json", many)
    server = make_server(state_file=tmp_path / "state.json")
    wanted = [f"member{n}@example.com" for n in (MANY - 1, 7, 12_345, 7)] + ["none@example.com"]
    listed = ",".join(f"'{email}'" for email in wanted)
    with key_client(server) as client:
        found = client.get("/api/profiles", params={"filter": f"any(email,[{listed}])"})
        single = client.get("/api/profiles", params={"filter": "equals(email,'MEMBER42@x.com')"})
        by_external = client.get("/api/profiles", params={"filter": "equals(external_id,'x-9')"})
    assert found.status_code == 200
    # Storage order, each once, whatever order and case the filter named them in.
    assert _emails(found.json()["data"]) == [
        "Member7@Example.com",
        "Member12345@Example.com",
        f"Member{MANY - 1}@Example.com",
    ]
    assert single.json()["data"] == []
    assert _emails(by_external.json()["data"]) == ["Member9@Example.com"]


def test_upserts_and_identifier_changes_keep_look_ups_right(make_server: ServerFactory) -> None:
    server = make_server(scenario="empty")
    with key_client(server) as client:
        bodies = [profile_body(f"m{n}@example.com", external_id=f"e{n}") for n in range(300)]
        ids = [
            client.post("/api/profile-import", json=body).json()["data"]["id"] for body in bodies
        ]
        again = client.post("/api/profile-import", json=profile_body("M150@example.com"))
        moved = profile_body("moved@example.com", external_id="e200")
        client.post("/api/profile-import", json=moved)
        old = client.get("/api/profiles", params={"filter": "equals(email,'m200@example.com')"})
        new = client.get("/api/profiles", params={"filter": "equals(email,'moved@example.com')"})
        taken = client.post("/api/profiles", json=profile_body("m5@example.com"))
    assert again.status_code == 200
    assert again.json()["data"]["id"] == ids[150]
    assert old.json()["data"] == []
    assert [p["id"] for p in new.json()["data"]] == [ids[200]]
    assert taken.status_code == 409
    assert taken.json()["errors"][0]["meta"]["duplicate_profile_id"] == ids[5]


def _answer(state: SandboxState, text: str, *, indexed: bool) -> object:
    lookups = profile_lookups(state) if indexed else None
    try:
        return [
            p["id"] for p in apply_filter(state.profiles.values(), text, PROFILE_FILTERS, lookups)
        ]
    except ApiError as error:
        return (error.status, str(error))


FILTERS = [
    "any(email,['member3@example.com','MEMBER19999@EXAMPLE.COM','member3@example.com'])",
    "equals(email,' member3@example.com')",  # a scan never trims the value
    "equals(email,null)",
    "any(email,[])",
    "equals(phone_number,'+15005550002')",
    "any(external_id,['x-1','x-2',' x-3',5])",
    "and(any(email,['member1@example.com','member2@example.com']),equals(external_id,'x-2'))",
    "and(equals(email,'member1@example.com'),greater-than(created,'not a date'))",
    "and(equals(email,'nobody@example.com'),greater-than(created,'not a date'))",
    "and(greater-than(created,'not a date'),equals(email,'nobody@example.com'))",
    "and(greater-than(created,2025-10-09T09:00:00Z),any(email,['member5@example.com','member500@example.com']))",
    "equals(first_name,'Ava')",
]


@pytest.mark.parametrize("text", FILTERS)
def test_indexed_filters_answer_as_a_scan_does(many: SandboxState, text: str) -> None:
    assert _answer(many, text, indexed=True) == _answer(many, text, indexed=False)


def test_id_look_up_keeps_storage_order(many: SandboxState) -> None:
    ids = list(many.profiles)
    text = f"any(id,['{ids[900]}','missing','{ids[3]}','{ids[900]}'])"
    assert _answer(many, text, indexed=True) == [ids[3], ids[900]]


def test_a_shared_identifier_in_a_loaded_file_keeps_both_profiles_findable() -> None:
    state = build_state("empty", SEEDED_AT)
    _seed(state, 2)
    document = state.to_json()
    assert "profile_index" not in document  # derived, never saved
    first, second = document["profiles"].values()
    second["email"] = first["email"]
    loaded = SandboxState.from_json(document)
    text = "equals(email,'member0@example.com')"
    assert _answer(loaded, text, indexed=True) == [first["id"], second["id"]]
    upsert_profile(
        loaded, {"id": second["id"], "type": "profile", "attributes": {"email": None}}, 0
    )
    assert _answer(loaded, text, indexed=True) == [first["id"]]
