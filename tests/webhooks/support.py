"""Helpers for webhook tests: signed deliveries, a seeded ledger, a keyring two processes share."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
from keyring.backend import KeyringBackend
from keyring.compat import properties

from joyctl.engine import WriteReviewProgram
from joyctl.klaviyo import signing
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import transaction
from joyctl.ledger.programs import record_program_version
from joyctl.services.connection.credential_store import EmulatorSecretsFile

KEYRING_FILE_VARIABLE = "JOYCTL_TEST_KEYRING_FILE"
KEYRING_BACKEND = "tests.webhooks.support.SharedFileKeyring"
REVIEW_TOPIC = "event:klaviyo.submitted_review"
LONG_TEXT = "A smooth, fragrant tea that I brew every single morning."


class SharedFileKeyring(KeyringBackend):
    """A keyring in one JSON file, so a `joyctl` subprocess reads what the test stored.

    Chosen only through PYTHON_KEYRING_BACKEND with the file named in the environment; keyring's
    own detection can never pick it.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated
        self._file = EmulatorSecretsFile(Path(os.environ[KEYRING_FILE_VARIABLE]))

    @properties.classproperty
    def priority(cls) -> float:
        if not os.environ.get(KEYRING_FILE_VARIABLE):
            raise RuntimeError(f"only with {KEYRING_FILE_VARIABLE} set")
        return 1.0

    def get_password(self, service: str, username: str) -> str | None:
        return self._file.get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._file.set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._file.delete_password(service, username)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def seed_ledger(
    connection: sqlite3.Connection, emails: Sequence[str], *, points_per_review: int = 50
) -> None:
    """Members and an enabled write-review program, as a store would have them."""
    with transaction(connection):
        for email in emails:
            upsert_customer(connection, CustomerFields(email=email))
        program = WriteReviewProgram(enabled=True, points_per_review=points_per_review)
        settings = program.model_dump(mode="json")
        record_program_version(connection, "write-review", settings, list(settings))


def balance(connection: sqlite3.Connection, email: str) -> int:
    row = connection.execute(
        "SELECT coalesce(sum(e.delta), 0) FROM point_entries e"
        " JOIN customers c ON c.id = e.customer_id WHERE c.email = ?",
        (email,),
    ).fetchone()
    return int(row[0])


def review_event(
    external_id: str, review_id: str, *, email: str | None = None, **properties: Any
) -> dict[str, Any]:
    """One `data[]` item as Klaviyo sends it (a Get Event resource as payload)."""
    event_properties: dict[str, Any] = {
        "review_id": review_id,
        "review_type": "review",
        "content": f"{LONG_TEXT} ({review_id})",
        "status": "published",
        "product_id": f"product-{review_id}",
        **properties,
    }
    if email is not None:
        event_properties["email"] = email
    return {
        "external_id": external_id,
        "topic": REVIEW_TOPIC,
        "payload": {
            "type": "event",
            "id": external_id,
            "attributes": {
                "event_properties": event_properties,
                "datetime": datetime.now(UTC).isoformat(),
            },
        },
    }


def delivery_body(
    events: Sequence[dict[str, Any]],
    *,
    account_id: str,
    webhook_id: str,
    sent_at: datetime | None = None,
) -> bytes:
    document = {
        "data": list(events),
        "meta": {
            "klaviyo_account_id": account_id,
            "klaviyo_webhook_id": webhook_id,
            "timestamp": (sent_at or datetime.now(UTC)).isoformat(),
            "version": "2024-06-28",
        },
    }
    return json.dumps(document).encode("utf-8")


def signed_headers(secret: str, body: bytes, webhook_id: str) -> dict[str, str]:
    timestamp = formatdate(usegmt=True)
    return {
        "Content-Type": "application/json",
        signing.HEADER_WEBHOOK_ID: webhook_id,
        signing.HEADER_TIMESTAMP: timestamp,
        signing.HEADER_SIGNATURE: signing.sign(secret, body, timestamp),
    }


def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.post(url, content=body, headers=headers)
