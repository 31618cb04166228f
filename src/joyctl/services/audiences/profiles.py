"""Turning customers into Klaviyo profile ids, which is all list membership calls accept.

Ids resolved before are reused. The rest are looked up by email, 100 to a request; profiles
Klaviyo does not know yet are created, one upsert each when there are few, else through bulk
import jobs (10,000 profiles each). An import job does not return ids, so once the jobs finish
the newest profiles are read back (newest first, back to when the jobs were created) and matched
by email; the few that this misses are looked up by email again. Every id found is remembered in
the ledger at once, so an interrupted sync resumes without repeating the look-ups.

When thousands are unknown, a sample spread over them is looked up first. If almost none of it
exists in Klaviyo (a first sync to a new account), all are imported without a look-up each: a
look-up and a read-back of every profile would together pass Klaviyo's limit of 750 profile
reads a minute and stall the sync for the rest of that minute. A profile that did exist is then
found by email after the read-back, and the import has set its email and the ledger's names.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from joyctl.errors import DataError, RemoteError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Profile, ProfileBulkImportJob, ProfileImportError
from joyctl.klaviyo.resources import bulk_import, profiles
from joyctl.klaviyo.resources._shared import parse_many
from joyctl.ledger import audiences as store
from joyctl.ledger.audiences import Candidate
from joyctl.ledger.db import transaction

T = TypeVar("T")

# Below this many unknown profiles, single upserts (75/s) finish sooner than an import job
# (queued, then polled); above it, jobs save thousands of requests.
UPSERT_AT_MOST = 100
LOOKUP_BATCH = 1000
# Above this many unknown profiles, a sample of them is looked up before all of them are; when
# fewer than SAMPLE_KNOWN_ENOUGH of the sample exist, the rest are imported without look-ups.
SAMPLE_ABOVE = 1000
SAMPLE_SIZE = 100
SAMPLE_KNOWN_ENOUGH = 10
POLL_FIRST_SECONDS = 1.0
POLL_MAX_SECONDS = 10.0
IMPORT_TIMEOUT_SECONDS = 30 * 60.0
# Klaviyo's clocks may disagree by a little between the job and the profiles it creates.
CLOCK_MARGIN = timedelta(minutes=5)


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True, slots=True)
class Unresolved:
    email: str
    reason: str


@dataclass
class Resolution:
    profile_ids: dict[int, str] = field(default_factory=dict)  # customer id -> profile id
    created: int = 0
    unresolved: list[Unresolved] = field(default_factory=list)


class ProfileResolver:
    def __init__(
        self,
        client: KlaviyoClient,
        connection: sqlite3.Connection,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._connection = connection
        self._sleep = sleep
        self._clock = clock

    def resolve(self, candidates: Sequence[Candidate]) -> Resolution:
        """A profile id for every candidate Klaviyo accepts; the others say why not."""
        result = Resolution()
        for c in candidates:
            if c.known_profile_id:
                result.profile_ids[c.customer_id] = c.known_profile_id
        unknown = [c for c in candidates if not c.known_profile_id]
        result.profile_ids.update(self._look_up_unless_new(unknown))
        missing = [c for c in unknown if c.customer_id not in result.profile_ids]
        if len(missing) <= UPSERT_AT_MOST:
            created, unresolved = self._upsert_each(missing)
        else:
            created, unresolved = self._import(missing)
        result.profile_ids.update(created)
        result.created = len(created)
        result.unresolved = unresolved
        return result

    def refresh(self, candidates: Sequence[Candidate]) -> Resolution:
        """Resolve again, ignoring ids remembered before (Klaviyo may have merged a profile)."""
        with transaction(self._connection):
            store.forget_profile_ids(self._connection, [c.customer_id for c in candidates])
        fresh = [
            Candidate(c.customer_id, c.email, c.first_name, c.last_name, None) for c in candidates
        ]
        return self.resolve(fresh)

    def current_ids(self, customers: Sequence[tuple[int, str]]) -> dict[int, str]:
        """The profile ids these (customer id, email) pairs have in Klaviyo now; none created."""
        with transaction(self._connection):
            store.forget_profile_ids(
                self._connection, [customer_id for customer_id, _ in customers]
            )
        return self._look_up([Candidate(cid, email, None, None, None) for cid, email in customers])

    def _look_up_unless_new(self, unknown: Sequence[Candidate]) -> dict[int, str]:
        """The ids Klaviyo has for these candidates, or only the sample's when it says most of
        them are new (the import that follows then finds or creates the others)."""
        if len(unknown) <= SAMPLE_ABOVE:
            return self._look_up(unknown)
        step = len(unknown) // SAMPLE_SIZE
        sample = unknown[::step][:SAMPLE_SIZE]  # spread over the whole list: old and new customers
        found = self._look_up(sample)
        if len(found) < SAMPLE_KNOWN_ENOUGH:
            return found
        sampled = {c.customer_id for c in sample}
        found.update(self._look_up([c for c in unknown if c.customer_id not in sampled]))
        return found

    def _look_up(self, candidates: Sequence[Candidate]) -> dict[int, str]:
        found: dict[int, str] = {}
        for batch in chunked(candidates, LOOKUP_BATCH):
            by_email = {c.email: c for c in batch}
            resolved: list[tuple[int, str, str]] = []
            for profile in profiles.get_profiles_by_email(self._client, list(by_email)):
                candidate = by_email.get((profile.email or "").strip().lower())
                if candidate is not None and candidate.customer_id not in found:
                    found[candidate.customer_id] = profile.id
                    resolved.append((candidate.customer_id, candidate.email, profile.id))
            self._remember(resolved)
        return found

    def _remember(self, resolved: list[tuple[int, str, str]]) -> None:
        if resolved:
            with transaction(self._connection):
                store.remember_profile_ids(
                    self._connection, resolved, datetime.now(UTC).isoformat()
                )

    def _upsert_each(
        self, candidates: Sequence[Candidate]
    ) -> tuple[dict[int, str], list[Unresolved]]:
        created: dict[int, str] = {}
        unresolved: list[Unresolved] = []
        for c in candidates:
            try:
                profile = profiles.upsert_profile(self._client, _attributes(c))
            except DataError as exc:  # Klaviyo refused this one (e.g. an address it rejects)
                unresolved.append(Unresolved(c.email, exc.message))
                continue
            created[c.customer_id] = profile.id
            self._remember([(c.customer_id, c.email, profile.id)])
        return created, unresolved

    def _import(self, candidates: Sequence[Candidate]) -> tuple[dict[int, str], list[Unresolved]]:
        # Every job is submitted before any is awaited, so Klaviyo works on them together.
        jobs = [
            bulk_import.bulk_import_profiles(self._client, [_attributes(c) for c in batch])
            for batch in chunked(candidates, bulk_import.MAX_PROFILES_PER_JOB)
        ]
        reasons: dict[str, str] = {}
        for index, job in enumerate(jobs):
            # A job submitted with the first may well have finished while that one was awaited.
            reasons.update(self._await(job, look_first=index > 0))
        started = min((_aware(job.created_at) for job in jobs if job.created_at), default=None)
        try:
            created = self._read_back(candidates, started) if started else {}
        except DataError:  # an account that refuses the sort: look every one up by email
            created = {}
        leftovers = [c for c in candidates if c.customer_id not in created]
        created.update(self._look_up(leftovers))
        unresolved = [
            Unresolved(c.email, reasons.get(c.email, "Klaviyo's import job did not create it"))
            for c in candidates
            if c.customer_id not in created
        ]
        return created, unresolved

    def _read_back(self, candidates: Sequence[Candidate], since: datetime) -> dict[int, str]:
        """Ids of the candidates among the profiles created since `since`, newest first."""
        by_email = {c.email: c for c in candidates}
        floor = since - CLOCK_MARGIN
        # Other sign-ups may be interleaved: allow for some, then leave the rest to look-ups.
        budget = 2 * len(candidates) + 1000
        found: dict[int, str] = {}
        resolved: list[tuple[int, str, str]] = []
        resources = self._client.paginate("/api/profiles", {"sort": "-created"}, limit=budget)
        for profile in parse_many(Profile, resources):
            if profile.created is not None and _aware(profile.created) < floor:
                break
            candidate = by_email.get((profile.email or "").strip().lower())
            if candidate is not None and candidate.customer_id not in found:
                found[candidate.customer_id] = profile.id
                resolved.append((candidate.customer_id, candidate.email, profile.id))
            if len(resolved) >= LOOKUP_BATCH:
                self._remember(resolved)
                resolved = []
            if len(found) == len(by_email):
                break
        self._remember(resolved)
        return found

    def _await(self, job: ProfileBulkImportJob, *, look_first: bool) -> dict[str, str]:
        """Poll the job until it finishes; the reason each failed email was refused."""
        deadline = self._clock() + IMPORT_TIMEOUT_SECONDS
        interval = POLL_FIRST_SECONDS
        if look_first:
            job = bulk_import.get_bulk_import_job(self._client, job.id)
        while not job.finished:
            if self._clock() >= deadline:
                raise RemoteError(
                    f"Klaviyo's profile import job {job.id} did not finish in"
                    f" {IMPORT_TIMEOUT_SECONDS / 60:.0f} minutes",
                    hint="rerun the sync later: profiles imported meanwhile are found by email",
                )
            self._sleep(interval)
            interval = min(POLL_MAX_SECONDS, interval * 1.5)
            job = bulk_import.get_bulk_import_job(self._client, job.id)
        if job.status == "cancelled" or not job.failed_count:
            return {}
        return {
            str((error.original_payload or {}).get("email", "")).strip().lower(): _reason(error)
            for error in bulk_import.iter_import_errors(self._client, job.id)
        }


def _attributes(candidate: Candidate) -> dict[str, Any]:
    # Only the email identifies the profile: sending our external id could clash with a
    # profile Klaviyo already links to it. Names help people recognise the new profile.
    attributes: dict[str, Any] = {"email": candidate.email}
    if candidate.first_name:
        attributes["first_name"] = candidate.first_name
    if candidate.last_name:
        attributes["last_name"] = candidate.last_name
    return attributes


def _aware(moment: datetime) -> datetime:
    """Klaviyo's timestamps carry an offset; one without is taken as UTC, never compared naive."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _reason(error: ProfileImportError) -> str:
    return str(error.detail or error.title or error.code or "refused by Klaviyo")
