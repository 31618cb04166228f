"""The earn entry's meta text written by a batch must equal what append_entry would store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from joyctl.engine import Award, PointsBreakdown
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
