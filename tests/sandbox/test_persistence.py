"""State carries between processes: saved atomically, reloaded on start, reset on demand."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from joyctl.errors import DataError
from joyctl.sandbox import (
    SandboxConfig,
    SandboxServer,
    load_credentials,
    load_scenario_seed,
    reset,
)
from tests.sandbox.conftest import FAST, ServerFactory
from tests.sandbox.support import control, inspect, key_client


def _create_list(server: SandboxServer, name: str) -> str:
    with key_client(server) as client:
        response = client.post(
            "/api/lists", json={"data": {"type": "list", "attributes": {"name": name}}}
        )
    list_id: str = response.json()["data"]["id"]
    return list_id


def test_state_survives_a_restart(make_server: ServerFactory, state_file: Path) -> None:
    first = make_server(state_file=state_file)
    credentials = first.credentials
    list_id = _create_list(first, "Persisted")
    first.stop()
    second = make_server(state_file=state_file)
    assert second.credentials == credentials
    with key_client(second) as client:
        fetched = client.get(f"/api/lists/{list_id}")
    assert fetched.json()["data"]["attributes"]["name"] == "Persisted"
    assert inspect(second)["scenario"] == "legacy-permissions"


def test_writes_are_saved_while_running(make_server: ServerFactory, state_file: Path) -> None:
    server = make_server(state_file=state_file)
    _create_list(server, "Saved soon")
    deadline = time.monotonic() + 3
    while "Saved soon" not in state_file.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "Saved soon" in state_file.read_text()
    leftovers = [p.name for p in state_file.parent.iterdir() if p.name != state_file.name]
    assert leftovers == []


def test_scenario_is_ignored_when_state_exists(
    make_server: ServerFactory, state_file: Path
) -> None:
    make_server(state_file=state_file, scenario="empty").stop()
    server = make_server(state_file=state_file, scenario="legacy-permissions")
    assert inspect(server)["scenario"] == "empty"


def test_clock_offset_is_kept(make_server: ServerFactory, state_file: Path) -> None:
    server = make_server(state_file=state_file)
    control(server, "clock", {"advance_seconds": 86400})
    server.stop()
    restarted = make_server(state_file=state_file)
    assert inspect(restarted)["clock_offset_seconds"] >= 86400


def test_reset_reseeds_the_file(make_server: ServerFactory, state_file: Path) -> None:
    first = make_server(state_file=state_file)
    list_id = _create_list(first, "Gone after reset")
    first.stop()
    seed = reset(state_file, "empty")
    assert seed.name == "empty"
    assert load_scenario_seed(state_file) == seed
    server = make_server(state_file=state_file)
    with key_client(server) as client:
        assert client.get(f"/api/lists/{list_id}").status_code == 404
    assert server.scenario_seed == seed


def test_reset_route_starts_over(server: SandboxServer) -> None:
    _create_list(server, "Gone")
    seed = control(server, "reset", {"scenario": "healthy"})
    assert seed["name"] == "healthy"
    state = inspect(server)
    assert state["scenario"] == "healthy"
    assert state["lists"] == []


def test_missing_state_file_helpers(tmp_path: Path) -> None:
    assert load_scenario_seed(tmp_path / "absent.json") is None
    assert load_credentials(tmp_path / "absent.json") is None


def test_credentials_readable_without_a_server(state_file: Path) -> None:
    reset(state_file, "legacy-permissions")
    credentials = load_credentials(state_file)
    assert credentials is not None
    assert credentials.private_key.startswith("pk_")


def test_unreadable_state_is_a_data_error(state_file: Path) -> None:
    state_file.parent.mkdir(parents=True)
    state_file.write_text("{broken")
    with pytest.raises(DataError):
        SandboxServer(SandboxConfig(state_file=state_file, **FAST)).start()
    state_file.write_text(json.dumps({"format": 999}))
    with pytest.raises(DataError):
        load_scenario_seed(state_file)
