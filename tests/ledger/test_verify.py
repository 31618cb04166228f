"""`ledger verify` finds each kind of broken invariant in ledgers broken on purpose.

The schema refuses most bad rows, so each test switches one protection off (CHECK
constraints, foreign keys, the triggers) or builds the file from a copy of the first migration
without its UNIQUE constraints, then inserts the rows a careless tool might have written.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from joyctl.ledger.db import connect
from joyctl.ledger.migrations import M001_CORE, MIGRATIONS, Migration, migrate
from joyctl.ledger.verify import verify_ledger
from tests.conftest import Cli
from tests.ledger.conftest import add_customer

INSERT = (
    "INSERT INTO point_entries (customer_id, kind, delta, balance_after, idempotency_key,"
    " reverses_id, created_at) VALUES (?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00+00:00')"
)


def _failures(connection: sqlite3.Connection) -> dict[str, list[str]]:
    return {
        result.name: [violation.detail for violation in result.examples]
        for result in verify_ledger(connection)
        if not result.ok
    }


def _entry(
    connection: sqlite3.Connection,
    customer: int,
    kind: str,
    delta: int,
    balance: int,
    key: str,
    reverses: int | None = None,
) -> None:
    connection.execute(INSERT, (customer, kind, delta, balance, key, reverses))


@pytest.fixture
def loose_ledger(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A ledger whose point_entries lack the UNIQUE constraints of the real schema."""
    loose = M001_CORE.replace("idempotency_key TEXT NOT NULL UNIQUE", "idempotency_key TEXT")
    loose = loose.replace("reverses_id INTEGER UNIQUE", "reverses_id INTEGER")
    assert loose != M001_CORE
    connection = connect(tmp_path / "loose.sqlite3")
    migrate(connection, [Migration(1, "core", loose), *MIGRATIONS[1:]])
    try:
        yield connection
    finally:
        connection.close()


def test_a_clean_ledger_passes_every_check(ledger: sqlite3.Connection) -> None:
    ann = add_customer(ledger)
    _entry(ledger, ann, "earn", 50, 50, "e1")
    _entry(ledger, ann, "revoke", -50, 0, "v1", reverses=1)
    assert _failures(ledger) == {}


def test_a_broken_balance_chain(ledger: sqlite3.Connection) -> None:
    ann = add_customer(ledger)
    _entry(ledger, ann, "earn", 50, 50, "e1")
    _entry(ledger, ann, "earn", 10, 70, "e2")  # should be 60
    _entry(ledger, ann, "earn", 5, 75, "e3")
    assert _failures(ledger) == {
        "balance_chain": ["entry 2 says 70 but the deltas sum to 60 (2 entries off)"]
    }


def test_a_negative_balance(ledger: sqlite3.Connection) -> None:
    ann = add_customer(ledger)
    ledger.execute("PRAGMA ignore_check_constraints = ON")
    _entry(ledger, ann, "earn", 10, 10, "e1")
    _entry(ledger, ann, "redeem", -15, -5, "r1")
    assert _failures(ledger) == {"never_negative": ["balance -5 after entry 2"]}


def test_revokes_that_point_at_the_wrong_entry(ledger: sqlite3.Connection) -> None:
    ann, bob = add_customer(ledger), add_customer(ledger, "bob@example.com")
    _entry(ledger, ann, "earn", 50, 50, "e1")
    _entry(ledger, ann, "opening", 10, 60, "o1")
    _entry(ledger, bob, "earn", 5, 5, "e2")
    _entry(ledger, ann, "revoke", -10, 50, "v1", reverses=2)  # an opening, not an earn
    _entry(ledger, bob, "revoke", -5, 0, "v2", reverses=1)  # ann's earn
    _entry(ledger, ann, "revoke", -5, 45, "v3")  # names nothing
    _entry(ledger, ann, "adjust", -5, 40, "a1", reverses=3)  # only revokes reverse
    assert _failures(ledger) == {
        "revoke_targets": [
            "revoke reverses entry 2, an entry of kind opening",
            "revoke reverses entry 1 of customer 1",
            "revoke names no entry",
            "adjust entry reverses entry 3",
        ]
    }


def test_a_revoke_of_a_missing_entry(ledger: sqlite3.Connection) -> None:
    ann = add_customer(ledger)
    ledger.execute("PRAGMA foreign_keys = OFF")
    _entry(ledger, ann, "earn", 50, 50, "e1")
    _entry(ledger, ann, "revoke", -50, 0, "v1", reverses=99)
    assert _failures(ledger) == {"revoke_targets": ["revoke reverses entry 99, which is missing"]}


def test_an_entry_reversed_twice(loose_ledger: sqlite3.Connection) -> None:
    ann = add_customer(loose_ledger)
    _entry(loose_ledger, ann, "earn", 50, 50, "e1")
    _entry(loose_ledger, ann, "earn", 50, 100, "e2")
    _entry(loose_ledger, ann, "revoke", -50, 50, "v1", reverses=1)
    _entry(loose_ledger, ann, "revoke", -50, 0, "v2", reverses=1)
    assert _failures(loose_ledger) == {"reversed_once": ["entry 1 is reversed 2 times"]}


def test_orphan_entries(ledger: sqlite3.Connection) -> None:
    ledger.execute("PRAGMA foreign_keys = OFF")
    _entry(ledger, 7, "earn", 50, 50, "e1")
    assert _failures(ledger) == {"no_orphans": ["entry 1 names customer 7, who does not exist"]}


def test_duplicate_and_blank_idempotency_keys(loose_ledger: sqlite3.Connection) -> None:
    ann = add_customer(loose_ledger)
    _entry(loose_ledger, ann, "earn", 50, 50, "review:1:wr")
    _entry(loose_ledger, ann, "earn", 50, 100, "review:1:wr")
    _entry(loose_ledger, ann, "earn", 1, 101, " ")
    assert _failures(loose_ledger) == {
        "unique_keys": [
            "idempotency key 'review:1:wr' is used by 2 entries",
            "entry 3 has a blank idempotency key",
        ]
    }


def test_missing_append_only_triggers(ledger: sqlite3.Connection) -> None:
    ledger.execute("DROP TRIGGER point_entries_no_delete")
    assert _failures(ledger) == {"append_only": ["trigger point_entries_no_delete is missing"]}


def test_verify_command_exits_6_and_lists_the_violations(
    cli: Cli, isolated_home: Path, tmp_path: Path
) -> None:
    # An empty store profile: the built-in sandbox one comes seeded with its scenario.
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    assert cli("profiles", "use", "shop").exit_code == 0
    assert cli("ledger", "verify").exit_code == 0
    path = isolated_home / "data" / "profiles" / "shop" / "ledger.sqlite3"
    connection = connect(path)
    try:
        ann = add_customer(connection)
        _entry(connection, ann, "earn", 10, 10, "e1")
        _entry(connection, ann, "earn", 10, 25, "e2")
    finally:
        connection.close()
    human = cli("ledger", "verify")
    assert human.exit_code == 6
    assert "balance_chain\tFAIL\tentry 2 says 25 but the deltas sum to 20" in human.stdout
    assert "never_negative\tok\t" in human.stdout
    assert "error: the ledger breaks 1 invariants" in human.stderr
    machine = cli("--json", "ledger", "verify")
    assert machine.exit_code == 6
    assert machine.stderr == ""
    data = json.loads(machine.stdout)["data"]
    assert (data["ok"], data["violations"]) == (False, 1)
    failed = [check for check in data["checks"] if not check["ok"]]
    assert [(c["name"], c["examples"][0]["entry_id"]) for c in failed] == [("balance_chain", 2)]
