"""Audiences: define, list, show and delete them, and map each to one Klaviyo list.

A definition lives in the ledger (see `audiences_definition`); membership is always computed
from the current customers and balances, so counts shown here are as of now. Mapping finds the
Klaviyo list by id or by exact name (with the list filter, 10 lists a page) and creates one only
when asked, since Klaviyo allows 150 new lists per account per day.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.errors import NotFoundError, RateLimitedError, UsageError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import KlaviyoList
from joyctl.klaviyo.resources import lists as klaviyo_lists
from joyctl.ledger import audiences as store
from joyctl.ledger.db import transaction
from joyctl.services.audiences.definition import (
    AudienceDefinition,
    check_name,
    load_definition,
)

DAILY_LIST_CAP = 150


class AudienceView(BaseModel):
    name: str
    definition: AudienceDefinition
    summary: str
    members: int
    list_id: str | None = None
    list_name: str | None = None
    synced_members: int | None = None
    last_synced_at: str | None = None
    created_at: str
    updated_at: str


class SampleMember(BaseModel):
    email: str
    tier: str | None
    member_status: str
    points: int


class AudienceDetail(AudienceView):
    sample: list[SampleMember]


class ListTarget(BaseModel):
    """Where `map` points an audience: a list id, or a list name (created when allowed)."""

    list_id: str | None = None
    list_name: str | None = None
    create: bool = False

    def check(self) -> None:
        if (self.list_id is None) == (self.list_name is None):
            raise UsageError(
                "give either --list ID or --list-name NAME", hint="not both, not neither"
            )
        if self.create and self.list_name is None:
            raise UsageError("--create-list needs --list-name NAME", hint="the new list's name")
        if self.list_name is not None and not self.list_name.strip():
            raise UsageError("--list-name is empty", hint="give the Klaviyo list's exact name")


class MappingResult(BaseModel):
    audience: str
    list_id: str
    list_name: str | None
    list_created: bool
    previous_list_id: str | None
    changed: bool


class Forgotten(BaseModel):
    """What `unmap` or `delete` dropped; the Klaviyo list itself is left as it is."""

    audience: str
    list_id: str | None
    list_name: str | None
    synced_members: int


def _now(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).isoformat()


def require_audience(connection: sqlite3.Connection, name: str) -> store.AudienceRecord:
    record = store.find_audience(connection, name.strip())
    if record is None:
        raise NotFoundError(
            f"there is no audience named {name.strip()!r}",
            hint=f"see `{command('audiences', 'list')}`, or create it with"
            f" `{command('audiences', 'create')}`",
        )
    return record


def create_audience(
    connection: sqlite3.Connection,
    name: str,
    definition: AudienceDefinition,
    *,
    replace: bool = False,
    now: datetime | None = None,
) -> AudienceView:
    """Store a new definition, or with `replace` redefine an existing audience in place."""
    clean = check_name(name)
    stamp, stored = _now(now), definition.model_dump_json()
    with transaction(connection):
        existing = store.find_audience(connection, clean)
        if existing is not None and not replace:
            raise UsageError(
                f"an audience named {existing.name!r} exists",
                hint="pass --replace to redefine it, or pick another name",
            )
        if existing is not None:
            store.update_definition(connection, existing.id, stored, stamp)
        else:
            store.insert_audience(connection, clean, stored, stamp)
    return _view(connection, require_audience(connection, clean))


def list_audiences(connection: sqlite3.Connection) -> list[AudienceView]:
    return [_view(connection, record) for record in store.all_audiences(connection)]


def show_audience(connection: sqlite3.Connection, name: str, *, sample: int = 10) -> AudienceDetail:
    record = require_audience(connection, name)
    view = _view(connection, record)
    rows = store.sample_members(connection, view.definition.member_filter(), max(0, sample))
    members = [
        SampleMember(email=r.email, tier=r.tier, member_status=r.member_status, points=r.balance)
        for r in rows
    ]
    return AudienceDetail(**view.model_dump(), sample=members)


def delete_audience(connection: sqlite3.Connection, name: str) -> Forgotten:
    """Delete the definition, its mapping and its synced membership; Klaviyo is not touched."""
    with transaction(connection):
        record = require_audience(connection, name)
        forgotten = _forgotten(connection, record)
        store.delete_audience(connection, record.id)
    return forgotten


def unmap_audience(connection: sqlite3.Connection, name: str) -> Forgotten:
    """Forget the list and the membership synced to it; the list keeps its members."""
    with transaction(connection):
        record = require_audience(connection, name)
        if store.mapping_for(connection, record.id) is None:
            raise UsageError(f"audience {record.name!r} is not mapped to a list")
        forgotten = _forgotten(connection, record)
        store.remove_mapping(connection, record.id)
    return forgotten


def map_audience(
    client: KlaviyoClient,
    connection: sqlite3.Connection,
    name: str,
    target: ListTarget,
    *,
    now: datetime | None = None,
) -> MappingResult:
    """Map the audience to the target list; a new list's membership starts from nothing."""
    target.check()
    record = require_audience(connection, name)
    found, created = _find_or_create(client, connection, record, target)
    previous = store.mapping_for(connection, record.id)
    with transaction(connection):
        _refuse_shared_list(connection, record, found.id)
        store.set_mapping(
            connection,
            record.id,
            list_id=found.id,
            list_name=found.name,
            # Mapping the same list again keeps the record of who created it.
            list_created=created
            or (previous is not None and previous.list_id == found.id and previous.list_created),
            now=_now(now),
        )
    return MappingResult(
        audience=record.name,
        list_id=found.id,
        list_name=found.name,
        list_created=created,
        previous_list_id=previous.list_id if previous else None,
        changed=previous is None or previous.list_id != found.id,
    )


def _find_or_create(
    client: KlaviyoClient,
    connection: sqlite3.Connection,
    record: store.AudienceRecord,
    target: ListTarget,
) -> tuple[KlaviyoList, bool]:
    if target.list_id is not None:
        _refuse_shared_list(connection, record, target.list_id.strip())
        return _get_list(client, target.list_id.strip()), False
    name = (target.list_name or "").strip()
    found = klaviyo_lists.find_list_by_name(client, name)
    if found is not None:
        return found, False
    if not target.create:
        raise NotFoundError(
            f"Klaviyo has no list named {name!r}",
            hint="check the name (it must match exactly), or pass --create-list to create it",
        )
    return _create_list(client, name), True


def _get_list(client: KlaviyoClient, list_id: str) -> KlaviyoList:
    try:
        return klaviyo_lists.get_list(client, list_id)
    except NotFoundError:
        raise NotFoundError(
            f"Klaviyo has no list with id {list_id!r}",
            hint="copy the id from the list's page in Klaviyo, or use --list-name NAME",
        ) from None


def _create_list(client: KlaviyoClient, name: str) -> KlaviyoList:
    try:
        return klaviyo_lists.create_list(client, name)
    except RateLimitedError:
        # Pacing keeps within the per-second and per-minute limits, so a refusal that outlasts
        # the retries is the daily cap.
        raise RateLimitedError(
            f"Klaviyo would not create list {name!r}: an account may create only"
            f" {DAILY_LIST_CAP} lists a day, and today's are used up",
            hint="map to an existing list (--list ID, or --list-name without --create-list),"
            " or rerun after midnight UTC",
            code="list_cap",
        ) from None


def _refuse_shared_list(
    connection: sqlite3.Connection, record: store.AudienceRecord, list_id: str
) -> None:
    # Two audiences syncing into one list would undo each other's additions and removals.
    other = store.mapping_for_list(connection, list_id)
    if other is not None and other.audience_id != record.id:
        raise UsageError(
            f"Klaviyo list {list_id} is already mapped to audience {other.audience!r}",
            hint="pick another list, or first run"
            f" `{command('audiences', 'unmap', other.audience)}`",
        )


def _forgotten(connection: sqlite3.Connection, record: store.AudienceRecord) -> Forgotten:
    mapping = store.mapping_for(connection, record.id)
    return Forgotten(
        audience=record.name,
        list_id=mapping.list_id if mapping else None,
        list_name=mapping.list_name if mapping else None,
        synced_members=mapping.synced_members if mapping else 0,
    )


def _view(connection: sqlite3.Connection, record: store.AudienceRecord) -> AudienceView:
    definition = load_definition(record.name, record.definition)
    mapping = store.mapping_for(connection, record.id)
    return AudienceView(
        name=record.name,
        definition=definition,
        summary=definition.describe(),
        members=store.count_members(connection, definition.member_filter()),
        list_id=mapping.list_id if mapping else None,
        list_name=mapping.list_name if mapping else None,
        synced_members=mapping.synced_members if mapping else None,
        last_synced_at=mapping.last_synced_at if mapping else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
