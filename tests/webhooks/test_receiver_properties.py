"""Whatever bytes arrive, the receiver answers with its own HTTP status or closes the connection;
no exception escapes its request handling, its verification or its body reader."""

from __future__ import annotations

import io
import json
import socket
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from joyctl.klaviyo import signing
from joyctl.ledger.deliveries import Verdict
from joyctl.services.webhooks.framing import Framing, body_framing, read_body
from joyctl.services.webhooks.intake import DeliveryIntake, DeliveryLine
from joyctl.services.webhooks.verify import DeliveryRequest, VerifyRules, verify_delivery
from tests.webhooks.conftest import ACCOUNT, SECRET, WEBHOOK, ReceiverFactory

# Statuses the receiver or the standard library's HTTP parser beneath it may answer.
KNOWN_STATUSES = {200, 400, 401, 403, 404, 405, 411, 413, 414, 431, 501, 505}
HEADER_NAMES = [
    "Klaviyo-Webhook-Id",
    "Klaviyo-Timestamp",
    "Klaviyo-Signature",
    "Content-Length",
    "Transfer-Encoding",
    "Content-Type",
    "Expect",
]
SLOW = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

header_value = st.one_of(
    st.binary(max_size=80),
    st.sampled_from([b"", b"chunked", b"12", b"-1", b"9" * 30, WEBHOOK.encode(), b"0" * 64]),
)
header_lines = st.lists(
    st.tuples(
        st.one_of(st.sampled_from([n.encode() for n in HEADER_NAMES]), st.binary(max_size=20)),
        header_value,
    ),
    max_size=8,
)
request_lines = st.one_of(
    st.sampled_from(
        [
            b"POST /klaviyo/webhooks HTTP/1.1",
            b"POST /klaviyo/webhooks?x=1 HTTP/1.0",
            b"GET / HTTP/1.1",
        ]
    ),
    st.binary(max_size=60),
)


def _raw_request(line: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    head = line + b"\r\n" + b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return head + b"\r\n" + body


def _exchange(url: str, data: bytes) -> bytes:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the receiver may answer and close before taking it all
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


@pytest.fixture
def receiver_url(start_receiver: ReceiverFactory) -> Any:
    listening = start_receiver(header_timeout=2.0, body_timeout=2.0)
    return listening


@SLOW
@given(line=request_lines, headers=header_lines, body=st.binary(max_size=3000))
@example(
    line=b"POST /klaviyo/webhooks HTTP/1.1",
    headers=[(b"Klaviyo-Signature", b"\xff\xfe"), (b"Content-Length", b"2")],
    body=b"{}",
)
@example(
    line=b"POST /klaviyo/webhooks HTTP/1.1",
    headers=[(b"Expect", b"100-continue"), (b"Transfer-Encoding", b"chunked")],
    body=b"2\r\n{}\r\n0\r\n\r\n",
)
def test_any_request_gets_a_known_answer_and_nothing_escapes(
    receiver_url: Any, line: bytes, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    listening = receiver_url
    answer = _exchange(listening.url, _raw_request(line, headers, body))
    answer = answer.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")  # a client asked for it
    if answer:
        assert answer.startswith(b"HTTP/1."), answer[:80]
        assert int(answer.split(b" ", 2)[1]) in KNOWN_STATUSES, answer[:80]
    assert listening.receiver.internal_errors == 0, listening.lines[-1:]


# --- the same rules without a server, many more cases --------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
delivery_like = st.fixed_dictionaries(
    {
        "data": st.one_of(
            json_values,
            st.lists(
                st.fixed_dictionaries(
                    {"external_id": json_values, "topic": json_values, "payload": json_values}
                ),
                max_size=3,
            ),
        ),
        "meta": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "klaviyo_account_id": st.one_of(st.just(ACCOUNT), json_values),
                    "klaviyo_webhook_id": st.one_of(st.just(WEBHOOK), json_values),
                    "timestamp": st.one_of(
                        st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
                        st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]),
                        json_values,
                    ),
                }
            ),
        ),
    }
)
bodies = st.one_of(
    st.binary(max_size=500),
    delivery_like.map(lambda document: json.dumps(document).encode()),
    st.sampled_from([b"[" * 100_000, b'{"meta": {"timestamp": ' + b"9" * 5000 + b"}}"]),
)
any_headers = st.dictionaries(
    st.one_of(st.sampled_from([n.lower() for n in HEADER_NAMES]), st.text(max_size=10)),
    st.text(max_size=80),
    max_size=6,
)


def _rules() -> VerifyRules:
    secrets = {WEBHOOK: SECRET}
    return VerifyRules(secrets.get, ACCOUNT, 300.0, datetime.now(UTC))


@settings(max_examples=300, deadline=None)
@given(headers=any_headers, body=bodies, sign=st.booleans())
def test_verification_always_gives_a_verdict(
    headers: dict[str, str], body: bytes, sign: bool
) -> None:
    if sign:  # signed bodies reach the document checks
        timestamp = headers.get("klaviyo-timestamp", "Tue, 14 Apr 2026 03:50:12 GMT")
        headers = {
            **headers,
            "klaviyo-webhook-id": WEBHOOK,
            "klaviyo-timestamp": timestamp,
            "klaviyo-signature": signing.sign(SECRET, body, timestamp),
        }
    verdict = verify_delivery(DeliveryRequest(headers, body, len(body), 10_000), _rules())
    assert verdict.verdict in ("verified", "rejected")
    assert verdict.detail is None or len(verdict.detail) < 400


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(headers=any_headers, body=bodies, sign=st.booleans())
def test_the_intake_always_records_a_line(
    ledger: sqlite3.Connection, headers: dict[str, str], body: bytes, sign: bool
) -> None:
    if sign:
        timestamp = "Tue, 14 Apr 2026 03:50:12 GMT"
        headers = {
            "klaviyo-webhook-id": WEBHOOK,
            "klaviyo-timestamp": timestamp,
            "klaviyo-signature": signing.sign(SECRET, body, timestamp),
        }
    intake = DeliveryIntake(
        ledger, threading.RLock(), {WEBHOOK: SECRET}.get, ACCOUNT, 300.0, keep_rejected=20
    )
    line = intake.receive(DeliveryRequest(headers, body, len(body), 10_000))
    assert isinstance(line, DeliveryLine)
    assert 200 <= line.status_code < 500


def _chunk(body: bytes, sizes: list[int]) -> bytes:
    out, at = b"", 0
    for size in sizes:
        piece = body[at : at + size]
        if not piece:
            break
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
        at += len(piece)
    if at < len(body):
        out += b"%X;ext=1\r\n%s\r\n" % (len(body) - at, body[at:])
    return out + b"0\r\nTrailer: x\r\n\r\n"


@given(body=st.binary(max_size=2000), sizes=st.lists(st.integers(1, 300), max_size=10))
def test_a_chunked_body_reads_back_as_sent(body: bytes, sizes: list[int]) -> None:
    assert read_body(io.BytesIO(_chunk(body, sizes)), Framing(None), 10_000) == body


@given(data=st.binary(max_size=3000), limit=st.integers(0, 4000))
def test_the_body_reader_gives_bytes_within_the_limit_or_a_verdict(data: bytes, limit: int) -> None:
    result = read_body(io.BytesIO(data), Framing(None), limit)
    assert isinstance(result, Verdict) or len(result) <= limit


@given(headers=any_headers, limit=st.integers(0, 10**7))
def test_framing_is_a_length_within_the_limit_chunks_or_a_verdict(
    headers: dict[str, str], limit: int
) -> None:
    framing = body_framing(headers, limit)
    assert isinstance(framing, Verdict) or framing.length is None or framing.length <= limit
