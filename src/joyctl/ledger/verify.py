"""Ledger invariants, each checked by one query over the whole file.

The schema already refuses most of these (CHECK, UNIQUE, foreign keys, append-only triggers),
but a file can be edited by other tools, restored from an old copy or opened with those
protections switched off; `ledger verify` trusts nothing and looks at the rows themselves.
`verify_file` first looks at the file: SQLite's integrity check and the schema (health.py).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from joyctl.ledger.db import connect_read_only, transaction
from joyctl.ledger.health import UNREADABLE, describe, file_problem, structure_problems

EXAMPLES_PER_CHECK = 50


@dataclass(frozen=True, slots=True)
class Violation:
    entry_id: int | None
    customer_id: int | None
    detail: str


@dataclass(slots=True)
class CheckResult:
    name: str
    description: str
    count: int = 0
    examples: list[Violation] = field(default_factory=list)
    skipped: str | None = None
    """Why the check could not run (the file is damaged, its table is missing); None if it ran."""

    @property
    def ok(self) -> bool:
        return self.count == 0 and self.skipped is None

    def fail(self, detail: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES_PER_CHECK:
            self.examples.append(Violation(None, None, detail))


@dataclass(frozen=True, slots=True)
class _Check:
    name: str
    description: str
    sql: str  # selects entry_id, customer_id, detail; running = SUM(delta) so far, per customer


CHECKS = (
    _Check(
        "balance_chain",
        "each balance_after equals the running sum of the customer's deltas",
        "SELECT min(id), customer_id, 'entry ' || id || ' says ' || balance_after"
        " || ' but the deltas sum to ' || running || ' (' || count(*) || ' entries off)'"
        " FROM (SELECT id, customer_id, balance_after, SUM(delta)"
        " OVER (PARTITION BY customer_id ORDER BY id) AS running FROM point_entries)"
        " WHERE balance_after <> running GROUP BY customer_id ORDER BY min(id)",
    ),
    _Check(
        "never_negative",
        "no balance is ever below zero",
        "SELECT id, customer_id, 'balance ' || min(balance_after, running) || ' after entry ' || id"
        " FROM (SELECT id, customer_id, balance_after, SUM(delta)"
        " OVER (PARTITION BY customer_id ORDER BY id) AS running FROM point_entries)"
        " WHERE balance_after < 0 OR running < 0 ORDER BY id",
    ),
    _Check(
        "revoke_targets",
        "every revoke reverses an earn of the same customer; nothing else reverses",
        "SELECT r.id, r.customer_id, CASE"
        " WHEN r.kind <> 'revoke' THEN r.kind || ' entry reverses entry ' || r.reverses_id"
        " WHEN r.reverses_id IS NULL THEN 'revoke names no entry'"
        " WHEN t.id IS NULL THEN 'revoke reverses entry ' || r.reverses_id || ', which is missing'"
        " WHEN t.kind <> 'earn'"
        " THEN 'revoke reverses entry ' || t.id || ', an entry of kind ' || t.kind"
        " ELSE 'revoke reverses entry ' || t.id || ' of customer ' || t.customer_id END"
        " FROM point_entries r LEFT JOIN point_entries t ON t.id = r.reverses_id"
        " WHERE (r.kind = 'revoke' OR r.reverses_id IS NOT NULL) AND (r.kind <> 'revoke'"
        " OR t.id IS NULL OR t.kind <> 'earn' OR t.customer_id <> r.customer_id) ORDER BY r.id",
    ),
    _Check(
        "reversed_once",
        "no entry is reversed more than once",
        "SELECT reverses_id, min(customer_id), 'entry ' || reverses_id || ' is reversed '"
        " || count(*) || ' times' FROM point_entries WHERE reverses_id IS NOT NULL"
        " GROUP BY reverses_id HAVING count(*) > 1 ORDER BY reverses_id",
    ),
    _Check(
        "no_orphans",
        "every entry belongs to an existing customer",
        "SELECT p.id, p.customer_id, 'entry ' || p.id || ' names customer ' || p.customer_id"
        " || ', who does not exist' FROM point_entries p"
        " LEFT JOIN customers c ON c.id = p.customer_id WHERE c.id IS NULL ORDER BY p.id",
    ),
    _Check(
        "unique_keys",
        "idempotency keys are present and unique",
        "SELECT min(id), min(customer_id), CASE WHEN trim(coalesce(idempotency_key, '')) = ''"
        " THEN 'entry ' || min(id) || ' has a blank idempotency key' ELSE 'idempotency key '"
        " || quote(idempotency_key) || ' is used by ' || count(*) || ' entries' END"
        " FROM point_entries"
        " GROUP BY idempotency_key HAVING count(*) > 1 OR trim(coalesce(idempotency_key, '')) = ''"
        " ORDER BY min(id)",
    ),
    _Check(
        "append_only",
        "the triggers that keep point entries append-only are in place",
        "SELECT NULL, NULL, 'trigger ' || name || ' is missing' FROM (SELECT"
        " 'point_entries_no_update' AS name UNION ALL SELECT 'point_entries_no_delete')"
        " WHERE name NOT IN (SELECT name FROM sqlite_master WHERE type = 'trigger')",
    ),
)


def verify_ledger(connection: sqlite3.Connection) -> list[CheckResult]:
    """Run every check; each keeps a count and the first few violations."""
    return [_run(connection, check) for check in CHECKS]


def verify_file(path: Path, *, require_ledger: bool = False) -> list[CheckResult]:
    """The file, SQLite's integrity check and the schema, then every invariant; changes nothing.

    The full integrity check, not the quick one: it also compares every index with its table,
    and the UNIQUE index on idempotency keys is what keeps a retried award from counting twice.
    With `require_ledger`, a database without joyctl's tables fails (a backup must be a ledger).
    """
    opened = CheckResult("file", "the file is a SQLite database that SQLite can open")
    problem = file_problem(path)
    connection = None
    if problem is None:
        try:
            connection = connect_read_only(path, own=True)
        except UNREADABLE as exc:
            problem = f"SQLite cannot open it: {describe(exc)}"
    if connection is None:
        opened.fail(problem or "it cannot be opened")
        return [opened, *_skipped_all("the file cannot be opened")]
    with contextlib.closing(connection), transaction(connection, immediate=False, rollback=True):
        return [opened, *_inspect(connection, require_ledger=require_ledger)]


def _inspect(connection: sqlite3.Connection, *, require_ledger: bool) -> list[CheckResult]:
    integrity = CheckResult(*_INTEGRITY)
    schema = CheckResult(*_SCHEMA)
    for result, find in (
        (integrity, _integrity_problems),
        (schema, lambda c: structure_problems(c, require_ledger=require_ledger)),
    ):
        try:
            problems = find(connection)
        except UNREADABLE as exc:
            problems = [describe(exc)]
        for detail in problems:
            result.fail(detail)
    if not integrity.ok:
        return [integrity, schema, *_skipped_invariants("SQLite finds the file damaged")]
    return [integrity, schema, *(_run_or_skip(connection, check) for check in CHECKS)]


_INTEGRITY = ("file_integrity", "SQLite's integrity check reads every page and index cleanly")
_SCHEMA = ("schema", "migration rows, tables, indexes and triggers are the ones joyctl created")


def _integrity_problems(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(f"PRAGMA integrity_check({EXAMPLES_PER_CHECK})").fetchall()
    return [str(row[0]) for row in rows if row[0] != "ok"]


def _skipped_all(reason: str) -> list[CheckResult]:
    structure = [CheckResult(*_INTEGRITY, skipped=reason), CheckResult(*_SCHEMA, skipped=reason)]
    return [*structure, *_skipped_invariants(reason)]


def _skipped_invariants(reason: str) -> list[CheckResult]:
    return [CheckResult(check.name, check.description, skipped=reason) for check in CHECKS]


def _run_or_skip(connection: sqlite3.Connection, check: _Check) -> CheckResult:
    try:
        return _run(connection, check)
    except UNREADABLE as exc:
        return CheckResult(check.name, check.description, skipped=f"cannot run: {describe(exc)}")


def _run(connection: sqlite3.Connection, check: _Check) -> CheckResult:
    result = CheckResult(check.name, check.description)
    cursor = connection.execute(check.sql)
    try:
        for entry_id, customer_id, detail in cursor:
            result.count += 1
            if len(result.examples) < EXAMPLES_PER_CHECK:
                result.examples.append(Violation(entry_id, customer_id, str(detail)))
    finally:
        cursor.close()
    return result
