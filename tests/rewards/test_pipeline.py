"""The reward pipeline on a real ledger: decisions, entries, outbox rows, idempotency."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from joyctl.engine import ConnectionFacts, WriteReviewProgram, program_from_mapping
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.services.rewards.reviews import simulate_reviews
from joyctl.services.rewards.sources import incoming_from_fields

CONNECTED = datetime(2026, 1, 1, tzinfo=UTC)
LONG_TEXT = "This tea is wonderful, smooth and fragrant; I brew it every morning."


@pytest.fixture
def ledger(tmp_path: Path) -> sqlite3.Connection:
    connection = open_ledger(tmp_path / "ledger.sqlite3")
    with transaction(connection):
        for email in ("ann@example.com", "bob@example.com"):
            upsert_customer(connection, CustomerFields(email=email))
    return connection


def _program(**overrides: Any) -> WriteReviewProgram:
    return program_from_mapping({"enabled": True, "min_characters": 20, **overrides})


def _review(review_id: str, **fields: Any) -> Any:
    base = {
        "id": review_id,
        "email": "ann@example.com",
        "content": LONG_TEXT + review_id,
        "product_id": f"product-{review_id}",
        "status": "published",
        "created": (CONNECTED + timedelta(days=1)).isoformat(),
    }
    return incoming_from_fields({**base, **fields}, origin="test")


def _run(ledger: sqlite3.Connection, reviews: list[Any], **program: Any) -> Any:
    facts = ConnectionFacts(CONNECTED)
    return simulate_reviews(ledger, _program(**program), facts, reviews, commit=True)


def _count(ledger: sqlite3.Connection, sql: str) -> int:
    return int(ledger.execute(sql).fetchone()[0])


def test_dry_run_writes_nothing(ledger: sqlite3.Connection) -> None:
    reviews = [_review("r1"), _review("r2", content="too short")]
    report = simulate_reviews(ledger, _program(), ConnectionFacts(CONNECTED), reviews, commit=False)
    assert [(d.outcome, d.reason) for d in report.decisions] == [
        ("award", None),
        ("reject", "TOO_SHORT"),
    ]
    assert report.decisions[0].points == 50
    assert report.decisions[1].rule_values["min_characters"] == 20
    assert _count(ledger, "SELECT count(*) FROM point_entries") == 0
    assert _count(ledger, "SELECT count(*) FROM reviews") == 0


def test_award_writes_entry_decision_and_outbox_once(ledger: sqlite3.Connection) -> None:
    first = _run(ledger, [_review("r1")])
    assert first.summary.awarded == 1 and first.summary.points == 50
    second = _run(ledger, [_review("r1")])
    assert second.summary.awarded == 0 and second.summary.unchanged == 1
    assert _count(ledger, "SELECT count(*) FROM point_entries") == 1
    assert _count(ledger, "SELECT count(*) FROM review_decisions") == 1
    kinds = [row[0] for row in ledger.execute("SELECT kind FROM outbox ORDER BY id")]
    assert kinds == ["event", "profile"]
    event = json.loads(
        ledger.execute("SELECT payload FROM outbox WHERE kind='event'").fetchone()[0]
    )
    assert event["metric"] == "Joy: Earn Point"
    assert event["properties"]["Earned points"] == "50 points"
    assert event["properties"]["Customer points"] == 50
    profile = json.loads(
        ledger.execute("SELECT payload FROM outbox WHERE kind='profile'").fetchone()[0]
    )
    assert profile["properties"] == {"Joy Loyalty Points": 50}


def test_pending_then_published_awards_once(ledger: sqlite3.Connection) -> None:
    pending = _run(ledger, [_review("r1", status="pending")])
    assert pending.decisions[0].reason == "NOT_PUBLISHED"
    published = _run(ledger, [_review("r1", status="published")])
    assert published.summary.awarded == 1
    again = _run(ledger, [_review("r1", status="published")])
    assert again.summary.awarded == 0
    assert _count(ledger, "SELECT sum(delta) FROM point_entries") == 50


def test_rejection_after_award_revokes_without_going_negative(
    ledger: sqlite3.Connection,
) -> None:
    _run(ledger, [_review("r1")])
    with transaction(ledger):
        from joyctl.ledger.points import EntryKind, NewEntry, append_entry

        customer = ledger.execute("SELECT id FROM customers WHERE email='ann@example.com'")
        append_entry(
            ledger,
            NewEntry(customer.fetchone()[0], EntryKind.REDEEM, -30, "redeem-1"),
        )
    revoked = _run(ledger, [_review("r1", status="rejected")])
    assert revoked.summary.revoked == 1
    balance = ledger.execute(
        "SELECT balance_after FROM point_entries ORDER BY id DESC LIMIT 1"
    ).fetchone()[0]
    assert balance == 0
    meta = json.loads(
        ledger.execute("SELECT meta FROM point_entries WHERE kind='revoke'").fetchone()[0]
    )
    assert meta["shortfall"] == 30
    assert _run(ledger, [_review("r1", status="rejected")]).summary.revoked == 0


def test_unknown_email_is_no_member(ledger: sqlite3.Connection) -> None:
    report = _run(ledger, [_review("r1", email="stranger@example.com")])
    assert report.decisions[0].reason == "NO_MEMBER"
    assert _count(ledger, "SELECT count(*) FROM point_entries") == 0


def test_product_limit_holds_within_one_run(ledger: sqlite3.Connection) -> None:
    reviews = [_review("r1", product_id="tea"), _review("r2", product_id="tea")]
    report = _run(ledger, reviews)
    assert [d.reason for d in report.decisions] == [None, "PRODUCT_LIMIT"]


def _write_reviews(path: Path, count: int) -> None:
    lines = []
    for index in range(count):
        email = "ann@example.com" if index % 2 else "bob@example.com"
        created = (CONNECTED + timedelta(days=index)).isoformat()
        lines.append(
            json.dumps(
                {
                    "id": f"c{index}",
                    "email": email,
                    "content": f"{LONG_TEXT} number {index}",
                    "product_id": f"p{index % 7}",
                    "status": "published",
                    "created": created,
                }
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_two_processes_on_one_ledger_award_each_review_once(
    tmp_path: Path, isolated_home: Path
) -> None:
    ledger_env = {"JOYCTL_HOME": str(isolated_home)}
    joyctl = [sys.executable, "-m", "joyctl"]
    for command in (
        ["program", "set", "enabled", "true"],
        ["program", "set", "frequency_limit", "off"],
    ):
        subprocess.run([*joyctl, *command], env=_env(ledger_env), check=True, capture_output=True)
    ledger_path = isolated_home / "data/profiles/sandbox/ledger.sqlite3"
    connection = open_ledger(ledger_path)
    with transaction(connection):
        for email in ("ann@example.com", "bob@example.com"):
            upsert_customer(connection, CustomerFields(email=email))
    reviews = tmp_path / "reviews.jsonl"
    _write_reviews(reviews, 120)
    command = [
        *joyctl,
        "--json",
        "reviews",
        "simulate",
        "--file",
        str(reviews),
        "--commit",
        "--connected-at",
        CONNECTED.isoformat(),
    ]
    workers = [
        subprocess.Popen(
            command, env=_env(ledger_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], results
    awarded = [json.loads(out)["data"]["summary"]["awarded"] for out, _ in results]
    assert sum(awarded) == 14  # 2 customers x 7 products, each rewarded once
    earned = connection.execute(
        "SELECT count(*), count(DISTINCT source_id) FROM point_entries WHERE kind = 'earn'"
    ).fetchone()
    assert earned[0] == earned[1] == sum(awarded)
    per_product = connection.execute(
        "SELECT count(*) FROM (SELECT customer_id, json_extract(meta, '$.product_id') AS p,"
        " count(*) AS n FROM point_entries WHERE kind = 'earn' GROUP BY 1, 2 HAVING n > 1)"
    ).fetchone()[0]
    assert per_product == 0
    connection.close()


def _env(extra: dict[str, str]) -> dict[str, str]:
    import os

    return {**os.environ, **extra}


def test_a_review_with_a_malformed_email_matches_no_member(ledger: sqlite3.Connection) -> None:
    report = _run(ledger, [_review("r1", email="not an email"), _review("r2")])
    assert [d.reason for d in report.decisions] == ["NO_MEMBER", None]
    assert report.summary.awarded == 1
