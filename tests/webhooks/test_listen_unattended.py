"""`webhooks listen` where nobody is around: a headless server without any keyring, and a
container that gets its secrets from the environment only.

Both run the listener as its own process with keyring's `fail` backend (what keyring itself
picks when it finds no Secret Service, KWallet, macOS or Windows store), so nothing here can
lean on a keyring.
"""

from __future__ import annotations

import io
import json
import queue
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest

from joyctl import envvars
from joyctl.ledger.db import open_ledger
from joyctl.paths import resolve_paths
from tests.conftest import Cli
from tests.connection.support import PROFILE, Store, store_profile
from tests.credentials.memory_keyring import no_backend
from tests.webhooks.shop import Listener, Shop
from tests.webhooks.support import (
    delivery_body,
    free_port,
    post,
    review_event,
    seed_ledger,
    signed_headers,
)

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
CONTENT = "A wonderful blend that I brew every day, smooth and fragrant, {}."


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """This process finds no keyring either (the autouse fixture restores its stand-in)."""
    keyring.set_keyring(no_backend())
    yield


@pytest.fixture
def headless(cli: Cli, tmp_path: Path, isolated_home: Path, no_keyring: None) -> Iterator[Store]:
    """A store on an emulator whose tokens live an hour, and a profile `shop` for it."""
    with store_profile(cli, tmp_path / "browser", scenario="healthy") as store:
        store.env.update(NO_KEYRING)
        yield store


def _listener(store: Store, home: Path, port: int, env: dict[str, str]) -> Listener:
    paths = resolve_paths({envvars.HOME: str(home)})
    shop = Shop(store.server, {envvars.PROFILE: PROFILE, **env}, paths, [])
    return Listener.start(shop, port)


def _seed(home: Path, emails: list[str]) -> None:
    connection = open_ledger(resolve_paths({envvars.HOME: str(home)}).ledger_file(PROFILE))
    try:
        seed_ledger(connection, emails)
    finally:
        connection.close()


def _lines_until(listener: Listener, kind: str, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Every line the listener printed up to and including the first of `kind`."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = listener.lines.get(timeout=0.1)
        except queue.Empty:
            continue
        seen.append(line)
        if line["kind"] == kind:
            return seen
    raise AssertionError(f"no {kind!r} line in {seen}; it said: {listener.finish()[1]}")


def _ready(url: str, timeout: float = 20.0) -> tuple[int, dict[str, Any]]:
    """/readyz once it says ready (it says not ready until the start-up checks are done)."""
    deadline = time.monotonic() + timeout
    answer = _health(url, "/readyz")
    while answer[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = _health(url, "/readyz")
    return answer


def _health(url: str, path: str) -> tuple[int, dict[str, Any]]:
    base = url.rsplit("/klaviyo/webhooks", 1)[0]
    with httpx.Client(trust_env=False, timeout=10) as client:
        answer = client.get(base + path)
    document: dict[str, Any] = answer.json()
    return answer.status_code, document


def test_a_headless_server_keeps_working_hours_later_without_any_keyring(
    headless: Store, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = headless
    # Connect once, by OAuth, choosing the file: the only flag this profile ever needs.
    client_secret = store.env.pop(envvars.CLIENT_SECRET)
    monkeypatch.setattr("sys.stdin", io.StringIO(client_secret + "\n"))
    code, connected = store.json("connect", "--insecure-storage", "--client-secret-stdin")
    assert code == 0, connected
    assert connected["data"]["stored_in"] == "file"
    secrets_file = Path(connected["data"]["stored_at"])
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    tokens_at_connect = _stored(secrets_file, "oauth_tokens")

    emails = [customer.email for customer in store.server.scenario_seed.customers][:2]
    _seed(isolated_home, emails)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/klaviyo/webhooks"
    code, created = store.json("webhooks", "create", "--endpoint", endpoint)
    assert code == 0, created
    assert created["data"]["secret"] == "stored"
    assert _stored(secrets_file, f"webhook:{created['data']['id']}")

    listener = _listener(store, isolated_home, port, NO_KEYRING)
    try:
        ready = listener.expect("listening")
        assert _ready(ready["url"]) == (200, _ready_document())

        store.control("clock", {"advance_seconds": 7200})  # the access token has lapsed
        submitted = store.run(
            "reviews", "submit", "--email", emails[0], "--content", CONTENT.format(1)
        )
        assert submitted.exit_code == 0, submitted.stderr
        said = _lines_until(listener, "delivery")
        line = said[-1]
        assert (line["verdict"], line["awarded"]) == ("verified", 1), line
        assert line["pushed"] >= 1, line
        # It started without a word of warning: a webhook points here and its secret is known.
        assert [n for n in said if n["kind"] == "notice" and n["level"] == "warning"] == []
    finally:
        status, stderr = listener.finish(signal.SIGTERM)
    assert status == 0, stderr

    code, report = store.json("status")
    assert code == 0, report
    data = report["data"]
    assert data["connected"] is True
    assert data["credential"]["source"] == "file"
    assert data["secret_storage"] == {
        "kind": "file",
        "remembered": True,
        "location": str(secrets_file),
    }
    refreshed = _stored(secrets_file, "oauth_tokens")
    assert refreshed["access_token"] != tokens_at_connect["access_token"]
    assert _stored(secrets_file, "client_secret") == client_secret


def _stored(secrets_file: Path, name: str) -> Any:
    secrets = json.loads(secrets_file.read_text(encoding="utf-8"))["secrets"]
    value = secrets[f"{PROFILE}:{name}"]
    return json.loads(value) if name == "oauth_tokens" else value


def _ready_document() -> dict[str, Any]:
    checks = {"ledger": {"ok": True}, "signing_secret": {"ok": True}, "klaviyo": {"ok": True}}
    return {"status": "ready", "checks": checks}


def test_a_container_listens_with_its_secrets_in_the_environment_only(
    headless: Store, isolated_home: Path
) -> None:
    """No stored secret at all: the private key and the signing secret are variables, the
    data folder (JOYCTL_HOME) is the mounted volume."""
    store = headless
    server = store.server
    seed = server.scenario_seed
    signing_secret = "container-signing-secret-0123456789"
    webhook_id = "01HCONTAINERWEBHOOK0000000"
    emails = [customer.email for customer in seed.customers][:1]
    _seed(isolated_home, emails)
    port = free_port()
    environment = {
        **NO_KEYRING,
        envvars.API_KEY: server.credentials.private_key,
        envvars.WEBHOOK_SECRET: signing_secret,
    }
    listener = _listener(store, isolated_home, port, environment)
    try:
        ready = listener.expect("listening")
        assert _health(ready["url"], "/healthz") == (200, {"status": "alive"})
        code, readiness = _ready(ready["url"])
        assert code == 200, readiness
        assert readiness["checks"]["signing_secret"] == {"ok": True}

        review_id = seed.reviews[0].id
        event = review_event("ext-container-1", review_id, email=emails[0])
        body = delivery_body([event], account_id=seed.account_id, webhook_id=webhook_id)
        answer = post(ready["url"], body, signed_headers(signing_secret, body, webhook_id))
        assert answer.status_code == 200, answer.text
        line = listener.expect("delivery")
        assert (line["verdict"], line["status_code"]) == ("verified", 200), line

        forged = post(ready["url"], body, signed_headers("not-the-secret-000000", body, webhook_id))
        assert forged.status_code == 401
    finally:
        status, stderr = listener.finish(signal.SIGTERM)
    assert status == 0, stderr
    assert signing_secret not in stderr
    assert not list(isolated_home.rglob("credentials.json"))  # nothing was written to a file
