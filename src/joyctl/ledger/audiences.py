"""Audiences: stored definitions, their Klaviyo list mappings, and the membership last synced.

A definition's filter is compiled here into one parameterised WHERE clause over the customers
and their current balances: column names and operators come from this module only, every value
is a bound parameter, so no text a user typed ever becomes SQL.

`audience_members` holds what Klaviyo has accepted, one row per customer on the mapped list with
the Klaviyo profile id used; a sync diffs the current membership against it. `audience_profile_ids`
remembers which profile id an email resolved to, so a resumed or later sync skips the look-up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The current balance is the latest entry's balance_after (see ledger.points).
_MEMBERS = (
    "SELECT c.id AS customer_id, c.email, c.first_name, c.last_name, c.tier, c.member_status,"
    " c.birthday, c.last_activity_at, c.referred,"
    " coalesce((SELECT p.balance_after FROM point_entries p"
    " WHERE p.customer_id = c.id ORDER BY p.id DESC LIMIT 1), 0) AS balance FROM customers c"
)
# Birthdays are stored as MM/DD or YYYY-MM-DD (ledger.customers.normalize_birthday).
_BIRTHDAY_MONTH = (
    "CAST(CASE WHEN length(m.birthday) = 5 THEN substr(m.birthday, 1, 2)"
    " ELSE substr(m.birthday, 6, 2) END AS INTEGER)"
)
_IN_AUDIENCE = "SELECT 1 FROM audience_members a WHERE a.audience_id = :audience_id"


@dataclass(frozen=True, slots=True)
class MemberFilter:
    """Validated criteria, all of which must hold; empty fields do not filter."""

    tiers: tuple[str, ...] = ()  # compared case-insensitively
    points_at_least: int | None = None
    points_at_most: int | None = None
    statuses: tuple[str, ...] = ()
    birthday_months: tuple[int, ...] = ()
    last_activity_after: str | None = None  # stored form (UTC ISO 8601), inclusive
    last_activity_before: str | None = None  # exclusive
    referred: bool | None = None


@dataclass(frozen=True, slots=True)
class Compiled:
    where: str
    params: dict[str, object]


def compile_filter(member_filter: MemberFilter) -> Compiled:
    """The WHERE clause over the alias `m` (see `_MEMBERS`) and its named parameters."""
    clauses: list[str] = []
    params: dict[str, object] = {}

    def one_of(expression: str, name: str, values: Sequence[object]) -> None:
        names = [f":{name}_{index}" for index in range(len(values))]
        clauses.append(f"{expression} IN ({', '.join(names)})")
        params.update({f"{name}_{index}": value for index, value in enumerate(values)})

    def compare(expression: str, operator: str, name: str, value: object) -> None:
        clauses.append(f"{expression} {operator} :{name}")
        params[name] = value

    f = member_filter
    if f.tiers:
        one_of("lower(m.tier)", "tier", [tier.lower() for tier in f.tiers])
    if f.points_at_least is not None:
        compare("m.balance", ">=", "points_min", f.points_at_least)
    if f.points_at_most is not None:
        compare("m.balance", "<=", "points_max", f.points_at_most)
    if f.statuses:
        one_of("m.member_status", "status", f.statuses)
    if f.birthday_months:
        one_of(_BIRTHDAY_MONTH, "month", f.birthday_months)
    if f.last_activity_after is not None:
        compare("m.last_activity_at", ">=", "active_after", f.last_activity_after)
    if f.last_activity_before is not None:
        compare("m.last_activity_at", "<", "active_before", f.last_activity_before)
    if f.referred is not None:
        compare("m.referred", "=", "referred", int(f.referred))
    return Compiled(" AND ".join(clauses) or "1", params)


# --- definitions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudienceRecord:
    id: int
    name: str
    definition: str  # JSON, validated by the service layer
    created_at: str
    updated_at: str


_AUDIENCE_COLUMNS = "id, name, definition, created_at, updated_at"


def insert_audience(connection: sqlite3.Connection, name: str, definition: str, now: str) -> int:
    cursor = connection.execute(
        "INSERT INTO audiences (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)",
        (name, definition, now, now),
    )
    return int(cursor.lastrowid or 0)


def update_definition(
    connection: sqlite3.Connection, audience_id: int, definition: str, now: str
) -> None:
    connection.execute(
        "UPDATE audiences SET definition = ?, updated_at = ? WHERE id = ?",
        (definition, now, audience_id),
    )


def find_audience(connection: sqlite3.Connection, name: str) -> AudienceRecord | None:
    """The audience with this name, compared case-insensitively."""
    row = connection.execute(
        f"SELECT {_AUDIENCE_COLUMNS} FROM audiences WHERE name = ?",  # noqa: S608 - constant columns
        (name,),
    ).fetchone()
    return None if row is None else AudienceRecord(*row)


def all_audiences(connection: sqlite3.Connection) -> list[AudienceRecord]:
    rows = connection.execute(f"SELECT {_AUDIENCE_COLUMNS} FROM audiences ORDER BY name")  # noqa: S608 - constant columns
    return [AudienceRecord(*row) for row in rows]


def delete_audience(connection: sqlite3.Connection, audience_id: int) -> None:
    """The definition, its mapping and its synced membership (by cascade)."""
    connection.execute("DELETE FROM audiences WHERE id = ?", (audience_id,))


# --- mappings ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudienceMapping:
    audience_id: int
    audience: str
    list_id: str
    list_name: str | None
    list_created: bool  # joyctl created the list
    mapped_at: str
    last_synced_at: str | None
    synced_members: int


_MAPPINGS = (
    "SELECT l.audience_id, a.name, l.list_id, l.list_name, l.list_created, l.mapped_at,"
    " l.last_synced_at, (SELECT count(*) FROM audience_members s"
    " WHERE s.audience_id = l.audience_id) FROM audience_lists l"
    " JOIN audiences a ON a.id = l.audience_id"
)


def _mapping(row: sqlite3.Row) -> AudienceMapping:
    return AudienceMapping(
        audience_id=row[0],
        audience=row[1],
        list_id=row[2],
        list_name=row[3],
        list_created=bool(row[4]),
        mapped_at=row[5],
        last_synced_at=row[6],
        synced_members=row[7],
    )


def audience_mappings(connection: sqlite3.Connection) -> list[AudienceMapping]:
    """Every audience mapped to a Klaviyo list, by audience name."""
    return [_mapping(row) for row in connection.execute(_MAPPINGS + " ORDER BY a.name")]


def mapping_for(connection: sqlite3.Connection, audience_id: int) -> AudienceMapping | None:
    row = connection.execute(_MAPPINGS + " WHERE l.audience_id = ?", (audience_id,)).fetchone()
    return None if row is None else _mapping(row)


def mapping_for_list(connection: sqlite3.Connection, list_id: str) -> AudienceMapping | None:
    row = connection.execute(_MAPPINGS + " WHERE l.list_id = ?", (list_id,)).fetchone()
    return None if row is None else _mapping(row)


def set_mapping(
    connection: sqlite3.Connection,
    audience_id: int,
    *,
    list_id: str,
    list_name: str | None,
    list_created: bool,
    now: str,
) -> None:
    """Map the audience to a list; membership synced to a previous list no longer applies."""
    connection.execute(
        "DELETE FROM audience_members WHERE audience_id = ? AND list_id <> ?",
        (audience_id, list_id),
    )
    connection.execute(
        "INSERT INTO audience_lists (audience_id, list_id, list_name, list_created, mapped_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (audience_id) DO UPDATE SET"
        " list_id = excluded.list_id, list_name = excluded.list_name,"
        " list_created = excluded.list_created, mapped_at = excluded.mapped_at,"
        " last_synced_at = CASE WHEN list_id = excluded.list_id THEN last_synced_at END",
        (audience_id, list_id, list_name, int(list_created), now),
    )


def remove_mapping(connection: sqlite3.Connection, audience_id: int) -> None:
    connection.execute("DELETE FROM audience_members WHERE audience_id = ?", (audience_id,))
    connection.execute("DELETE FROM audience_lists WHERE audience_id = ?", (audience_id,))


def mark_synced(connection: sqlite3.Connection, audience_id: int, now: str) -> None:
    connection.execute(
        "UPDATE audience_lists SET last_synced_at = ? WHERE audience_id = ?", (now, audience_id)
    )


# --- membership ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberRow:
    customer_id: int
    email: str
    tier: str | None
    member_status: str
    balance: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A member not yet on the list, with the profile id it resolved to before (if any)."""

    customer_id: int
    email: str
    first_name: str | None
    last_name: str | None
    known_profile_id: str | None


@dataclass(frozen=True, slots=True)
class SyncedMember:
    customer_id: int
    profile_id: str


@dataclass(frozen=True, slots=True)
class Departing:
    """A customer on the list as last synced who no longer matches."""

    customer_id: int
    email: str
    profile_id: str


def count_members(connection: sqlite3.Connection, member_filter: MemberFilter) -> int:
    compiled = compile_filter(member_filter)
    sql = f"SELECT count(*) FROM ({_MEMBERS}) m WHERE {compiled.where}"  # noqa: S608 - built from constants
    return int(connection.execute(sql, compiled.params).fetchone()[0])


def sample_members(
    connection: sqlite3.Connection, member_filter: MemberFilter, limit: int
) -> list[MemberRow]:
    compiled = compile_filter(member_filter)
    sql = (
        "SELECT m.customer_id, m.email, m.tier, m.member_status, m.balance"  # noqa: S608 - constants
        f" FROM ({_MEMBERS}) m WHERE {compiled.where} ORDER BY m.customer_id LIMIT :limit"
    )
    rows = connection.execute(sql, {**compiled.params, "limit": limit})
    return [MemberRow(*row) for row in rows]


def members_to_add(
    connection: sqlite3.Connection, audience_id: int, member_filter: MemberFilter
) -> list[Candidate]:
    """Members that are not on the list as last synced, in customer order."""
    compiled = compile_filter(member_filter)
    sql = (
        "SELECT m.customer_id, m.email, m.first_name, m.last_name, p.profile_id"  # noqa: S608 - constants
        f" FROM ({_MEMBERS}) m LEFT JOIN audience_profile_ids p"
        " ON p.customer_id = m.customer_id AND p.email = m.email"
        f" WHERE {compiled.where}"
        f" AND NOT EXISTS ({_IN_AUDIENCE} AND a.customer_id = m.customer_id)"
        " ORDER BY m.customer_id"
    )
    rows = connection.execute(sql, {**compiled.params, "audience_id": audience_id})
    return [Candidate(*row) for row in rows]


def members_to_remove(
    connection: sqlite3.Connection, audience_id: int, member_filter: MemberFilter
) -> list[Departing]:
    """Customers on the list as last synced that no longer match, in customer order."""
    compiled = compile_filter(member_filter)
    sql = (
        "SELECT a.customer_id, c.email, a.profile_id FROM audience_members a"  # noqa: S608 - constants
        " JOIN customers c ON c.id = a.customer_id"
        " WHERE a.audience_id = :audience_id AND a.customer_id NOT IN"
        f" (SELECT m.customer_id FROM ({_MEMBERS}) m WHERE {compiled.where})"
        " ORDER BY a.customer_id"
    )
    rows = connection.execute(sql, {**compiled.params, "audience_id": audience_id})
    return [Departing(*row) for row in rows]


def count_synced(connection: sqlite3.Connection, audience_id: int) -> int:
    row = connection.execute(
        "SELECT count(*) FROM audience_members WHERE audience_id = ?", (audience_id,)
    ).fetchone()
    return int(row[0])


def record_added(
    connection: sqlite3.Connection,
    audience_id: int,
    list_id: str,
    members: Iterable[SyncedMember],
    now: str,
) -> None:
    connection.executemany(
        "INSERT INTO audience_members (audience_id, customer_id, list_id, profile_id, synced_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (audience_id, customer_id) DO UPDATE SET"
        " list_id = excluded.list_id, profile_id = excluded.profile_id,"
        " synced_at = excluded.synced_at",
        [(audience_id, m.customer_id, list_id, m.profile_id, now) for m in members],
    )


def record_removed(
    connection: sqlite3.Connection, audience_id: int, customer_ids: Iterable[int]
) -> None:
    connection.executemany(
        "DELETE FROM audience_members WHERE audience_id = ? AND customer_id = ?",
        [(audience_id, customer_id) for customer_id in customer_ids],
    )


# --- resolved profile ids ------------------------------------------------------------------


def remember_profile_ids(
    connection: sqlite3.Connection, resolved: Iterable[tuple[int, str, str]], now: str
) -> None:
    """Store (customer id, email, Klaviyo profile id) triples."""
    connection.executemany(
        "INSERT INTO audience_profile_ids (customer_id, email, profile_id, resolved_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET email = excluded.email,"
        " profile_id = excluded.profile_id, resolved_at = excluded.resolved_at",
        [(customer_id, email, profile_id, now) for customer_id, email, profile_id in resolved],
    )


def forget_profile_ids(connection: sqlite3.Connection, customer_ids: Iterable[int]) -> None:
    connection.executemany(
        "DELETE FROM audience_profile_ids WHERE customer_id = ?", [(i,) for i in customer_ids]
    )
