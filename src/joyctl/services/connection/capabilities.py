"""What a credential may do: granted scopes per feature, or, for private keys, safe probes.

An OAuth grant names its scopes in the token response. A private key cannot be introspected,
so one harmless read per capability (a one-item page) shows which reads work; write access of a
key stays unverified. Both views end in the same per-feature report with the exact command that
fixes what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from joyctl.api_contract import FEATURE_SCOPES
from joyctl.errors import JoyctlError, PermissionDeniedError, PlanGateError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.endpoints import find_endpoint


class Probe(StrEnum):
    """How one capability's safe read went."""

    OK = "ok"
    MISSING_SCOPE = "missing_scope"
    PLAN_GATE = "plan_gate"
    ERROR = "error"


class Access(StrEnum):
    OK = "ok"
    MISSING = "missing"
    PLAN_GATE = "plan_gate"
    UNKNOWN = "unknown"


# One safe read per capability: the collection's first item only.
CAPABILITY_READS: dict[str, tuple[str, dict[str, Any]]] = {
    "events": ("/api/events", {"page[size]": 1}),
    "profiles": ("/api/profiles", {"page[size]": 1}),
    "lists": ("/api/lists", {"page[size]": 1}),
    "webhooks": ("/api/webhooks", {}),
    "reviews": ("/api/reviews", {"page[size]": 1}),
}

# Which probes stand for each feature when the scopes themselves cannot be known.
FEATURE_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "connection": (),
    "review_rewards": ("reviews", "webhooks"),
    "events": ("events",),
    "profiles": ("profiles",),
    "lists": ("lists",),
    "webhooks": ("webhooks",),
}


class FeatureAccess(BaseModel):
    """One feature: the scopes it needs, whether the profile requires it, and what is missing."""

    feature: str
    scopes: list[str]
    required: bool
    access: Access
    missing: list[str]
    fix: str | None


def capability_scopes(capability: str) -> tuple[str, ...]:
    path, _ = CAPABILITY_READS[capability]
    endpoint = find_endpoint("GET", path)
    return endpoint.scopes if endpoint is not None else ()


def probe_capabilities(client: KlaviyoClient) -> dict[str, Probe]:
    """Run every capability's safe read; a failure is recorded, never raised."""
    results: dict[str, Probe] = {}
    for capability, (path, params) in CAPABILITY_READS.items():
        try:
            client.get(path, params=params or None)
        except PlanGateError:
            results[capability] = Probe.PLAN_GATE
        except PermissionDeniedError:
            results[capability] = Probe.MISSING_SCOPE
        except JoyctlError:
            results[capability] = Probe.ERROR
        else:
            results[capability] = Probe.OK
    return results


def verified_scopes(probes: Mapping[str, Probe]) -> list[str]:
    """The read scopes the successful probes prove, plus accounts:read (the account answered)."""
    found = {"accounts:read"}
    for capability, result in probes.items():
        if result is Probe.OK:
            found.update(capability_scopes(capability))
    return sorted(found)


def features_from_scopes(
    granted: Iterable[str], required: Sequence[str], fix: str
) -> list[FeatureAccess]:
    """Per feature, the scopes of an OAuth grant (or any credential whose scopes are known)."""
    have, needed = set(granted), set(required)
    report = []
    for feature, scopes in FEATURE_SCOPES.items():
        missing = [scope for scope in scopes if scope not in have]
        report.append(
            FeatureAccess(
                feature=feature,
                scopes=list(scopes),
                required=bool(needed.intersection(scopes)),
                access=Access.MISSING if missing else Access.OK,
                missing=missing,
                fix=fix if missing else None,
            )
        )
    return report


def features_from_probes(
    probes: Mapping[str, Probe] | None, required: Sequence[str], fixes: ProbeFixes
) -> list[FeatureAccess]:
    """Per feature, from capability probes; None means nothing was probed (all unknown)."""
    needed = set(required)
    report = []
    for feature, scopes in FEATURE_SCOPES.items():
        capabilities = FEATURE_CAPABILITIES[feature]
        access, missing = _probed_access(capabilities, probes)
        fix = {Access.MISSING: fixes.missing_scope, Access.PLAN_GATE: fixes.plan_gate}.get(access)
        report.append(
            FeatureAccess(
                feature=feature,
                scopes=list(scopes),
                required=bool(needed.intersection(scopes)),
                access=access,
                missing=missing,
                fix=fix.format(scopes=" ".join(missing)) if fix else None,
            )
        )
    return report


class ProbeFixes(BaseModel):
    """Fix commands for probed credentials; `{scopes}` is replaced by the missing scopes."""

    missing_scope: str
    plan_gate: str


def _probed_access(
    capabilities: Sequence[str], probes: Mapping[str, Probe] | None
) -> tuple[Access, list[str]]:
    if not capabilities:
        return Access.OK, []  # the connection itself: the account answered
    if probes is None or any(probes.get(c) in (None, Probe.ERROR) for c in capabilities):
        return Access.UNKNOWN, []
    missing = [
        scope
        for capability in capabilities
        if probes[capability] is Probe.MISSING_SCOPE
        for scope in capability_scopes(capability)
    ]
    if missing:
        return Access.MISSING, missing
    if any(probes[c] is Probe.PLAN_GATE for c in capabilities):
        return Access.PLAN_GATE, []
    return Access.OK, []


def blocking(features: Iterable[FeatureAccess]) -> list[FeatureAccess]:
    """The required features that are not fully available."""
    return [f for f in features if f.required and f.access is not Access.OK]
