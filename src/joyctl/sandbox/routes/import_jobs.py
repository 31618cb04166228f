"""Profile bulk-import jobs: accepted at once, then queued -> processing -> complete.

A job stays queued, then processing, for as long as the latency profile says (sandbox time).
Its profiles are applied when it completes; each profile that cannot be imported becomes an
import error instead of failing the job.
"""

from __future__ import annotations

import json
from typing import Any

from joyctl.sandbox.context import Handler, RequestContext, World
from joyctl.sandbox.ids import hex_id, uuid_id
from joyctl.sandbox.jsonapi import ApiError, Response, invalid, json_response, not_found
from joyctl.sandbox.routes.filters import FilterField, apply_filter, field_spec
from joyctl.sandbox.routes.listing import page_of, sort_items
from joyctl.sandbox.routes.validation import check_bulk_payload, identifier_list, resource_data
from joyctl.sandbox.store.profiles import upsert_profile, validate_profile
from joyctl.sandbox.store.records import ImportErrorRecord, ImportJobRecord, JsonObject
from joyctl.sandbox.store.resources import import_error_resource, import_job_resource
from joyctl.sandbox.store.state import SandboxState

MAX_PROFILES = 10_000
MAX_PROFILE_BYTES = 100 * 1024
PROFILES_POINTER = "/data/attributes/profiles/data"


def advance_jobs(state: SandboxState, now: float, queued: float, processing: float) -> bool:
    """Bring every unfinished job up to date with the clock; True when one moved."""
    moved = False
    for job in state.import_jobs.values():
        if job["status"] in ("complete", "cancelled"):
            continue
        elapsed = now - job["created_at"]
        if elapsed >= queued and job["started_at"] is None:
            job["status"] = "processing"
            job["started_at"] = job["created_at"] + queued
            moved = True
        if elapsed >= queued + processing:
            _complete(state, job, job["created_at"] + queued + processing)
            moved = True
    return moved


def _complete(state: SandboxState, job: ImportJobRecord, finished_at: float) -> None:
    for index, resource in enumerate(job["pending_profiles"]):
        pointer = f"{PROFILES_POINTER}/{index}"
        try:
            _check_profile_size(resource, pointer)
            validate_profile(resource, pointer)
            profile, _ = upsert_profile(state, resource, finished_at)
        except ApiError as error:
            job["errors"].append(_import_error(error, resource))
            continue
        job["profile_ids"].append(profile["id"])
        for list_id in job["list_ids"]:
            record = state.lists.get(list_id)
            if record is not None:
                record["members"].setdefault(profile["id"], profile["updated"])
    job["pending_profiles"] = []
    job["completed_count"] = len(job["profile_ids"])
    job["failed_count"] = len(job["errors"])
    job["status"] = "complete"
    job["completed_at"] = finished_at


def _check_profile_size(resource: Any, pointer: str) -> None:
    if len(json.dumps(resource)) > MAX_PROFILE_BYTES:
        raise invalid("A profile may be at most 100 KB.", pointer=pointer)


def _import_error(error: ApiError, resource: Any) -> ImportErrorRecord:
    attributes = resource.get("attributes") if isinstance(resource, dict) else None
    return ImportErrorRecord(
        id=uuid_id(),
        code=error.code,
        title=error.document()["errors"][0]["title"],
        detail=error.detail,
        pointer=error.pointer or PROFILES_POINTER,
        original_payload=attributes if isinstance(attributes, dict) else {},
    )


def _list_ids(world: World, data: JsonObject) -> list[str]:
    lists = ((data.get("relationships") or {}).get("lists") or {}).get("data")
    if lists is None:
        return []
    pointer = "/data/relationships/lists/data"
    ids = identifier_list(lists, "list", pointer)
    for index, list_id in enumerate(ids):
        if list_id not in world.state.lists:
            raise invalid(f"List {list_id} does not exist.", pointer=f"{pointer}/{index}/id")
    return ids


def bulk_import_profiles(ctx: RequestContext, world: World) -> Response:
    check_bulk_payload(ctx)
    data = resource_data(ctx, "profile-bulk-import-job")
    profiles = ((data.get("attributes") or {}).get("profiles") or {}).get("data")
    if not isinstance(profiles, list) or not profiles:
        raise invalid("'profiles.data' is a required, non-empty array.", pointer=PROFILES_POINTER)
    if len(profiles) > MAX_PROFILES:
        raise invalid("A job may import at most 10,000 profiles.", pointer=PROFILES_POINTER)
    now = world.now()
    job = ImportJobRecord(
        id=hex_id(40),
        created_at=now,
        started_at=None,
        completed_at=None,
        status="queued",
        total_count=len(profiles),
        completed_count=0,
        failed_count=0,
        list_ids=_list_ids(world, data),
        pending_profiles=profiles,
        profile_ids=[],
        errors=[],
    )
    world.state.import_jobs[job["id"]] = job
    return json_response(
        202, {"data": import_job_resource(job, ctx.base_url), "links": {"self": ctx.url}}
    )


JOB_FILTERS: dict[str, FilterField[ImportJobRecord]] = {
    "status": field_spec(lambda j: j["status"], "any equals"),
}


def get_jobs(ctx: RequestContext, world: World) -> Response:
    jobs = apply_filter(world.state.import_jobs.values(), ctx.param("filter"), JOB_FILTERS)
    jobs = sort_items(ctx, jobs, {"created_at": lambda j: j["created_at"]})
    page = page_of(ctx, jobs)
    return json_response(
        200,
        {"data": [import_job_resource(j, ctx.base_url) for j in page.items], "links": page.links},
    )


def _job(ctx: RequestContext, world: World) -> ImportJobRecord:
    job = world.state.import_jobs.get(ctx.path_params["id"])
    if job is None:
        raise not_found("Profile bulk import job", ctx.path_params["id"])
    return job


def get_job(ctx: RequestContext, world: World) -> Response:
    job = _job(ctx, world)
    return json_response(
        200, {"data": import_job_resource(job, ctx.base_url), "links": {"self": ctx.url}}
    )


def get_job_errors(ctx: RequestContext, world: World) -> Response:
    page = page_of(ctx, _job(ctx, world)["errors"])
    return json_response(
        200, {"data": [import_error_resource(e) for e in page.items], "links": page.links}
    )


HANDLERS: dict[str, Handler] = {
    "get_bulk_import_profiles_jobs": get_jobs,
    "bulk_import_profiles": bulk_import_profiles,
    "get_bulk_import_profiles_job": get_job,
    "get_errors_for_bulk_import_profiles_job": get_job_errors,
}
