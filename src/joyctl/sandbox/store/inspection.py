"""`GET /__sandbox/state`: what the emulator has seen and holds, for tests and benchmarks.

Secrets (webhook secret keys, token values, client secrets) are never included.
"""

from __future__ import annotations

from collections import Counter
from typing import cast

from joyctl.sandbox.clock import iso
from joyctl.sandbox.store.records import JsonObject
from joyctl.sandbox.store.state import SandboxState

_ACCOUNT_FIELDS = (
    "id",
    "public_api_key",
    "test_account",
    "advanced_kdp",
    "reviews_enabled",
    "reviews_auto_publish",
)
_JOB_FIELDS = ("id", "status", "total_count", "completed_count", "failed_count")


def _requests(state: SandboxState) -> JsonObject:
    by_route = state.counters["requests"]
    total = sum(sum(statuses.values()) for statuses in by_route.values())
    by_status: Counter[str] = Counter()
    for statuses in by_route.values():
        by_status.update(statuses)
    return {"total": total, "by_status": dict(by_status), "by_route": by_route}


def _events(state: SandboxState) -> JsonObject:
    names = {metric_id: metric["name"] for metric_id, metric in state.metrics.items()}
    by_metric = Counter(names.get(event["metric_id"], "?") for event in state.events.values())
    return {
        "total": len(state.events),
        "by_metric": dict(by_metric),
        "duplicates_dropped": state.counters["duplicates_dropped"],
        "metrics": [{"id": m["id"], "name": m["name"]} for m in state.metrics.values()],
    }


def _profiles(state: SandboxState) -> JsonObject:
    items = [
        {
            "id": p["id"],
            "email": p["email"],
            "external_id": p["external_id"],
            "phone_number": p["phone_number"],
            "first_name": p["first_name"],
            "last_name": p["last_name"],
            "properties": p["properties"],
        }
        for p in state.profiles.values()
    ]
    return {"total": len(items), "items": items}


def _tokens(state: SandboxState, now: float) -> JsonObject:
    access = Counter(
        "revoked" if t["revoked"] else ("expired" if t["expires_at"] <= now else "active")
        for t in state.access_tokens.values()
    )
    refresh = Counter(
        "revoked" if t["revoked"] else "active" for t in state.refresh_tokens.values()
    )
    grants = [
        {
            "id": g["id"],
            "client_id": g["client_id"],
            "scopes": g["scopes"],
            "connected_at": iso(g["connected_at"]),
            "revoked": g["revoked"],
        }
        for g in state.grants.values()
    ]
    return {
        "access": {key: access.get(key, 0) for key in ("active", "expired", "revoked")},
        "refresh": {key: refresh.get(key, 0) for key in ("active", "revoked")},
        "grants": grants,
    }


def _deliveries(state: SandboxState) -> JsonObject:
    statuses = Counter(d["status"] for d in state.deliveries.values())
    return {
        "pending": statuses.get("pending", 0),
        "delivered": statuses.get("delivered", 0),
        "failed": statuses.get("failed", 0),
        # What receivers acknowledged, counted from the bodies they were sent.
        "events_delivered": sum(
            a["event_count"] for a in state.delivery_attempts if a["delivered"]
        ),
        "attempts": state.delivery_attempts,
    }


def _webhooks(state: SandboxState) -> list[JsonObject]:
    """Unmasked URLs (the sandbox's own view); never the secret keys."""
    return [
        {
            "id": w["id"],
            "name": w["name"],
            "endpoint_url": w["endpoint_url"],
            "enabled": w["enabled"],
            "topics": w["topics"],
        }
        for w in state.webhooks.values()
    ]


def snapshot(state: SandboxState, now: float, settings: JsonObject) -> JsonObject:
    account = state.account
    throttled = state.counters["throttled"]
    faults = state.counters["faults"]
    return {
        "scenario": state.scenario,
        "seeded_at": iso(state.seeded_at),
        "now": iso(now),
        "clock_offset_seconds": state.clock_offset,
        "settings": settings,
        "account": {key: cast(JsonObject, account)[key] for key in _ACCOUNT_FIELDS},
        "requests": _requests(state),
        "throttled": {"total": sum(throttled.values()), "by_operation": throttled},
        "faults": {"total": sum(faults.values()), "by_kind": faults},
        "events": _events(state),
        "profiles": _profiles(state),
        "lists": [
            {"id": r["id"], "name": r["name"], "member_count": len(r["members"])}
            for r in state.lists.values()
        ],
        "import_jobs": [
            {key: cast(JsonObject, job)[key] for key in _JOB_FIELDS}
            for job in state.import_jobs.values()
        ],
        "reviews": {
            "total": len(state.reviews),
            "by_status": dict(Counter(r["status"]["value"] for r in state.reviews.values())),
        },
        "webhooks": _webhooks(state),
        "deliveries": _deliveries(state),
        "tokens": _tokens(state, now),
    }


def brief(document: JsonObject) -> JsonObject:
    """The document without the per-profile items and per-attempt lists (large in benchmarks)."""
    document["profiles"].pop("items", None)
    document["deliveries"].pop("attempts", None)
    return document
