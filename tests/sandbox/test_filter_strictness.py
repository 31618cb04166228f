"""Filters as strict as Klaviyo's: the spec's fields and operators per endpoint, and its quoting."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joyctl.sandbox import SandboxServer
from joyctl.sandbox.jsonapi import ApiError
from joyctl.sandbox.routes.events import EVENT_FILTERS, METRIC_FILTERS
from joyctl.sandbox.routes.filters import FilterField, apply_filter
from joyctl.sandbox.routes.import_jobs import JOB_FILTERS
from joyctl.sandbox.routes.lists import LIST_FILTERS, MEMBER_FILTERS
from joyctl.sandbox.routes.profiles import PROFILE_FILTERS
from joyctl.sandbox.routes.reviews import CLIENT_FILTERS, REVIEW_FILTERS
from tests.sandbox.support import error_of, key_client

SPEC_FILE = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "klaviyo"
    / "openapi-subset-2026-07-15.json"
)
TABLES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/events"): EVENT_FILTERS,
    ("GET", "/api/metrics"): METRIC_FILTERS,
    ("GET", "/api/profiles"): PROFILE_FILTERS,
    ("GET", "/api/profile-bulk-import-jobs"): JOB_FILTERS,
    ("GET", "/api/lists"): LIST_FILTERS,
    ("GET", "/api/lists/{id}/profiles"): MEMBER_FILTERS,
    ("GET", "/api/lists/{id}/relationships/profiles"): MEMBER_FILTERS,
    ("GET", "/api/reviews"): REVIEW_FILTERS,
    ("GET", "/client/reviews"): CLIENT_FILTERS,
}


def _spec_filters(description: str) -> dict[str, set[str]]:
    """`field`: `op`, `op` pairs from a filter parameter's description."""
    allowed: dict[str, set[str]] = {}
    for line in description.split("<br>"):
        match = re.match(r"^`([^`]+)`: (.+)$", line.strip())
        if match:
            allowed[match.group(1)] = set(re.findall(r"`([^`]+)`", match.group(2)))
    return allowed


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_FILE.is_file():
        pytest.skip(
            f"Klaviyo's OpenAPI subset is not at {SPEC_FILE} (the shared folder beside the "
            "repository); the filter tables cannot be checked without it."
        )
    document: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return document


@pytest.mark.parametrize("operation", sorted(TABLES), ids=lambda o: f"{o[0]} {o[1]}")
def test_each_endpoint_filters_on_what_the_spec_lists(
    spec: dict[str, Any], operation: tuple[str, str]
) -> None:
    method, path = operation
    parameters = spec["paths"][path][method.lower()]["parameters"]
    [description] = [p["description"] for p in parameters if p.get("name") == "filter"]
    table = {name: set(field.operators) for name, field in TABLES[operation].items()}
    assert table == _spec_filters(description)


def _status(server: SandboxServer, path: str, expression: str) -> tuple[int, str]:
    with key_client(server) as client:
        response = client.get(path, params={"filter": expression})
    detail = error_of(response)["detail"] if response.status_code >= 400 else ""
    return response.status_code, str(detail)


@pytest.mark.parametrize(
    ("path", "expression"),
    [
        ("/api/profiles", "greater-than(created,2025-01-01T00:00:00Z)"),
        ("/api/profiles", "equals(email,'ann@example.com')"),
        ("/api/profiles", 'any(email,["ann@example.com","bob@example.com"])'),
        ("/api/reviews", "greater-or-equal(rating,4),equals(verified,true)"),
        ("/api/reviews", "less-or-equal(created,2026-01-01)"),
        ("/api/lists", 'equals(name,"Bob\'s list")'),
    ],
)
def test_well_quoted_filters_are_served(server: SandboxServer, path: str, expression: str) -> None:
    assert _status(server, path, expression)[0] == 200


@pytest.mark.parametrize(
    ("path", "expression", "says"),
    [
        ("/api/profiles", "greater-than(created,'2025-01-01T00:00:00Z')", "unquoted datetime"),
        ("/api/profiles", "equals(email,ann@example.com)", "quoted string"),
        ("/api/lists", "equals(name,Gold)", "quoted string"),
        ("/api/reviews", "equals(rating,'5')", "unquoted number"),
        ("/api/reviews", "equals(verified,'true')", "true or false"),
        ("/api/profiles", "any(email,'ann@example.com')", "a list"),
        ("/api/profiles", "equals(email,['ann@example.com'])", "a single value"),
        ("/api/profiles", "less-than(created,yesterday)", "unquoted datetime"),
        ("/api/events", "equals(metric_id,'X'),greater-or-equal(datetime,'2025')", "datetime"),
    ],
)
def test_filters_quoted_wrongly_are_invalid(
    server: SandboxServer, path: str, expression: str, says: str
) -> None:
    status, detail = _status(server, path, expression)
    assert status == 400
    assert says in detail


_QUOTED = st.text(st.characters(blacklist_characters="'"), max_size=12).map(lambda t: f"'{t}'")
_BARE = st.from_regex(r"[A-Za-z][A-Za-z0-9@._-]{0,12}", fullmatch=True).filter(
    lambda token: token != "null"
)
_TEXT_FIELD: dict[str, FilterField[dict[str, str]]] = {
    "name": FilterField(lambda item: item["name"], frozenset({"equals"}))
}


@given(value=st.one_of(_QUOTED, _BARE))
def test_string_fields_take_exactly_the_quoted_values(value: str) -> None:
    try:
        apply_filter([{"name": "x"}], f"equals(name,{value})", _TEXT_FIELD)
    except ApiError as error:
        assert not value.startswith("'")
        assert error.parameter == "filter"
    else:
        assert value.startswith("'")
