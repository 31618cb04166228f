"""The ledger as a backfill source: point entries as the Joy events Klaviyo flows expect.

Earns, redemptions and expiries become `Joy: Earn Point`, `Joy: Redeem Points` and `Joy: Upon
Point Expiration` with Joy's property names (loyalty-domain.md 1.6 and 5). Opening balances,
adjustments and revocations have no Joy metric; `backfill profiles` carries their effect on the
balance. Each event's `unique_id` is the one the reward pipeline gives the live event of the same
entry, so an entry pushed live and backfilled later is recorded once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from joyctl.klaviyo import joy_events
from joyctl.klaviyo.bulk.batches import Item, Outgoing, Skipped
from joyctl.klaviyo.resources.events import EventInput
from joyctl.ledger.backfill_queries import EntryRow, iter_entries, sent_unique_ids
from joyctl.ledger.programs import latest_program_version
from joyctl.services.backfill.records import Selection

REDEEM_METRIC = "Joy: Redeem Points"
EXPIRE_METRIC = "Joy: Upon Point Expiration"
METRIC_BY_KIND = {
    "earn": joy_events.EARN_POINT_METRIC,
    "redeem": REDEEM_METRIC,
    "expire": EXPIRE_METRIC,
}
_LOOKUP_PAGE = 500
T = TypeVar("T")


def entry_unique_id(entry_id: int) -> str:
    """The id `services.rewards` gives the outbox event of the same entry."""
    return f"joyctl-entry-{entry_id}"


def selected_kinds(selection: Selection) -> list[str]:
    return [
        kind
        for kind, metric in METRIC_BY_KIND.items()
        if not selection.metrics or metric in selection.metrics
    ]


def utc_text(moment: datetime | None) -> str | None:
    """The ledger's own timestamp form, so SQL compares times as text correctly."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def ledger_items(
    connection: sqlite3.Connection, selection: Selection, *, after_id: int
) -> Iterator[Item]:
    """Entries after `after_id` as events; entries the outbox sent already are skipped."""
    kinds = selected_kinds(selection)
    if not kinds:
        return
    names = _ProgramNames(connection)
    rows = iter_entries(
        connection,
        after_id=after_id,
        kinds=kinds,
        since=utc_text(selection.since),
        until=utc_text(selection.until),
    )
    for page in _pages(rows, _LOOKUP_PAGE):
        sent = sent_unique_ids(connection, [entry_unique_id(row.id) for row in page])
        for row in page:
            position = {"entry_id": row.id}
            if entry_unique_id(row.id) in sent:
                yield Skipped("already_sent", position)
                continue
            event = entry_event(row, names.name_of(row.program))
            yield Outgoing.build(_profile(row), event, origin=row.id, position=position)


def entry_event(row: EntryRow, program_name: str) -> EventInput:
    when = datetime.fromisoformat(row.created_at).astimezone(UTC).replace(microsecond=0)
    properties: dict[str, Any]
    if row.kind == "earn":
        properties = _earn_properties(row, program_name)
    elif row.kind == "redeem":
        properties = {
            "Program name": program_name,
            "Redeemed points": f"{-row.delta} points",
            "Discount code": row.meta.get("discount_code"),
        }
    else:
        properties = {"Points expire": -row.delta, "Expired at": when.date().isoformat()}
    properties.update(
        {
            "Customer points": row.balance_after,
            "Customer ID": row.customer_id,
            "Created at": row.created_at,
        }
    )
    clean = {key: value for key, value in properties.items() if value is not None}
    return EventInput(METRIC_BY_KIND[row.kind], clean, when, entry_unique_id(row.id))


def _earn_properties(row: EntryRow, program_name: str) -> dict[str, Any]:
    if row.source_kind == "review" and row.meta.get("review_id"):
        event = joy_events.earn_point_event(
            unique_id=entry_unique_id(row.id),
            email=row.email,
            external_id=row.external_id,
            program_name=program_name,
            points=row.delta,
            balance_after=row.balance_after,
            time=row.created_at,
            review_id=str(row.meta["review_id"]),
            product_id=row.meta.get("product_id"),
            customer_id=row.customer_id,
        )
        return dict(event["properties"])
    return {
        "Program name": program_name,
        "Program type": row.source_kind,
        "Earned points": f"{row.delta} points",
        "Source ID": row.source_id,
    }


def _profile(row: EntryRow) -> dict[str, str]:
    profile = {"email": row.email}
    if row.external_id:
        profile["external_id"] = row.external_id
    return profile


class _ProgramNames:
    """A program's display name (Joy's `Program name`), looked up once per program."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._names: dict[str | None, str] = {}

    def name_of(self, program: str | None) -> str:
        if program not in self._names:
            version = latest_program_version(self._connection, program) if program else None
            name = version.settings.get("name") if version is not None else None
            self._names[program] = str(name or program or "Loyalty program")
        return self._names[program]


def _pages(items: Iterator[T], size: int) -> Iterator[Sequence[T]]:
    page: list[T] = []
    for item in items:
        page.append(item)
        if len(page) >= size:
            yield page
            page = []
    if page:
        yield page
