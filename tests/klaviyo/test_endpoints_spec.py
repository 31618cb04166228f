"""The endpoint table both the client and the emulator read, held against Klaviyo's spec.

A transcription error in `klaviyo/endpoints.py` would otherwise pass every test, since the
client's pacing and the emulator's enforcement agree with each other whatever the table says.
The spec lives in ../shared/klaviyo/ beside the repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from joyctl.klaviyo.endpoints import ENDPOINTS, Endpoint

SPEC_FILE = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "klaviyo"
    / "openapi-stable-2026-07-15.json"
)
_RATE = re.compile(r"^(\d+)/([smd])$")


@pytest.fixture(scope="module")
def operations() -> dict[tuple[str, str], dict[str, Any]]:
    """Spec operations keyed by method and path, path parameters renamed to `{}`."""
    if not SPEC_FILE.is_file():
        pytest.skip(
            f"Klaviyo's OpenAPI spec is not at {SPEC_FILE} (the shared folder beside the "
            "repository); the endpoint table cannot be checked without it."
        )
    spec: dict[str, Any] = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[(method.upper(), _shape(path))] = operation
    return found


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _rate(text: str, unit: str) -> int:
    match = _RATE.match(text)
    assert match is not None and match.group(2) == unit, text
    return int(match.group(1))


def _page_size(operation: dict[str, Any]) -> tuple[int, int] | None:
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "page[size]":
            schema = parameter["schema"]
            return int(schema["default"]), int(schema["maximum"])
    return None


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.operation_id)
def test_each_operation_matches_the_spec(
    endpoint: Endpoint, operations: dict[tuple[str, str], dict[str, Any]]
) -> None:
    operation = operations.get((endpoint.method, _shape(endpoint.path)))
    assert operation is not None, f"{endpoint.method} {endpoint.path} is not in the spec"
    assert operation["operationId"] == endpoint.operation_id
    assert sorted(operation.get("x-klaviyo-scopes", [])) == sorted(endpoint.scopes)
    limits = operation["x-klaviyo-ratelimit"]
    assert _rate(limits["burst"], "s") == endpoint.burst_per_second
    assert _rate(limits["steady"], "m") == endpoint.steady_per_minute
    daily = _rate(limits["daily"], "d") if "daily" in limits else None
    assert daily == endpoint.daily
    table_page = (
        None
        if endpoint.page_size_default is None
        else (endpoint.page_size_default, endpoint.page_size_max)
    )
    assert _page_size(operation) == table_page


def test_the_table_names_each_operation_once() -> None:
    ids = [endpoint.operation_id for endpoint in ENDPOINTS]
    assert len(ids) == len(set(ids))
