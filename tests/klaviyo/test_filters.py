"""Filter expressions quote values once and correctly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from joyctl.errors import UsageError
from joyctl.klaviyo import filters


def test_values_are_quoted_by_kind() -> None:
    assert filters.equals("name", "Gold") == "equals(name,'Gold')"
    assert filters.equals("name", "Joy's") == 'equals(name,"Joy\'s")'
    assert filters.equals("verified", True) == "equals(verified,true)"
    assert filters.equals("rating", 5) == "equals(rating,5)"
    assert filters.any_of("id", ["a", "b"]) == "any(id,['a','b'])"


def test_datetimes_are_utc_and_unquoted() -> None:
    eastern = timezone(timedelta(hours=-4))
    moment = datetime(2026, 7, 1, 8, 0, tzinfo=eastern)
    assert filters.greater_than("updated", moment) == "greater-than(updated,2026-07-01T12:00:00Z)"
    naive = datetime(2026, 7, 1)
    assert filters.less_or_equal("created", naive) == "less-or-equal(created,2026-07-01T00:00:00Z)"


def test_a_value_with_both_quotes_is_refused() -> None:
    with pytest.raises(UsageError):
        filters.equals("name", 'Joy\'s "best"')


def test_conditions_are_joined_and_empty_ones_dropped() -> None:
    assert filters.all_of(None, "equals(a,'1')", None, "equals(b,'2')") == (
        "equals(a,'1'),equals(b,'2')"
    )
    assert filters.all_of(None) is None
