"""The receiver over real HTTP: check, store what is signed, answer, de-duplicate, reward once."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from joyctl.errors import RemoteError, UsageError
from joyctl.klaviyo import signing
from joyctl.services.rewards.pipeline import IncomingReview
from joyctl.services.rewards.sources import incoming_from_fields
from joyctl.services.webhooks.receiver import ListenOptions, WebhookReceiver
from tests.webhooks.conftest import ACCOUNT, MAX_BODY, SECRET, WEBHOOK, ReceiverFactory
from tests.webhooks.support import (
    balance,
    delivery_body,
    post,
    review_event,
    signed_headers,
)

ANN = "ann@example.com"


def _body(*events: dict[str, Any], **meta: Any) -> bytes:
    values: dict[str, Any] = {"account_id": ACCOUNT, "webhook_id": WEBHOOK, **meta}
    return delivery_body(list(events) or [review_event("e1", "r1", email=ANN)], **values)


def _send(url: str, body: bytes, secret: str = SECRET, **header_overrides: str) -> httpx.Response:
    headers = {**signed_headers(secret, body, WEBHOOK), **header_overrides}
    return post(url, body, headers)


def _rows(connection: sqlite3.Connection) -> list[sqlite3.Row]:
    return connection.execute("SELECT * FROM webhook_deliveries ORDER BY id").fetchall()


def test_a_verified_review_earns_points_once(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    body = _body()
    assert _send(listening.url, body).status_code == 200
    first = listening.wait_for(1)[0]
    assert (first.verdict, first.awarded, first.points) == ("verified", 1, 50)
    assert balance(listening.connection, ANN) == 50

    # Klaviyo retries with the same body and a fresh timestamp and signature.
    assert _send(listening.url, body).status_code == 200
    again = listening.wait_for(2)[1]
    assert (again.verdict, again.duplicates, again.awarded) == ("verified", 1, 0)
    assert balance(listening.connection, ANN) == 50
    rows = _rows(listening.connection)
    assert [row["processed_at"] is not None for row in rows] == [True, True]
    assert rows[0]["body"] == body


def test_a_batch_repeating_an_event_counts_it_once(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    event = review_event("e1", "r1", email=ANN)
    other = review_event("e2", "r2", email="bob@example.com")
    assert _send(listening.url, _body(event, other, event)).status_code == 200
    line = listening.wait_for(1)[0]
    assert (line.events, line.awarded, line.points) == (2, 2, 100)


def _tamper(case: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    headers = signed_headers(SECRET, body, WEBHOOK)
    if case == "forged":
        headers[signing.HEADER_SIGNATURE] = "f" * 64
    elif case == "wrong_secret":
        headers = signed_headers("not-the-secret-0123456789", body, WEBHOOK)
    elif case in ("mismatched_webhook_id", "stale", "unknown_account", "malformed_json"):
        changed = {
            "mismatched_webhook_id": _body(webhook_id="01HSOMEOTHERWEBHOOK0000000"),
            "stale": _body(sent_at=datetime.now(UTC) - timedelta(hours=2)),
            "unknown_account": _body(account_id="NotOurs1"),
            "malformed_json": b'{"data": [{"external_id": "e1",',
        }[case]
        return changed, signed_headers(SECRET, changed, WEBHOOK)
    elif case == "oversized":
        padded = body[:-1] + b', "padding": "' + b"x" * MAX_BODY + b'"}'
        return padded, signed_headers(SECRET, padded, WEBHOOK)
    return body, headers


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("forged", 401, "bad_signature"),
        ("wrong_secret", 401, "bad_signature"),
        ("mismatched_webhook_id", 403, "webhook_id_mismatch"),
        ("stale", 400, "stale_timestamp"),
        ("malformed_json", 400, "malformed_json"),
        ("unknown_account", 403, "unknown_account"),
        ("oversized", 413, "too_large"),
    ],
)
def test_a_rejected_delivery_is_stored_with_its_reason_and_awards_nothing(
    start_receiver: ReceiverFactory, case: str, status: int, reason: str
) -> None:
    listening = start_receiver()
    body, headers = _tamper(case, _body())
    response = post(listening.url, body, headers)
    assert response.status_code == status
    assert response.json()["verdict"] == "rejected"
    line = listening.wait_for(1)[0]
    assert (line.verdict, line.reason) == ("rejected", reason)
    [row] = _rows(listening.connection)
    assert (row["verdict"], row["reason"], row["status_code"]) == ("rejected", reason, status)
    assert row["detail"]
    assert row["body_bytes"] == len(body)
    signed = case not in ("forged", "wrong_secret", "oversized")
    # A signed request is kept in full as evidence; an unsigned one only as a small audit row.
    assert row["body"] == (body if signed else b"")
    assert balance(listening.connection, ANN) == 0
    assert listening.connection.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 0


def test_headers_are_stored_without_credentials(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    _send(listening.url, _body(), Authorization="Bearer do-not-keep", Cookie="session=x")
    listening.wait_for(1)
    [row] = _rows(listening.connection)
    assert "do-not-keep" not in row["headers"]
    assert "session=x" not in row["headers"]
    assert "klaviyo-signature" in row["headers"]


def test_other_paths_and_methods_are_not_deliveries(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    with httpx.Client(trust_env=False) as client:
        assert client.post(listening.url + "/elsewhere", content=b"{}").status_code == 404
        assert client.get(listening.url).status_code == 405
    assert _rows(listening.connection) == []


def test_a_payload_without_the_email_fetches_the_review(start_receiver: ReceiverFactory) -> None:
    fetched: list[str] = []

    def fetch(review_id: str) -> IncomingReview | None:
        fetched.append(review_id)
        fields = {"id": review_id, "email": ANN, "content": "x" * 40, "status": "published"}
        return incoming_from_fields(fields, origin="webhook")

    listening = start_receiver(fetch)
    _send(listening.url, _body(review_event("e9", "r9")))
    line = listening.wait_for(1)[0]
    assert fetched == ["r9"]
    assert line.awarded == 1
    assert balance(listening.connection, ANN) == 50


def test_a_failed_fetch_leaves_the_delivery_for_replay(start_receiver: ReceiverFactory) -> None:
    def unavailable(review_id: str) -> IncomingReview | None:
        raise RemoteError("Klaviyo answered 503 after 5 attempts")

    listening = start_receiver(unavailable)
    assert _send(listening.url, _body(review_event("e9", "r9"))).status_code == 200
    line = listening.wait_for(1)[0]
    assert line.error is not None and "503" in line.error
    [row] = _rows(listening.connection)
    assert row["processed_at"] is None
    assert "503" in row["last_error"]


def test_a_port_in_use_is_a_usage_error(start_receiver: ReceiverFactory) -> None:
    listening = start_receiver()
    port = int(listening.url.split(":")[2].split("/")[0])
    second = WebhookReceiver(
        ListenOptions(port=port),
        None,  # type: ignore[arg-type]  # never reached: binding fails first
        None,  # type: ignore[arg-type]
        lambda line: None,
    )
    with pytest.raises(UsageError, match=f"port {port} is in use"):
        second.start()


def test_a_stop_does_not_wait_for_a_hung_klaviyo_call(
    start_receiver: ReceiverFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from joyctl.services.webhooks import receiver as webhook_receiver

    monkeypatch.setattr(webhook_receiver, "STOP_GRACE_SECONDS", 0.1)
    fetching, release = threading.Event(), threading.Event()

    def hung(review_id: str) -> IncomingReview | None:
        fetching.set()
        release.wait(10)
        raise RemoteError("gave up")

    listening = start_receiver(hung)
    assert _send(listening.url, _body(review_event("e9", "r9"))).status_code == 200
    assert fetching.wait(5)
    receiver = listening.receiver
    assert receiver is not None
    receiver.stop()
    [row] = _rows(listening.connection)
    assert (row["verdict"], row["processed_at"]) == ("verified", None)
    # Let the abandoned worker end (it finds the ledger fenced off until the lock is freed).
    release.set()
    receiver.processor.lock.release()
    for thread in threading.enumerate():
        if thread.name == "webhook-worker":
            thread.join(5)
