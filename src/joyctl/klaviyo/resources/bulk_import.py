"""Profile bulk import jobs: submit up to 10,000 profiles, poll the job, read its errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from joyctl.errors import UsageError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import ProfileBulkImportJob, ProfileImportError
from joyctl.klaviyo.resources._shared import linkage, parse_many, parse_one, path_id

MAX_PROFILES_PER_JOB = 10_000


def bulk_import_profiles(
    client: KlaviyoClient,
    profiles: Sequence[Mapping[str, Any]],
    *,
    list_ids: Sequence[str] = (),
) -> ProfileBulkImportJob:
    """Start a job that upserts `profiles` (attribute mappings) and adds them to `list_ids`."""
    if not profiles:
        raise UsageError("a bulk import needs at least one profile")
    if len(profiles) > MAX_PROFILES_PER_JOB:
        raise UsageError(f"a bulk import holds at most 10,000 profiles, not {len(profiles)}")
    data: dict[str, Any] = {
        "type": "profile-bulk-import-job",
        "attributes": {
            "profiles": {"data": [{"type": "profile", "attributes": dict(p)} for p in profiles]}
        },
    }
    if list_ids:
        data["relationships"] = {"lists": linkage("list", list_ids)}
    document = client.post("/api/profile-bulk-import-jobs", {"data": data})
    return parse_one(ProfileBulkImportJob, document, operation="bulk_import_profiles")


def get_bulk_import_job(client: KlaviyoClient, job_id: str) -> ProfileBulkImportJob:
    document = client.get(f"/api/profile-bulk-import-jobs/{path_id(job_id)}")
    return parse_one(ProfileBulkImportJob, document, operation="get_bulk_import_profiles_job")


def iter_import_errors(client: KlaviyoClient, job_id: str) -> Iterator[ProfileImportError]:
    path = f"/api/profile-bulk-import-jobs/{path_id(job_id)}/import-errors"
    return parse_many(ProfileImportError, client.paginate(path))
