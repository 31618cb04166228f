"""The receiver under attack and at its limits: forged floods, slow clients, odd bytes, chunked
bodies, a full house. Real sockets against the receiver serving in this process."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from joyctl.credentials import CredentialStore
from joyctl.credentials.model import Stored
from joyctl.klaviyo import signing
from joyctl.services.webhooks import receiver as webhook_receiver
from joyctl.services.webhooks.listen import MISSING_TTL_SECONDS, SecretCache
from joyctl.services.webhooks.process import replay_deliveries
from tests.klaviyo.support import FakeClock
from tests.webhooks.conftest import ACCOUNT, SECRET, WEBHOOK, Listening, ReceiverFactory
from tests.webhooks.support import balance, delivery_body, review_event, signed_headers

ANN = "ann@example.com"
FIVE_MB = 5 * 1000 * 1000


def _body() -> bytes:
    event = review_event("e1", "r1", email=ANN)
    return delivery_body([event], account_id=ACCOUNT, webhook_id=WEBHOOK)


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def _head(url: str, headers: dict[str, str], *, extra: bytes = b"") -> bytes:
    lines = [f"POST {urlsplit(url).path} HTTP/1.1", "Host: receiver"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return "\r\n".join(lines).encode("latin-1") + extra + b"\r\n\r\n"


def exchange(url: str, data: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes, then read the answer until the receiver closes the connection."""
    with socket.create_connection(_address(url), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return _read_all(sock)


def _read_all(sock: socket.socket) -> bytes:
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1."), answer[:100]
    return int(answer.split(b" ", 2)[1])


def _rows(connection: sqlite3.Connection) -> list[sqlite3.Row]:
    return connection.execute("SELECT * FROM webhook_deliveries ORDER BY id").fetchall()


def _ledger_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.glob("ledger.sqlite3*"))


def _signed(body: bytes) -> dict[str, str]:
    return {**signed_headers(SECRET, body, WEBHOOK), "Content-Length": str(len(body))}


# --- what is kept ------------------------------------------------------------------------


def test_forty_forged_five_megabyte_bodies_grow_the_ledger_by_under_a_megabyte(
    start_receiver: ReceiverFactory, tmp_path: Path
) -> None:
    listening = start_receiver(max_body_bytes=5 * 1024 * 1024)
    forged = b'{"data": [], "padding": "' + b"x" * (FIVE_MB - 40) + b'"}'
    headers = {**_signed(forged), signing.HEADER_SIGNATURE: "0" * 64}
    listening.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _ledger_bytes(tmp_path)

    for _ in range(40):
        assert status_of(exchange(listening.url, _head(listening.url, headers) + forged)) == 401

    listening.wait_for(40)
    grown = _ledger_bytes(tmp_path) - before
    assert grown < 1024 * 1024, f"the ledger grew by {grown} bytes"
    rows = _rows(listening.connection)
    assert len(rows) == 40
    assert {(row["reason"], row["body"], row["body_bytes"]) for row in rows} == {
        ("bad_signature", b"", len(forged))
    }


def test_rejected_rows_past_the_retention_limit_are_pruned_and_verified_ones_kept(
    start_receiver: ReceiverFactory,
) -> None:
    listening = start_receiver(keep_rejected=5)
    body = _body()
    assert status_of(exchange(listening.url, _head(listening.url, _signed(body)) + body)) == 200
    forged = {**_signed(body), signing.HEADER_SIGNATURE: "f" * 64}
    for _ in range(12):
        exchange(listening.url, _head(listening.url, forged) + body)

    lines = listening.wait_for(13)
    rows = _rows(listening.connection)
    assert [row["verdict"] for row in rows] == ["verified"] + ["rejected"] * 5
    assert [row["id"] for row in rows[1:]] == [line.delivery_id for line in lines[-5:]]


def test_an_unknown_webhook_is_refused_before_its_body_is_read(
    start_receiver: ReceiverFactory,
) -> None:
    listening = start_receiver()
    headers = {**_signed(b"{}"), signing.HEADER_WEBHOOK_ID: "01HNOTOURS0000000000000000"}
    # The body is never sent: the answer comes from the headers alone.
    head = _head(listening.url, {**headers, "Content-Length": "3000"})
    with socket.create_connection(_address(listening.url), timeout=5) as sock:
        sock.sendall(head)
        answer = _read_all(sock)
    assert status_of(answer) == 401
    [row] = _rows(listening.connection)
    assert (row["reason"], row["body"], row["body_bytes"]) == ("unknown_webhook", b"", 3000)


def test_a_client_still_sending_a_refused_body_gets_the_answer(
    start_receiver: ReceiverFactory,
) -> None:
    listening = start_receiver()
    body = b"x" * 200_000
    with socket.create_connection(_address(listening.url), timeout=5) as sock:
        # The 413 is decided from the headers while the body is still on its way.
        sock.sendall(_head(listening.url, _signed(body)) + body)
        assert status_of(_read_all(sock)) == 413


class CountingStore(CredentialStore):
    """The profile's real store (on the in-memory keyring), counting webhook secret reads."""

    reads = 0

    def read_webhook_secret(self, webhook_id: str) -> Stored[SecretStr] | None:
        self.reads += 1
        return super().read_webhook_secret(webhook_id)


def test_an_unknown_webhook_id_costs_one_keyring_read_in_a_while(tmp_path: Path) -> None:
    store = CountingStore("default", tmp_path)
    clock = FakeClock()
    secrets = SecretCache(store, clock=clock)
    for _ in range(50):
        assert secrets("01HNOTOURS0000000000000000") is None
    assert store.reads == 1
    store.write_webhook_secret("01HNOTOURS0000000000000000", SecretStr("created-since"))
    clock.advance(MISSING_TTL_SECONDS)
    assert secrets("01HNOTOURS0000000000000000") == "created-since"
    assert (secrets("01HNOTOURS0000000000000000"), store.reads) == ("created-since", 2)
    assert secrets("bad id\n") is None and store.reads == 2  # not even shaped like one


# --- odd bytes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [b"\xff\xfe\x00" * 22, "é".encode() * 32, b"\x1b[31m" + b"a" * 59, b"\xc3" + b"0" * 63],
)
def test_a_non_ascii_signature_is_a_401_and_replay_still_works(
    start_receiver: ReceiverFactory, signature: bytes
) -> None:
    listening = start_receiver()
    body = _body()
    headers = {k: v for k, v in _signed(body).items() if k != signing.HEADER_SIGNATURE}
    head = _head(listening.url, headers, extra=b"\r\nKlaviyo-Signature: " + signature)

    answer = exchange(listening.url, head + body)

    assert status_of(answer) == 401
    [line] = listening.wait_for(1)
    assert (line.verdict, line.reason) == ("rejected", "bad_signature")
    assert listening.receiver is not None and listening.receiver.internal_errors == 0
    summary = replay_deliveries(listening.connection, listening.receiver.processor)
    assert (summary.deliveries, summary.failed) == (0, 0)


def test_odd_webhook_ids_are_shown_escaped(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    body = _body()
    head = _head(listening.url, {**_signed(body), signing.HEADER_WEBHOOK_ID: "\x1b[2Jx" * 40})
    assert status_of(exchange(listening.url, head + body)) == 401
    [line] = listening.wait_for(1)
    assert line.detail is not None
    assert "\x1b" not in line.detail and len(line.detail) < 200


# --- chunked bodies -----------------------------------------------------------------------


def _chunked(body: bytes, size: int = 100) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def _chunked_head(url: str, body: bytes) -> bytes:
    headers = {k: v for k, v in _signed(body).items() if k != "Content-Length"}
    return _head(url, {**headers, "Transfer-Encoding": "chunked"})


def test_a_chunked_delivery_within_the_limit_is_verified(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    body = _body()
    answer = exchange(listening.url, _chunked_head(listening.url, body) + _chunked(body))
    assert status_of(answer) == 200
    [line] = listening.wait_for(1)
    assert (line.verdict, line.awarded) == ("verified", 1)
    assert balance(listening.connection, ANN) == 50
    [row] = _rows(listening.connection)
    assert (row["body"], row["body_bytes"]) == (body, len(body))


@pytest.mark.parametrize(
    ("chunks", "status", "reason"),
    [
        (b"1000\r\n" + b"x" * 4096 + b"\r\n1\r\nx\r\n0\r\n\r\n", 413, "too_large"),
        (b"zz\r\nabc\r\n0\r\n\r\n", 400, "bad_request"),
        (b"0x10\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n", 400, "bad_request"),
        (b"10\r\nshort", 400, "bad_request"),
        (b"3\r\nabcX\r\n0\r\n\r\n", 400, "bad_request"),
    ],
)
def test_a_broken_or_oversized_chunked_body_is_refused(
    start_receiver: ReceiverFactory, chunks: bytes, status: int, reason: str
) -> None:
    listening = start_receiver()
    answer = exchange(listening.url, _chunked_head(listening.url, _body()) + chunks)
    assert status_of(answer) == status
    [line] = listening.wait_for(1)
    assert line.reason == reason
    [row] = _rows(listening.connection)
    assert row["body"] == b""


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        ({"Transfer-Encoding": "gzip"}, 400),
        ({"Transfer-Encoding": "chunked", "Content-Length": "10"}, 400),
        ({"Content-Length": "-1"}, 400),
        ({"Content-Length": "1" * 40}, 400),
        ({}, 411),
    ],
)
def test_framing_that_cannot_be_read_is_refused(
    start_receiver: ReceiverFactory, framing: dict[str, str], status: int
) -> None:
    listening = start_receiver()
    headers = {k: v for k, v in _signed(b"{}").items() if k != "Content-Length"}
    assert (
        status_of(exchange(listening.url, _head(listening.url, {**headers, **framing}))) == status
    )


def test_two_differing_lengths_are_refused(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    body = _body()
    head = _head(listening.url, _signed(body), extra=b"\r\nContent-Length: 2")
    assert status_of(exchange(listening.url, head + body)) == 400


# --- slow clients, a full house, a stop ---------------------------------------------------


@contextmanager
def slow_clients(url: str, count: int, *, body: bool = False) -> Iterator[list[socket.socket]]:
    """Clients that send one byte every half second until closed: of their headers, or (with
    `body`) of a body whose headers they sent at once."""
    stop = threading.Event()
    socks = [socket.create_connection(_address(url), timeout=5) for _ in range(count)]
    for sock in socks:
        sock.sendall(_head(url, _signed(b"{" * 100)) if body else b"POST / HTTP/1.1\r\nX-Slow: ")
    threads = [threading.Thread(target=_dribble, args=(sock, stop)) for sock in socks]
    for thread in threads:
        thread.start()
    try:
        yield socks
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        for sock in socks:
            sock.close()


def _dribble(sock: socket.socket, stop: threading.Event) -> None:
    with closing(sock.dup()) as own:
        while not stop.wait(0.5):
            try:
                own.sendall(b"{")
            except OSError:
                return


def test_slow_headers_are_cut_off_at_their_deadline(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver(header_timeout=1.0)
    with slow_clients(listening.url, 1) as [sock]:
        started = time.monotonic()
        assert _read_all(sock) == b""  # closed without an answer
        assert time.monotonic() - started < 3
    assert _rows(listening.connection) == []


def test_a_slow_body_is_cut_off_and_refused(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver(body_timeout=1.0)
    with slow_clients(listening.url, 1, body=True) as [sock]:
        started = time.monotonic()
        assert status_of(_read_all(sock)) == 400
        assert time.monotonic() - started < 4
    [line] = listening.wait_for(1)
    assert line.reason == "bad_request"
    assert line.detail is not None and "did not arrive" in line.detail


def test_a_full_house_answers_503_and_serves_again_once_free(
    start_receiver: ReceiverFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_receiver, "SLOT_WAIT_SECONDS", 0.3)
    listening = start_receiver(max_connections=2)
    body = _body()
    request = _head(listening.url, _signed(body)) + body
    with slow_clients(listening.url, 2):
        time.sleep(0.2)
        assert status_of(exchange(listening.url, request)) == 503
    assert status_of(exchange(listening.url, request)) == 200


def test_a_burst_of_two_hundred_connections_is_answered(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    headers = {**_signed(b"{}"), signing.HEADER_WEBHOOK_ID: "01HNOTOURS0000000000000000"}
    request = _head(listening.url, headers) + b"{}"
    socks = [socket.create_connection(_address(listening.url), timeout=20) for _ in range(200)]
    try:
        for sock in socks:
            sock.sendall(request)
        statuses = []
        for sock in socks:
            statuses.append(status_of(_read_all(sock)))
            sock.close()  # as a client does once it has its answer
    finally:
        for sock in socks:
            sock.close()
    assert statuses == [401] * 200


def test_a_stop_is_not_held_by_five_slow_clients(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    with slow_clients(listening.url, 5), slow_clients(listening.url, 2, body=True):
        time.sleep(1.0)
        started = time.monotonic()
        _stop(listening)
        assert time.monotonic() - started < 2


def _stop(listening: Listening) -> None:
    assert listening.receiver is not None
    listening.receiver.stop()
