"""Emulators sharing one state file, as the processes of the built-in sandbox profile do.

Each server here stands for one joyctl process: every request is a transaction on the file,
so what one writes the others see at once, none writes a stale copy back over another's work
(stopping included), and a delivery due is sent by exactly one of them.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from joyctl.sandbox import SandboxConfig, SandboxServer, reset, state_lock
from joyctl.sandbox.store.persistence import load_state
from tests.sandbox.receiver import running_receiver
from tests.sandbox.support import key_client, profile_body, public_client, review_body

SECRET = "whsec-shared-0123456789abcdef"
REVIEW_TOPIC = "event:klaviyo.submitted_review"


@contextmanager
def _sharing(path: Path, count: int) -> Iterator[list[SandboxServer]]:
    """`count` servers on one state file, each with its own delivery worker."""
    config = SandboxConfig(
        state_file=path,
        shared_state=True,
        rate_limits="off",
        delivery_batch_seconds=0.02,
        delivery_backoff_seconds=0.2,
    )
    with ExitStack() as stack:
        yield [stack.enter_context(SandboxServer(config)) for _ in range(count)]


def _create_profile(server: SandboxServer, email: str) -> str:
    with key_client(server) as client:
        response = client.post("/api/profiles", json=profile_body(email))
    assert response.status_code == 201, response.text
    profile_id: str = response.json()["data"]["id"]
    return profile_id


def _emails(server: SandboxServer) -> set[str]:
    with key_client(server) as client:
        response = client.get("/api/profiles", params={"page[size]": 100})
    assert response.status_code == 200, response.text
    return {item["attributes"]["email"] for item in response.json()["data"]}


def test_what_one_writes_the_others_read_at_once(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    reset(path, "empty")
    with _sharing(path, 2) as (first, second):
        _create_profile(first, "ann@example.com")
        assert "ann@example.com" in _emails(second)
        _create_profile(second, "bob@example.com")
        assert {"ann@example.com", "bob@example.com"} <= _emails(first)


def test_stopping_one_never_writes_its_old_state_over_the_others(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    reset(path, "empty")
    config = SandboxConfig(state_file=path, shared_state=True, rate_limits="off")
    long_lived = SandboxServer(config)
    long_lived.start()
    try:
        _create_profile(long_lived, "ann@example.com")
        with SandboxServer(config) as short_lived:
            _create_profile(short_lived, "bob@example.com")
        # The long-lived one (a listener) has not looked since; it stops now.
    finally:
        long_lived.stop()
    state = load_state(path)
    assert state is not None
    emails = {profile["email"] for profile in state.profiles.values()}
    assert {"ann@example.com", "bob@example.com"} <= emails


def test_a_moved_clock_is_seen_by_every_process(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    reset(path, "empty")
    with _sharing(path, 2) as (first, second):
        before = second.inspect()["clock_offset_seconds"]
        with key_client(first) as client:
            moved = client.post("/__sandbox/clock", json={"advance_seconds": 7200})
        assert moved.status_code == 200, moved.text
        assert second.inspect()["clock_offset_seconds"] == before + 7200


def test_a_due_delivery_is_sent_once_whichever_process_sees_it(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    reset(path, "advanced-kdp")
    with running_receiver(SECRET) as receiver, _sharing(path, 3) as servers:
        _subscribe(servers[0], receiver.url)
        params = {"company_id": servers[1].credentials.public_api_key}
        with public_client(servers[1]) as client:
            for index in range(5):
                body = review_body(f"buyer{index}@example.com")
                answer = client.post("/client/reviews", params=params, json=body)
                assert answer.status_code == 202, answer.text
        _wait_for_settled(servers[2])
        time.sleep(0.3)  # a second sender, if there were one, would have sent by now
    sent = [item["external_id"] for d in receiver.deliveries for item in d.document["data"]]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 5
    assert all(delivery.signature_ok for delivery in receiver.deliveries)


def _subscribe(server: SandboxServer, url: str) -> None:
    body = {
        "data": {
            "type": "webhook",
            "attributes": {"name": "hook", "endpoint_url": url, "secret_key": SECRET},
            "relationships": {
                "webhook-topics": {"data": [{"type": "webhook-topic", "id": REVIEW_TOPIC}]}
            },
        }
    }
    with key_client(server) as client:
        response = client.post("/api/webhooks", json=body)
    assert response.status_code == 201, response.text


def _wait_for_settled(server: SandboxServer, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deliveries: dict[str, Any] = server.inspect()["deliveries"]
        if deliveries["pending"] == 0 and deliveries["delivered"] > 0:
            return deliveries
        time.sleep(0.02)
    raise AssertionError(f"deliveries never settled: {server.inspect()['deliveries']}")


def _hold_lock(path: str, ready: Any, release: Any) -> None:
    with state_lock(Path(path)):
        ready.set()
        release.wait(10)


def test_the_lock_excludes_other_processes(tmp_path: Path) -> None:
    """The lock is the kernel's, not this process's: while another process holds it, a
    transaction here waits until it lets go."""
    path = tmp_path / "state.json"
    reset(path, "empty")
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(str(path), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        letting_go = threading.Timer(0.5, release.set)
        letting_go.start()
        started = time.monotonic()
        with SandboxServer(SandboxConfig(state_file=path, shared_state=True)) as server:
            waited = time.monotonic() - started
            server.inspect()
        assert waited >= 0.45
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0


def test_an_edit_by_hand_between_requests_is_read(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    reset(path, "empty")
    with _sharing(path, 1) as (server,):
        profile_id = _create_profile(server, "ann@example.com")
        document = json.loads(path.read_text(encoding="utf-8"))
        del document["profiles"][profile_id]
        # Written whole and renamed, as an editor saves: the emulator's background worker may
        # read the file at any moment, and a truncate-then-write would show it an empty file.
        edited = path.with_name("state.json.edit")
        edited.write_text(json.dumps(document), encoding="utf-8")
        edited.replace(path)
        assert "ann@example.com" not in _emails(server)
