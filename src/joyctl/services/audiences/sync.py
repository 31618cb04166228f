"""`joyctl audiences sync`: make each mapped Klaviyo list hold exactly its audience.

The audience is computed from the ledger and diffed against the membership last synced (what
Klaviyo accepted before), so only the difference is sent: removals, then additions, at most
1,000 profile ids a request, each request paced by the client. A member's synced state is
recorded in the same step as Klaviyo's acceptance of its request, never before, which makes a
sync idempotent (a second run sends no membership change) and resumable (an interrupted run is
finished by running it again; repeating an addition or removal changes nothing in Klaviyo).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.errors import DataError, NotFoundError, UsageError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.resources import lists as klaviyo_lists
from joyctl.ledger import audiences as store
from joyctl.ledger.audiences import (
    AudienceMapping,
    Candidate,
    Departing,
    MemberFilter,
    SyncedMember,
)
from joyctl.ledger.db import transaction
from joyctl.services.audiences.definition import load_definition
from joyctl.services.audiences.manage import require_audience
from joyctl.services.audiences.profiles import ProfileResolver, Unresolved, chunked

IDS_PER_REQUEST = klaviyo_lists.MAX_PROFILES_PER_CALL
UNRESOLVED_SHOWN = 20
CONSENT_NOTICE = (
    "list membership is not marketing consent: Klaviyo emails a list member only when the"
    " profile is subscribed, which these syncs never change"
)
Progress = Callable[[str], None]


class UnresolvedMember(BaseModel):
    email: str
    reason: str


class AudienceSync(BaseModel):
    audience: str
    list_id: str
    list_name: str | None
    members: int
    added: int
    removed: int
    unchanged: int
    profiles_created: int = 0
    unresolved: int = 0
    unresolved_examples: list[UnresolvedMember] = []
    membership_requests: int = 0


class SyncReport(BaseModel):
    dry_run: bool
    audiences: list[AudienceSync]
    notice: str = CONSENT_NOTICE

    @property
    def unresolved(self) -> int:
        return sum(item.unresolved for item in self.audiences)


@dataclass(frozen=True, slots=True)
class _Target:
    audience_id: int
    name: str
    mapping: AudienceMapping
    member_filter: MemberFilter


def sync_audiences(
    connect: Callable[[], KlaviyoClient],
    connection: sqlite3.Connection,
    names: Sequence[str] = (),
    *,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: Progress | None = None,
) -> SyncReport:
    """Sync the named audiences (default: every mapped one). A dry run only reads the ledger.

    `connect` opens the Klaviyo client, only once the names are known to be mapped audiences
    and never for a dry run, so a typo is reported before any credential is needed.
    """
    targets = _targets(connection, names)
    if dry_run:
        return SyncReport(dry_run=True, audiences=[_plan(connection, t) for t in targets])
    client = connect()
    progress = on_progress or (lambda _: None)
    results = [_ListSync(client, connection, t, sleep, progress).run() for t in targets]
    return SyncReport(dry_run=False, audiences=results)


def _targets(connection: sqlite3.Connection, names: Sequence[str]) -> list[_Target]:
    if names:
        records = [require_audience(connection, name) for name in dict.fromkeys(names)]
        mappings = [store.mapping_for(connection, record.id) for record in records]
        for record, mapping in zip(records, mappings, strict=True):
            if mapping is None:
                raise UsageError(
                    f"audience {record.name!r} is not mapped to a Klaviyo list",
                    hint="map it first: `"
                    + command("audiences", "map", record.name, "--list-name", "NAME")
                    + " --create-list`",
                )
        found = [m for m in mappings if m is not None]
    else:
        found = store.audience_mappings(connection)
        if not found:
            raise UsageError(
                "no audience is mapped to a Klaviyo list",
                hint=f"create one with `{command('audiences', 'create')}`,"
                f" then `{command('audiences', 'map')}`",
            )
    now = datetime.now(UTC)
    return [_target(connection, mapping, now) for mapping in found]


def _target(connection: sqlite3.Connection, mapping: AudienceMapping, now: datetime) -> _Target:
    record = require_audience(connection, mapping.audience)
    definition = load_definition(record.name, record.definition)
    # One moment for the whole run: an age such as 90d must not drift between queries.
    return _Target(record.id, record.name, mapping, definition.member_filter(now))


def _plan(connection: sqlite3.Connection, target: _Target) -> AudienceSync:
    to_add = store.members_to_add(connection, target.audience_id, target.member_filter)
    to_remove = store.members_to_remove(connection, target.audience_id, target.member_filter)
    unchanged = store.count_synced(connection, target.audience_id) - len(to_remove)
    return AudienceSync(
        audience=target.name,
        list_id=target.mapping.list_id,
        list_name=target.mapping.list_name,
        members=unchanged + len(to_add),
        added=len(to_add),
        removed=len(to_remove),
        unchanged=unchanged,
    )


class _ListSync:
    """One audience's sync against its list."""

    def __init__(
        self,
        client: KlaviyoClient,
        connection: sqlite3.Connection,
        target: _Target,
        sleep: Callable[[float], None],
        on_progress: Progress,
    ) -> None:
        self._client = client
        self._connection = connection
        self._target = target
        self._list_id = target.mapping.list_id
        self._resolver = ProfileResolver(client, connection, sleep=sleep)
        self._progress = on_progress
        self._requests = 0
        self._created = 0
        self._unresolved: list[Unresolved] = []

    def run(self) -> AudienceSync:
        target, connection = self._target, self._connection
        with self._list_must_exist():
            klaviyo_lists.get_list(self._client, self._list_id)
        to_remove = store.members_to_remove(connection, target.audience_id, target.member_filter)
        unchanged = store.count_synced(connection, target.audience_id) - len(to_remove)
        self._remove(to_remove)
        to_add = store.members_to_add(connection, target.audience_id, target.member_filter)
        added = self._add(to_add)
        with transaction(connection):
            store.mark_synced(connection, target.audience_id, datetime.now(UTC).isoformat())
        return AudienceSync(
            audience=target.name,
            list_id=self._list_id,
            list_name=target.mapping.list_name,
            members=unchanged + len(to_add),
            added=added,
            removed=len(to_remove),
            unchanged=unchanged,
            profiles_created=self._created,
            unresolved=len(self._unresolved),
            unresolved_examples=[
                UnresolvedMember(email=u.email, reason=u.reason)
                for u in self._unresolved[:UNRESOLVED_SHOWN]
            ],
            membership_requests=self._requests,
        )

    def _remove(self, members: Sequence[Departing]) -> None:
        for chunk in chunked(members, IDS_PER_REQUEST):
            try:
                self._send_removals([m.profile_id for m in chunk])
            except DataError:
                # A profile Klaviyo deleted or merged fails the whole request. A deleted one
                # has left the list with it; the others are removed under their current id.
                current = self._resolver.current_ids([(m.customer_id, m.email) for m in chunk])
                if current:
                    self._send_removals(list(current.values()))
            with transaction(self._connection):
                store.record_removed(
                    self._connection, self._target.audience_id, [m.customer_id for m in chunk]
                )
        if members:
            self._progress(f"{self._target.name}: removed {len(members):,}")

    def _send_removals(self, profile_ids: Sequence[str]) -> None:
        with self._list_must_exist():
            self._requests += klaviyo_lists.remove_profiles_from_list(
                self._client, self._list_id, profile_ids
            )

    def _add(self, candidates: Sequence[Candidate]) -> int:
        if not candidates:
            return 0
        # All are resolved before any is added: look-ups then never wait behind imports.
        self._progress(f"{self._target.name}: finding {len(candidates):,} Klaviyo profiles")
        resolution = self._resolver.resolve(candidates)
        self._created += resolution.created
        self._unresolved.extend(resolution.unresolved)
        by_id = {c.customer_id: c for c in candidates}
        members = [SyncedMember(cid, pid) for cid, pid in resolution.profile_ids.items()]
        added = 0
        for number, chunk in enumerate(chunked(members, IDS_PER_REQUEST), start=1):
            added += self._add_chunk(chunk, by_id)
            if number % 10 == 0 or added == len(members):
                self._progress(f"{self._target.name}: added {added:,} of {len(members):,}")
        return added

    def _add_chunk(self, chunk: Sequence[SyncedMember], by_id: dict[int, Candidate]) -> int:
        try:
            self._send_additions(chunk)
        except DataError:
            # A remembered profile id that Klaviyo no longer knows (merged or deleted) fails
            # the whole request: resolve these members again by email and retry once.
            fresh = self._resolver.refresh([by_id[m.customer_id] for m in chunk])
            self._created += fresh.created
            self._unresolved.extend(fresh.unresolved)
            chunk = [SyncedMember(cid, pid) for cid, pid in fresh.profile_ids.items()]
            if not chunk:
                return 0
            self._send_additions(chunk)
        return len(chunk)

    def _send_additions(self, chunk: Sequence[SyncedMember]) -> None:
        with self._list_must_exist():
            self._requests += klaviyo_lists.add_profiles_to_list(
                self._client, self._list_id, [m.profile_id for m in chunk]
            )
        with transaction(self._connection):
            store.record_added(
                self._connection,
                self._target.audience_id,
                self._list_id,
                chunk,
                datetime.now(UTC).isoformat(),
            )

    @contextmanager
    def _list_must_exist(self) -> Iterator[None]:
        try:
            yield
        except NotFoundError:
            raise _list_gone(self._target.name, self._target.mapping) from None


def _list_gone(audience: str, mapping: AudienceMapping) -> NotFoundError:
    shown = f"{mapping.list_id} ({mapping.list_name!r})" if mapping.list_name else mapping.list_id
    new_name = mapping.list_name or audience
    remap = command("audiences", "map", audience, "--list-name", new_name, "--create-list")
    return NotFoundError(
        f"Klaviyo list {shown}, mapped to audience {audience!r}, no longer exists",
        hint=f"map the audience to a list again, e.g. `{remap}`, then rerun the sync"
        " (it adds every member to the new list)",
        code="list_deleted",
    )
