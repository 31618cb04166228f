"""What a batch writes for an earn (its meta text, its rows) is what append_entry would store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from joyctl.engine import Award, ConnectionFacts, PointsBreakdown, program_from_mapping
from joyctl.ledger.customers import CustomerFields, upsert_customer
from joyctl.ledger.db import open_ledger, transaction
from joyctl.ledger.entry_batch import EntryBatch
from joyctl.services.rewards.pipeline import RewardPipeline
from joyctl.services.rewards.sources import incoming_from_fields
from joyctl.services.rewards.writes import award_meta, award_meta_text


@pytest.mark.parametrize(
    ("product_id", "content_hash", "breakdown", "reviewed_at"),
    [
        ("p-1", "abc123", PointsBreakdown(50), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (None, None, PointsBreakdown(0, 20, 5), datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
        (
            'prodé "x"\\\n',
            "h\u2028",
            PointsBreakdown(10, 5),
            datetime(2026, 1, 2, tzinfo=timezone(timedelta(hours=-5))),
        ),
    ],
)
def test_award_meta_text_is_what_append_entry_stores(
    product_id: str | None,
    content_hash: str | None,
    breakdown: PointsBreakdown,
    reviewed_at: datetime,
) -> None:
    award = Award(
        review_id='r-\u00e9"1',
        program_id="write_review",
        customer_id="7",
        product_id=product_id,
        points=breakdown.total,
        breakdown=breakdown,
        idempotency_key="review:r-1:write_review",
        reviewed_at=reviewed_at,
        content_hash=content_hash,
        decided_at=reviewed_at,
    )
    text = reviewed_at.isoformat()
    expected = json.dumps(award_meta(award, text), sort_keys=True, separators=(",", ":"))
    assert award_meta_text(award, text) == expected
    assert award_meta(award, text)["reviewed_at"] == award.reviewed_at.isoformat()


def _replay_rows(folder: Path, *, batched: bool, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every row the pipeline leaves in the entry, decision, inbox and outbox tables."""
    if not batched:
        # Every earn takes the long way, through append_entry and all its checks.
        monkeypatch.setattr(EntryBatch, "append_earn", lambda *_arguments: None)
    connection = open_ledger(folder / "ledger.sqlite3")
    with transaction(connection):
        for email in ("ann@example.com", "bob@example.com"):
            upsert_customer(connection, CustomerFields(email=email, external_id=f"x-{email}"))
    program = program_from_mapping({"enabled": True, "product_limit": 0, "frequency_limit": 0})
    moments = iter(range(100))
    pipeline = RewardPipeline(
        connection,
        program,
        ConnectionFacts(datetime(2026, 1, 1, tzinfo=UTC)),
        clock=lambda: datetime(2026, 6, 1, tzinfo=UTC) + timedelta(seconds=next(moments)),
    )
    reviews = [
        incoming_from_fields(
            {
                "id": f"r{index}",
                "email": ("ann@example.com", "bob@example.com")[index % 2],
                "content": f"review number {index}",
                "status": "published",
                "product_id": f"p{index % 3}" if index % 4 else None,
                "created": f"2026-02-{index % 28 + 1:02d}T10:00:00+02:00",
            },
            origin="test",
        )
        for index in range(12)
    ]
    list(pipeline.run(reviews))
    tables = ("point_entries", "review_decisions", "reviews", "outbox")
    query = "SELECT * FROM {} ORDER BY 1"
    rows = [list(map(tuple, connection.execute(query.format(name)))) for name in tables]
    connection.close()
    return rows


def test_batched_earns_store_what_append_entry_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "batched").mkdir()
    (tmp_path / "one-by-one").mkdir()
    batched = _replay_rows(tmp_path / "batched", batched=True, monkeypatch=monkeypatch)
    one_by_one = _replay_rows(tmp_path / "one-by-one", batched=False, monkeypatch=monkeypatch)
    assert len(batched[0]) == 12
    assert batched == one_by_one


def test_an_earn_past_the_most_a_balance_holds_takes_the_long_way(tmp_path: Path) -> None:
    from joyctl.files.limits import MAX_POINTS
    from joyctl.ledger.points import EntryKind, NewEntry, append_entry, current_balance

    connection = open_ledger(tmp_path / "ledger.sqlite3")
    with transaction(connection):
        customer = upsert_customer(connection, CustomerFields("full@example.com")).customer_id
        append_entry(connection, NewEntry(customer, EntryKind.OPENING, MAX_POINTS - 10, "open"))
    source = ("write-review", "review", "r2")
    stamp = datetime(2026, 1, 2, tzinfo=UTC)
    with transaction(connection):
        batch = EntryBatch(connection, [customer], ["earn:r1", "earn:r2"])
        assert batch.append_earn(customer, 11, "earn:r1", source, "{}", stamp) is None
        assert batch.append_earn(customer, 10, "earn:r2", source, "{}", stamp) is not None
        batch.flush()
    assert current_balance(connection, customer) == MAX_POINTS
    connection.close()
