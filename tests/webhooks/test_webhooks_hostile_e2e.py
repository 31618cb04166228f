"""`joyctl webhooks listen` and `webhooks replay` as their own processes, against hostile clients
and bad stored rows: slow clients cannot hold a SIGTERM, odd signature bytes are a 401 and
never break a replay, and one delivery that cannot be processed does not stop the others."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import keyring

from joyctl.credentials import SERVICE_NAME
from joyctl.ledger import deliveries as queries
from joyctl.ledger.db import open_ledger
from joyctl.services.webhooks.verify import kept_headers
from tests.conftest import Cli
from tests.webhooks.shop import PROFILE, Listener, Shop, cli_data
from tests.webhooks.support import delivery_body, free_port, review_event, signed_headers

HOOK_URL = "https://hooks.example.com/klaviyo/webhooks"


def _hook(cli: Cli, shop: Shop) -> tuple[str, str]:
    created = cli_data(cli, shop, "webhooks", "create", "--endpoint", HOOK_URL)
    secret = keyring.get_password(SERVICE_NAME, f"{PROFILE}:webhook:{created['id']}")
    assert secret is not None
    return created["id"], secret


@contextmanager
def _slow_clients(port: int, count: int) -> Iterator[None]:
    """Clients sending one header byte every two seconds, as in the attack the issue measured."""
    stop = threading.Event()
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]

    def dribble(sock: socket.socket) -> None:
        for byte in b"POST /klaviyo/webhooks HTTP/1.1\r\nX-Slow: " + b"x" * 100:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return
            if stop.wait(2.0):
                return

    threads = [threading.Thread(target=dribble, args=(sock,), daemon=True) for sock in socks]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for sock in socks:
            sock.close()


def test_five_slow_clients_do_not_delay_sigterm(shop: Shop) -> None:
    port = free_port()
    listener = Listener.start(shop, port)
    listener.expect("listening")
    with _slow_clients(port, 5):
        time.sleep(3)  # the clients are well into their headers
        started = time.monotonic()
        status, stderr = listener.finish(signal.SIGTERM)
        took = time.monotonic() - started
    assert status == 0, stderr
    assert took < 5, f"the listener took {took:.1f}s to stop"


def test_a_non_ascii_signature_is_a_401_and_replay_still_works(cli: Cli, shop: Shop) -> None:
    webhook_id, secret = _hook(cli, shop)
    body = delivery_body(
        [review_event("e1", "r1", email=shop.emails[0])],
        account_id=shop.account_id,
        webhook_id=webhook_id,
    )
    headers = signed_headers(secret, body, webhook_id)
    del headers["Klaviyo-Signature"]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
    port = free_port()
    listener = Listener.start(shop, port)
    try:
        listener.expect("listening")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /klaviyo/webhooks HTTP/1.1\r\n" + head + b"Klaviyo-Signature: \xff\xfe\xc3"
                b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 401"), answer
        line = listener.expect("delivery")
        assert (line["verdict"], line["reason"]) == ("rejected", "bad_signature")
    finally:
        status, stderr = listener.finish(signal.SIGTERM)
    assert status == 0, stderr

    replayed = cli("--json", "webhooks", "replay", env=shop.env)
    assert replayed.exit_code == 0, replayed.stderr


def test_replay_checks_a_stored_non_ascii_signature_and_goes_on(cli: Cli, shop: Shop) -> None:
    """What an earlier joyctl left behind: the row stored before verification raised."""
    webhook_id, secret = _hook(cli, shop)
    genuine = delivery_body(
        [review_event("e1", "r1", email=shop.emails[1])],
        account_id=shop.account_id,
        webhook_id=webhook_id,
    )
    good = {k.lower(): v for k, v in signed_headers(secret, genuine, webhook_id).items()}
    odd = {**good, "klaviyo-signature": "\xff\xfe\xc3"}
    _store(shop, (odd, genuine), (good, genuine))

    summary = cli_data(cli, shop, "webhooks", "replay")

    assert (summary["rechecked"], summary["deliveries"], summary["awarded"]) == (2, 1, 1)
    verdicts = shop.query("SELECT verdict, reason FROM webhook_deliveries ORDER BY id")
    assert [tuple(row) for row in verdicts] == [("rejected", "bad_signature"), ("verified", None)]


def test_replay_marks_a_delivery_it_cannot_process_and_goes_on(cli: Cli, shop: Shop) -> None:
    webhook_id, secret = _hook(cli, shop)
    email = shop.emails[2]
    genuine = delivery_body(
        [review_event("e1", "r1", email=email)], account_id=shop.account_id, webhook_id=webhook_id
    )
    headers = {k.lower(): v for k, v in signed_headers(secret, genuine, webhook_id).items()}
    verified = queries.Verdict(queries.VERIFIED, 200, event_count=1)
    broken, good = _store(shop, (headers, b"not a document"), (headers, genuine), verdict=verified)

    result = cli("--json", "webhooks", "replay", env=shop.env)

    assert result.exit_code == 7, result.stderr
    rows = {row["id"]: row for row in shop.query("SELECT * FROM webhook_deliveries")}
    assert rows[broken]["processed_at"] is None
    assert "cannot be processed" in rows[broken]["last_error"]
    assert rows[good]["processed_at"] is not None
    assert int(cli_data(cli, shop, "ledger", "balance", email)["balance"]) == 50


def _store(
    shop: Shop, *requests: tuple[dict[str, str], bytes], verdict: queries.Verdict | None = None
) -> list[int]:
    connection = open_ledger(shop.paths.ledger_file(PROFILE))
    ids = []
    try:
        for headers, body in requests:
            arrived = datetime.now(UTC).isoformat()
            received = queries.NewDelivery(
                arrived, headers["klaviyo-webhook-id"], kept_headers(headers), body, len(body)
            )
            delivery_id = queries.store_delivery(connection, received)
            if verdict is not None:
                queries.record_verdict(connection, delivery_id, verdict)
            ids.append(delivery_id)
    finally:
        connection.close()
    return ids
