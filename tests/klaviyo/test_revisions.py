"""Klaviyo's revision rules: releases, dates between them, suffixes, future and retired dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joyctl.api_contract import REVISION
from joyctl.klaviyo.revisions import (
    NEWEST_STABLE,
    STABLE_REVISIONS,
    RevisionProblem,
    oldest_supported,
    resolve,
)

TODAY = date(2026, 12, 4)


def test_the_releases_are_dated_in_order_and_include_joyctls_pin() -> None:
    assert list(STABLE_REVISIONS) == sorted(set(STABLE_REVISIONS))
    assert all(date.fromisoformat(release) for release in STABLE_REVISIONS)
    assert REVISION in STABLE_REVISIONS
    assert NEWEST_STABLE == "2026-10-15"  # what the official SDK 25 sends


@pytest.mark.parametrize(
    ("header", "release"),
    [
        ("2026-07-15", "2026-07-15"),
        ("2026-10-15", "2026-10-15"),
        ("2026-08-01", "2026-07-15"),  # between releases: the newest earlier one
        ("2026-12-04", "2026-10-15"),  # today, after the newest release
        ("2025-01-15", "2025-01-15"),
    ],
)
def test_a_date_is_served_by_the_newest_release_on_or_before_it(header: str, release: str) -> None:
    resolved = resolve(header, TODAY)
    assert (resolved.release, resolved.beta) == (release, False)


def test_pre_marks_a_beta_revision() -> None:
    resolved = resolve("2025-01-15.pre", TODAY)
    assert (resolved.release, resolved.beta, resolved.served) == (
        "2025-01-15",
        True,
        "2025-01-15.pre",
    )


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("", "missing"),
        ("July", "malformed"),
        ("2026-02-30", "malformed"),
        ("2026-13-01", "malformed"),
        ("2026-7-15", "malformed"),
        ("2026-07-15.banana", "suffix"),
        ("2026-07-15.PRE", "suffix"),
        ("2026-12-05", "future"),
        ("2099-01-01", "future"),
        ("2021-01-01", "too_old"),
        ("2023-01-24", "retired"),
        ("2024-10-15", "retired"),
    ],
)
def test_what_klaviyo_refuses(header: str, kind: str) -> None:
    with pytest.raises(RevisionProblem) as raised:
        resolve(header, TODAY)
    assert raised.value.kind == kind
    assert str(raised.value)


def test_retired_revisions_can_fall_forward_to_the_oldest_supported() -> None:
    assert oldest_supported(TODAY) == "2025-01-15"
    assert resolve("2023-01-24", TODAY, fall_forward=True).release == "2025-01-15"


@given(st.dates(min_value=date(2022, 10, 17), max_value=TODAY))
def test_every_date_up_to_today_resolves_to_a_release_no_later_than_it(day: date) -> None:
    try:
        resolved = resolve(day.isoformat(), TODAY, fall_forward=True)
    except RevisionProblem as problem:  # pragma: no cover - never reached for these dates
        raise AssertionError(problem) from problem
    assert resolved.release in STABLE_REVISIONS
    assert resolved.release <= max(day.isoformat(), oldest_supported(TODAY))


@given(st.dates(min_value=TODAY + timedelta(days=1)))
def test_every_date_after_today_is_refused(day: date) -> None:
    with pytest.raises(RevisionProblem) as raised:
        resolve(day.isoformat(), TODAY)
    assert raised.value.kind == "future"


@given(st.text(max_size=30))
def test_any_text_resolves_or_is_refused_with_a_reason(text: str) -> None:
    try:
        resolved = resolve(text, TODAY)
    except RevisionProblem as problem:
        assert problem.kind in {"missing", "malformed", "suffix", "future", "too_old", "retired"}
    else:
        assert resolved.release in STABLE_REVISIONS
