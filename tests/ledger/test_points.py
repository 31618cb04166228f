"""Point entries: idempotent appends, balances derived from the log, never below zero."""

from __future__ import annotations

import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joyctl.errors import DataError
from joyctl.ledger.db import open_ledger, transaction
from joyctl.ledger.points import (
    EntryKind,
    InsufficientPointsError,
    NewEntry,
    append_entry,
    current_balance,
    entry_history,
    find_entry_by_key,
)
from joyctl.ledger.verify import verify_ledger
from tests.ledger.conftest import add_customer


def _append(connection: sqlite3.Connection, new: NewEntry) -> tuple[int, int, bool]:
    with transaction(connection):
        appended = append_entry(connection, new)
    return appended.entry.delta, appended.entry.balance_after, appended.created


def _count(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT count(*) FROM point_entries").fetchone()[0])


def test_balance_after_is_the_running_sum(ledger: sqlite3.Connection) -> None:
    ann = add_customer(ledger)
    assert current_balance(ledger, ann) == 0
    assert _append(ledger, NewEntry(ann, EntryKind.EARN, 50, "e1")) == (50, 50, True)
    assert _append(ledger, NewEntry(ann, EntryKind.REDEEM, -20, "r1")) == (-20, 30, True)
    assert _append(ledger, NewEntry(ann, EntryKind.ADJUST, 5, "a1", reason="x")) == (5, 35, True)
    assert current_balance(ledger, ann) == 35


def test_a_repeated_key_returns_the_first_entry_and_writes_nothing(
    ledger: sqlite3.Connection,
) -> None:
    ann = add_customer(ledger)
    assert _append(ledger, NewEntry(ann, EntryKind.EARN, 50, "review:1:write-review"))[2]
    again = _append(ledger, NewEntry(ann, EntryKind.EARN, 50, "review:1:write-review"))
    assert again == (50, 50, False)
    assert _count(ledger) == 1
    assert current_balance(ledger, ann) == 50


def test_a_key_reused_for_another_customer_is_refused(ledger: sqlite3.Connection) -> None:
    ann, bob = add_customer(ledger), add_customer(ledger, "bob@example.com")
    _append(ledger, NewEntry(ann, EntryKind.EARN, 50, "k"))
    with pytest.raises(DataError, match="already used by entry 1"):
        _append(ledger, NewEntry(bob, EntryKind.EARN, 50, "k"))


def test_nothing_but_a_revoke_may_go_below_zero(ledger: sqlite3.Connection) -> None:
    ann = add_customer(ledger)
    _append(ledger, NewEntry(ann, EntryKind.EARN, 30, "e1"))
    for kind in (EntryKind.ADJUST, EntryKind.REDEEM, EntryKind.EXPIRE):
        with pytest.raises(InsufficientPointsError, match="has 30 points; -31 would leave -1"):
            _append(ledger, NewEntry(ann, kind, -31, f"{kind}-1"))
    assert _append(ledger, NewEntry(ann, EntryKind.REDEEM, -30, "r1"))[1] == 0
    assert _count(ledger) == 2


def test_a_revoke_clamps_at_zero_and_records_the_shortfall(ledger: sqlite3.Connection) -> None:
    ann = add_customer(ledger)
    with transaction(ledger):
        earn = append_entry(ledger, NewEntry(ann, EntryKind.EARN, 50, "review:9:wr")).entry
        append_entry(ledger, NewEntry(ann, EntryKind.REDEEM, -40, "redeem:1"))
        revoke = append_entry(
            ledger, NewEntry(ann, EntryKind.REVOKE, -50, "revoke:review:9:wr", reverses_id=earn.id)
        ).entry
    assert (revoke.delta, revoke.balance_after) == (-10, 0)
    assert revoke.meta == {"requested": -50, "shortfall": 40}
    assert revoke.reverses_id == earn.id


def test_a_revoke_must_reverse_an_earn_of_the_same_customer_once(
    ledger: sqlite3.Connection,
) -> None:
    ann, bob = add_customer(ledger), add_customer(ledger, "bob@example.com")
    with transaction(ledger):
        earn = append_entry(ledger, NewEntry(ann, EntryKind.EARN, 50, "e1")).entry
        opening = append_entry(ledger, NewEntry(ann, EntryKind.OPENING, 10, "o1")).entry
    with pytest.raises(DataError, match="not an earn entry of customer"):
        _append(ledger, NewEntry(bob, EntryKind.REVOKE, -50, "v0", reverses_id=earn.id))
    with pytest.raises(DataError, match="not an earn entry"):
        _append(ledger, NewEntry(ann, EntryKind.REVOKE, -10, "v1", reverses_id=opening.id))
    _append(ledger, NewEntry(ann, EntryKind.REVOKE, -50, "v2", reverses_id=earn.id))
    with pytest.raises(DataError, match="already reversed by entry"):
        _append(ledger, NewEntry(ann, EntryKind.REVOKE, -50, "v3", reverses_id=earn.id))
    # The same revoke retried is simply the one recorded before.
    assert (
        _append(ledger, NewEntry(ann, EntryKind.REVOKE, -50, "v2", reverses_id=earn.id))[2] is False
    )


@pytest.mark.parametrize(
    ("kind", "delta"),
    [
        (EntryKind.EARN, 0),
        (EntryKind.EARN, -5),
        (EntryKind.REDEEM, 5),
        (EntryKind.ADJUST, 0),
        (EntryKind.OPENING, -1),
    ],
)
def test_entries_with_the_wrong_sign_are_refused(
    ledger: sqlite3.Connection, kind: EntryKind, delta: int
) -> None:
    ann = add_customer(ledger)
    _append(ledger, NewEntry(ann, EntryKind.EARN, 100, "e1"))
    with pytest.raises(DataError, match="cannot move"):
        _append(ledger, NewEntry(ann, kind, delta, "bad"))


def test_append_outside_a_transaction_is_a_bug(ledger: sqlite3.Connection) -> None:
    ann = add_customer(ledger)
    with pytest.raises(RuntimeError, match="inside ledger.db.transaction"):
        append_entry(ledger, NewEntry(ann, EntryKind.EARN, 5, "e1"))


def test_a_failed_transaction_leaves_no_entry(ledger: sqlite3.Connection) -> None:
    ann = add_customer(ledger)
    with pytest.raises(InsufficientPointsError), transaction(ledger):
        append_entry(ledger, NewEntry(ann, EntryKind.EARN, 5, "e1"))
        append_entry(ledger, NewEntry(ann, EntryKind.ADJUST, -10, "a1"))
    assert find_entry_by_key(ledger, "e1") is None
    assert current_balance(ledger, ann) == 0


def test_history_pages_newest_first(ledger: sqlite3.Connection) -> None:
    ann, bob = add_customer(ledger), add_customer(ledger, "bob@example.com")
    with transaction(ledger):
        for number in range(5):
            append_entry(ledger, NewEntry(ann, EntryKind.EARN, 10, f"ann-{number}"))
            append_entry(ledger, NewEntry(bob, EntryKind.EARN, 1, f"bob-{number}"))
    first = entry_history(ledger, ann, limit=2)
    assert [entry.idempotency_key for entry in first] == ["ann-4", "ann-3"]
    rest = entry_history(ledger, ann, limit=10, before_id=first[-1].id)
    assert [entry.idempotency_key for entry in rest] == ["ann-2", "ann-1", "ann-0"]


_MOVES = st.lists(
    st.tuples(
        st.sampled_from([EntryKind.EARN, EntryKind.REDEEM, EntryKind.ADJUST, EntryKind.REVOKE]),
        st.integers(min_value=1, max_value=200),
        st.booleans(),  # for an adjust: take (True) or give
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(moves=_MOVES)
def test_any_sequence_keeps_every_invariant(moves: list[tuple[EntryKind, int, bool]]) -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        closing(open_ledger(Path(folder) / "ledger.sqlite3")) as connection,
    ):
        ann = add_customer(connection)
        earns: list[int] = []
        for number, (kind, points, take) in enumerate(moves):
            _apply(connection, ann, number, kind, points, take, earns)
        assert all(result.ok for result in verify_ledger(connection))
        total = connection.execute("SELECT coalesce(sum(delta), 0) FROM point_entries")
        assert current_balance(connection, ann) == total.fetchone()[0] >= 0


def _apply(
    connection: sqlite3.Connection,
    customer: int,
    number: int,
    kind: EntryKind,
    points: int,
    take: bool,
    earns: list[int],
) -> None:
    delta = points if kind is EntryKind.EARN or (kind is EntryKind.ADJUST and not take) else -points
    reverses = None
    if kind is EntryKind.REVOKE:
        if not earns:
            return
        reverses = earns.pop(0)
    new = NewEntry(customer, kind, delta, f"move-{number}", reverses_id=reverses)
    try:
        with transaction(connection):
            entry = append_entry(connection, new).entry
    except InsufficientPointsError:
        return
    if kind is EntryKind.EARN:
        earns.append(entry.id)
