"""The server's lifecycle: free ports, loopback, clean stops, signals, keep-alive clients."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from joyctl.errors import UsageError
from joyctl.sandbox import SandboxConfig, SandboxServer, is_loopback_host
from tests.sandbox.conftest import FAST, ServerFactory
from tests.sandbox.support import key_client


def test_port_zero_picks_a_free_loopback_port(make_server: ServerFactory) -> None:
    first = make_server()
    second = make_server()
    assert first.base_url.startswith("http://127.0.0.1:")
    assert first.base_url != second.base_url
    assert first.binds_loopback


def test_context_manager_stops_and_frees_the_port() -> None:
    with SandboxServer(SandboxConfig(**FAST)) as server:
        base_url = server.base_url
        with key_client(server) as client:
            assert client.get("/api/accounts").status_code == 200
    with pytest.raises(RuntimeError):
        _ = server.credentials
    with httpx.Client(trust_env=False) as client, pytest.raises(httpx.ConnectError):
        client.get(base_url)


def test_stop_does_not_wait_for_idle_keep_alive_clients(make_server: ServerFactory) -> None:
    server = make_server()
    client = key_client(server)
    try:
        assert client.get("/api/accounts").status_code == 200  # leaves a pooled connection
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopper.join(timeout=5)
        assert not stopper.is_alive()
    finally:
        client.close()


def test_start_twice_returns_the_same_url(make_server: ServerFactory) -> None:
    server = make_server()
    assert server.start() == server.base_url


def test_invalid_options_fail_before_binding() -> None:
    with pytest.raises(UsageError):
        SandboxServer(SandboxConfig(rate_limits="sometimes")).start()
    with pytest.raises(UsageError):
        SandboxServer(SandboxConfig(faults="5xx=lots")).start()


def test_loopback_detection() -> None:
    assert is_loopback_host("127.0.0.1")
    assert is_loopback_host("::1")
    assert is_loopback_host("localhost")
    assert not is_loopback_host("0.0.0.0")  # noqa: S104 - only a string under test
    assert not SandboxServer(SandboxConfig(host="192.0.2.1")).binds_loopback


def test_sigterm_stops_cleanly_and_saves(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    server = SandboxServer(SandboxConfig(state_file=state_file, **FAST))
    seen: list[str] = []
    timers: list[threading.Timer] = []

    def ready(base_url: str) -> None:
        seen.append(base_url)
        with key_client(server) as client:
            body = {"data": {"type": "list", "attributes": {"name": "Before SIGTERM"}}}
            client.post("/api/lists", json=body)
        timers.append(threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM)))
        timers[0].start()

    previous = signal.getsignal(signal.SIGTERM)
    server.serve_forever_until_signal(ready)
    timers[0].join()
    assert signal.getsignal(signal.SIGTERM) == previous
    assert seen and seen[0].startswith("http://127.0.0.1:")
    saved = json.loads(state_file.read_text())
    assert [item["name"] for item in saved["lists"].values()] == ["Before SIGTERM"]


def test_inspect_matches_the_http_view(make_server: ServerFactory) -> None:
    server = make_server()
    document = server.inspect()
    assert document["scenario"] == "legacy-permissions"
    assert document["account"]["id"] == server.credentials.account_id
    text = json.dumps(document)
    assert server.credentials.client_secret not in text
    connection = server.scenario_seed.connection
    assert connection is not None and connection.refresh_token not in text


def test_brief_inspection_leaves_out_item_lists(make_server: ServerFactory) -> None:
    server = make_server()
    with httpx.Client(base_url=server.base_url, trust_env=False) as client:
        brief = client.get("/__sandbox/state", params={"brief": "1"}).json()
    assert brief["profiles"] == {"total": 30}
    assert "attempts" not in brief["deliveries"]
