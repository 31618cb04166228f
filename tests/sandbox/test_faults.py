"""Fault injection: server errors, throttling, dropped connections, latency; seeded runs."""

from __future__ import annotations

import time

import httpx
import pytest

from joyctl.errors import UsageError
from joyctl.sandbox import SandboxServer, parse_faults
from tests.sandbox.conftest import ServerFactory
from tests.sandbox.support import (
    control,
    error_of,
    event_body,
    inspect,
    key_client,
    raw_client,
)


def _statuses(server: SandboxServer, count: int) -> list[int | str]:
    seen: list[int | str] = []
    with key_client(server) as client:
        for _ in range(count):
            try:
                seen.append(client.get("/api/profiles").status_code)
            except httpx.RemoteProtocolError:
                seen.append("dropped")
    return seen


def test_same_seed_same_faults(make_server: ServerFactory) -> None:
    spec = "5xx=0.2,429=0.2,drop=0.1"
    first = _statuses(make_server(faults=spec, seed=42), 60)
    second = _statuses(make_server(faults=spec, seed=42), 60)
    assert first == second
    assert {500, 502, 503, 504} & set(first)
    assert 429 in first
    assert "dropped" in first
    assert 200 in first


def test_fault_counts_are_inspected(make_server: ServerFactory) -> None:
    server = make_server(faults="503=1")
    with key_client(server) as client:
        response = client.get("/api/accounts")
    assert response.status_code == 503
    assert error_of(response)["code"] == "service_unavailable"
    assert inspect(server)["faults"] == {"total": 1, "by_kind": {"503": 1}}


def test_injected_429_carries_retry_after(make_server: ServerFactory) -> None:
    server = make_server(faults="429=1")
    with key_client(server) as client:
        response = client.get("/api/accounts")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"


def test_sandbox_routes_are_never_faulted(make_server: ServerFactory) -> None:
    server = make_server(faults="5xx=1")
    with raw_client(server) as client:
        assert client.get("/__sandbox/state").status_code == 200


def test_drop_after_processing(make_server: ServerFactory) -> None:
    server = make_server(scenario="empty", faults="drop_after=1")
    with key_client(server) as client, pytest.raises(httpx.RemoteProtocolError):
        client.post("/api/events", json=event_body("a@example.com", unique_id="once"))
    assert inspect(server)["events"]["total"] == 1  # it took effect, though nobody heard


def test_latency(make_server: ServerFactory) -> None:
    server = make_server(faults="latency=60ms")
    with key_client(server) as client:
        client.get("/api/profiles")  # warm the connection
        started = time.perf_counter()
        client.get("/api/profiles")
        elapsed = time.perf_counter() - started
    assert elapsed >= 0.05


def test_faults_can_change_at_runtime(server: SandboxServer) -> None:
    control(server, "settings", {"faults": "500=1", "seed": 1})
    with key_client(server) as client:
        assert client.get("/api/accounts").status_code == 500
    control(server, "settings", {"faults": ""})
    with key_client(server) as client:
        assert client.get("/api/accounts").status_code == 200


def test_spec_parsing() -> None:
    spec = parse_faults("5xx=0.05, 429=0.05,drop=0.02,latency=20ms")
    assert spec.statuses == {"5xx": 0.05, "429": 0.05}
    assert spec.drop == 0.02
    assert spec.latency == (0.02, 0.02)
    assert parse_faults("latency=10-50ms").latency == (0.01, 0.05)
    assert parse_faults("latency=1s").latency == (1.0, 1.0)
    assert not parse_faults("").active


@pytest.mark.parametrize("spec", ["5xx", "5xx=2", "teapot=0.1", "latency=fast", "drop=-1"])
def test_bad_specs_are_usage_errors(spec: str) -> None:
    with pytest.raises(UsageError):
        parse_faults(spec)
