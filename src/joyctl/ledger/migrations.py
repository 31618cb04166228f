"""Numbered schema migrations.

Each migration runs together with its `schema_migrations` row in one transaction, so a
failure leaves the database exactly as it was. An applied migration is never edited or
renumbered: a change is a new migration appended to MIGRATIONS.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from joyctl.errors import DataError
from joyctl.ledger.db import transaction


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


M001_CORE = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE CHECK (email = lower(trim(email)) AND email <> ''),
    external_id TEXT UNIQUE,
    first_name TEXT,
    last_name TEXT,
    tier TEXT,
    birthday TEXT,
    referral_url TEXT,
    referred INTEGER NOT NULL DEFAULT 0 CHECK (referred IN (0, 1)),
    member_status TEXT NOT NULL DEFAULT 'member'
        CHECK (member_status IN ('member', 'guest', 'excluded')),
    last_activity_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE point_entries (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    kind TEXT NOT NULL
        CHECK (kind IN ('opening', 'earn', 'redeem', 'expire', 'adjust', 'revoke')),
    delta INTEGER NOT NULL,
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    program TEXT,
    source_kind TEXT,
    source_id TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    reverses_id INTEGER UNIQUE REFERENCES point_entries(id),
    reason TEXT,
    meta TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX point_entries_by_customer ON point_entries(customer_id, id);
CREATE INDEX point_entries_by_created ON point_entries(created_at);

CREATE TRIGGER point_entries_no_update BEFORE UPDATE ON point_entries
BEGIN SELECT RAISE(ABORT, 'point entries are append-only'); END;
CREATE TRIGGER point_entries_no_delete BEFORE DELETE ON point_entries
BEGIN SELECT RAISE(ABORT, 'point entries are append-only'); END;

CREATE TABLE connections (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    account_name TEXT,
    method TEXT NOT NULL CHECK (method IN ('oauth', 'api_key')),
    scopes TEXT NOT NULL DEFAULT '',
    connected_at TEXT NOT NULL,
    disconnected_at TEXT
);
"""

M002_PROGRAM_VERSIONS = """
CREATE TABLE program_versions (
    id INTEGER PRIMARY KEY,
    program TEXT NOT NULL,
    settings TEXT NOT NULL CHECK (json_valid(settings)),
    changed_keys TEXT NOT NULL CHECK (json_valid(changed_keys)),
    changed_at TEXT NOT NULL
);
CREATE INDEX program_versions_by_program ON program_versions(program, id);

CREATE TRIGGER program_versions_no_update BEFORE UPDATE ON program_versions
BEGIN SELECT RAISE(ABORT, 'program versions are append-only'); END;
CREATE TRIGGER program_versions_no_delete BEFORE DELETE ON program_versions
BEGIN SELECT RAISE(ABORT, 'program versions are append-only'); END;
"""

M003_REVIEWS_OUTBOX_RUNS = """
CREATE TABLE reviews (
    review_id TEXT PRIMARY KEY,
    email TEXT,
    customer_id INTEGER REFERENCES customers(id),
    product_id TEXT,
    review_type TEXT NOT NULL,
    status TEXT NOT NULL,
    verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    rating INTEGER,
    has_images INTEGER NOT NULL DEFAULT 0 CHECK (has_images IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT,
    origin TEXT NOT NULL,
    raw TEXT NOT NULL,
    approved_at TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX reviews_by_created ON reviews(created_at);
CREATE INDEX reviews_by_customer ON reviews(customer_id);

CREATE TABLE review_decisions (
    id INTEGER PRIMARY KEY,
    review_id TEXT NOT NULL REFERENCES reviews(review_id),
    program TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('award', 'reject', 'revoke')),
    reason_code TEXT,
    points INTEGER NOT NULL DEFAULT 0,
    rule_values TEXT NOT NULL DEFAULT '{}',
    review_status TEXT NOT NULL,
    entry_id INTEGER REFERENCES point_entries(id),
    decided_at TEXT NOT NULL
);
CREATE INDEX review_decisions_by_review ON review_decisions(review_id, id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('event', 'profile')),
    unique_id TEXT NOT NULL UNIQUE,
    customer_id INTEGER REFERENCES customers(id),
    entry_id INTEGER REFERENCES point_entries(id),
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    last_error TEXT
);
CREATE INDEX outbox_unsent ON outbox(id) WHERE sent_at IS NULL;

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL
        CHECK (status IN ('running', 'interrupted', 'failed', 'completed')),
    checkpoint TEXT,
    counters TEXT NOT NULL DEFAULT '{}',
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    last_error TEXT
);
CREATE INDEX runs_by_kind ON runs(kind, started_at);
"""

M004_WEBHOOK_DELIVERIES = """
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    webhook_id TEXT,
    headers TEXT NOT NULL CHECK (json_valid(headers)),
    body BLOB NOT NULL,
    body_bytes INTEGER NOT NULL,
    verdict TEXT NOT NULL DEFAULT 'pending'
        CHECK (verdict IN ('pending', 'verified', 'rejected')),
    reason TEXT,
    detail TEXT,
    status_code INTEGER,
    account_id TEXT,
    sent_at TEXT,
    event_count INTEGER NOT NULL DEFAULT 0,
    processed_at TEXT,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_by_received ON webhook_deliveries(received_at);
CREATE INDEX webhook_deliveries_unprocessed ON webhook_deliveries(id)
    WHERE verdict = 'verified' AND processed_at IS NULL;

CREATE TRIGGER webhook_deliveries_keep_raw BEFORE UPDATE OF received_at, webhook_id, headers,
    body, body_bytes ON webhook_deliveries
BEGIN SELECT RAISE(ABORT, 'a stored delivery keeps its raw request'); END;

CREATE TABLE webhook_events (
    external_id TEXT PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
    topic TEXT NOT NULL,
    review_id TEXT,
    first_seen_at TEXT NOT NULL,
    processed_at TEXT,
    outcome TEXT
);
CREATE INDEX webhook_events_by_delivery ON webhook_events(delivery_id);

CREATE TABLE webhook_subscriptions (
    webhook_id TEXT PRIMARY KEY,
    endpoint_url TEXT NOT NULL,
    topics TEXT NOT NULL CHECK (json_valid(topics)),
    created_at TEXT NOT NULL,
    deleted_at TEXT
);
"""

M006_AUDIENCES = """
CREATE TABLE audiences (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    definition TEXT NOT NULL CHECK (json_valid(definition)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE audience_lists (
    audience_id INTEGER PRIMARY KEY REFERENCES audiences(id) ON DELETE CASCADE,
    list_id TEXT NOT NULL UNIQUE,
    list_name TEXT,
    list_created INTEGER NOT NULL DEFAULT 0 CHECK (list_created IN (0, 1)),
    mapped_at TEXT NOT NULL,
    last_synced_at TEXT
);

CREATE TABLE audience_members (
    audience_id INTEGER NOT NULL REFERENCES audiences(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    list_id TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    PRIMARY KEY (audience_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX audience_members_by_customer ON audience_members(customer_id);

CREATE TABLE audience_profile_ids (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
    email TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    resolved_at TEXT NOT NULL
);
"""

# Rejected deliveries are kept as evidence up to a retention limit; this index finds the oldest
# without reading the rows (a verified row's body can run to megabytes).
M007_REJECTED_DELIVERIES = """
CREATE INDEX webhook_deliveries_rejected ON webhook_deliveries(id) WHERE verdict = 'rejected';
"""

M008_REVIEW_APPROVALS_UNMATCHED_EVENTS = """
CREATE TABLE review_approvals (
    review_id TEXT PRIMARY KEY REFERENCES reviews(review_id),
    verdict TEXT NOT NULL CHECK (verdict IN ('approve', 'reject')),
    decided_by TEXT NOT NULL,
    reason TEXT,
    decided_at TEXT NOT NULL
);

CREATE TRIGGER review_approvals_no_update BEFORE UPDATE ON review_approvals
BEGIN SELECT RAISE(ABORT, 'an approval verdict is final'); END;
CREATE TRIGGER review_approvals_no_delete BEFORE DELETE ON review_approvals
BEGIN SELECT RAISE(ABORT, 'an approval verdict is final'); END;

CREATE INDEX review_decisions_held ON review_decisions(review_id)
    WHERE reason_code = 'AWAITING_APPROVAL';

ALTER TABLE webhook_events ADD COLUMN detail TEXT;
CREATE INDEX webhook_events_unmatched ON webhook_events(delivery_id)
    WHERE processed_at IS NULL AND outcome = 'unmatched';
"""

# Which Joy triggers the profile sends. A metric without a row keeps its default (see
# klaviyo/joy_events.DEFAULT_ENABLED); a row records the merchant's choice.
M009_TRIGGER_SETTINGS = """
CREATE TABLE trigger_settings (
    metric TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    changed_at TEXT NOT NULL
);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "core", M001_CORE),
    Migration(2, "program_versions", M002_PROGRAM_VERSIONS),
    Migration(3, "reviews_outbox_runs", M003_REVIEWS_OUTBOX_RUNS),
    Migration(4, "webhook_deliveries", M004_WEBHOOK_DELIVERIES),
    Migration(6, "audiences", M006_AUDIENCES),
    Migration(7, "rejected_deliveries_index", M007_REJECTED_DELIVERIES),
    Migration(8, "review_approvals_unmatched_events", M008_REVIEW_APPROVALS_UNMATCHED_EVENTS),
    Migration(9, "trigger_settings", M009_TRIGGER_SETTINGS),
)


def ensure_migrations_table(connection: sqlite3.Connection) -> None:
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


def applied_versions(connection: sqlite3.Connection) -> set[int]:
    ensure_migrations_table(connection)
    return {row[0] for row in connection.execute("SELECT version FROM schema_migrations")}


def schema_version(connection: sqlite3.Connection) -> int:
    """The newest migration applied to this ledger (0 before the first)."""
    row = connection.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def _split_statements(sql: str) -> list[str]:
    """Statements one by one: executescript would commit our transaction behind our back."""
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


def apply_migration(connection: sqlite3.Connection, migration: Migration) -> None:
    with transaction(connection):
        # Another process may have applied it while we waited for the lock.
        done = connection.execute(
            "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
        ).fetchone()
        if done is None:
            for statement in _split_statements(migration.sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )


def refuse_newer(applied: set[int], migrations: Sequence[Migration] = MIGRATIONS) -> None:
    """A ledger written by a newer joyctl is not damaged: this joyctl is too old for it."""
    newer = applied - {m.version for m in migrations}
    if newer:
        raise DataError(
            f"this ledger has schema version {max(newer)}, newer than this joyctl knows",
            hint="upgrade joyctl (pip install -U joyctl)",
        )


def migrate(
    connection: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS
) -> list[int]:
    """Apply what is pending, in order; return the versions applied now."""
    applied = applied_versions(connection)
    refuse_newer(applied, migrations)
    done: list[int] = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version not in applied:
            apply_migration(connection, migration)
            done.append(migration.version)
    return done
