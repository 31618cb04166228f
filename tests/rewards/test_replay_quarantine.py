"""`reviews replay` goes on past a review Klaviyo holds with a field out of bounds.

Klaviyo's reviews are answers no test can make the sandbox give (it validates what it stores),
so the answer comes from a stub transport behind the real client.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from joyctl.engine import ConnectionFacts, program_from_mapping
from joyctl.klaviyo.auth import ApiKeyAuth
from joyctl.klaviyo.client import build_client
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.services.rewards.replay import ReplayFilter, replay_reviews
from tests.klaviyo.support import FakeKlaviyo

ANN = "ann@example.com"


def review(review_id: str, **attributes: Any) -> dict[str, Any]:
    values = {
        "email": ANN,
        "status": {"value": "published"},
        "review_type": "review",
        "created": "2026-05-01T12:00:00+00:00",
        "content": f"A fragrant tea, truly ({review_id})",
        "product": {"external_id": f"tea-{review_id}"},
        **attributes,
    }
    return {"type": "review", "id": review_id, "attributes": values}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with closing(open_ledger(tmp_path / "ledger.sqlite3")) as connection:
        with transaction(connection):
            upsert_customer(connection, CustomerFields(email=ANN))
        yield connection


def test_a_review_out_of_bounds_is_quarantined_and_the_replay_goes_on(
    ledger: sqlite3.Connection, tmp_path: Path
) -> None:
    reviews = [review("r1"), review("r2", rating=9), review("r3", status="bogus"), review("r4")]
    page = {"data": reviews, "links": {"next": None}}
    klaviyo = FakeKlaviyo()
    klaviyo.always("GET", "/api/reviews", httpx.Response(200, json=page))
    client = build_client(
        base_url="https://a.klaviyo.test",
        auth=ApiKeyAuth("pk_test"),
        transport=klaviyo.transport(),
        pacing=False,
    )
    program = program_from_mapping({"enabled": True, "min_characters": 10})

    with client:
        summary = replay_reviews(
            client, ledger, program, ConnectionFacts(datetime(2025, 1, 1, tzinfo=UTC)),
            ReplayFilter(), dry_run=False, data_dir=tmp_path / "data",
        )  # fmt: skip

    assert (summary.reviews, summary.awarded, summary.quarantined) == (2, 2, 2)
    assert summary.quarantine_file is not None
    entries = [json.loads(line) for line in Path(summary.quarantine_file).read_text().splitlines()]
    assert [(entry["review"], entry["record"]["id"], entry["reason"]) for entry in entries] == [
        (2, "r2", "rating 9 is out of range (0 to 5)"),
        (3, "r3", "unknown review status 'bogus'"),
    ]
    assert Path(summary.quarantine_file).parent == tmp_path / "data" / "reviews"
