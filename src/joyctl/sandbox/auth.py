"""Who is calling and whether they may: credentials, scopes and the Advanced KDP plan gate."""

from __future__ import annotations

from joyctl.klaviyo.endpoints import Endpoint
from joyctl.sandbox.context import Principal
from joyctl.sandbox.jsonapi import ApiError
from joyctl.sandbox.store.state import SandboxState

# Every scope in Klaviyo's stable spec (x-klaviyo-scopes, revision 2026-07-15).
ALL_SCOPES: tuple[str, ...] = tuple(
    f"{resource}:{access}"
    for resource in (
        "campaigns",
        "catalogs",
        "conversations",
        "coupon-codes",
        "coupons",
        "custom-objects",
        "events",
        "flows",
        "forms",
        "images",
        "lists",
        "metrics",
        "profiles",
        "push-tokens",
        "reviews",
        "segments",
        "subscriptions",
        "tags",
        "templates",
        "tracking-settings",
        "web-feeds",
        "webhooks",
    )
    for access in ("read", "write")
) + ("accounts:read", "data-privacy:write")

# Klaviyo manages webhooks through the API only for Advanced KDP accounts and OAuth apps.
PLAN_GATED_OPERATIONS = frozenset(
    {
        "get_webhooks",
        "create_webhook",
        "get_webhook",
        "update_webhook",
        "delete_webhook",
        "get_webhook_topics",
        "get_webhook_topic",
    }
)
PLAN_GATE_DETAIL = "You must have Advanced KDP enabled to use this endpoint."

PRIVATE_KEY_BUCKET = "private-key"


def _failed() -> ApiError:
    return ApiError(401, "authentication_failed", "Incorrect authentication credentials.")


def authenticate(authorization: str | None, state: SandboxState, now: float) -> Principal:
    """The caller behind an Authorization header, or a 401 in Klaviyo's words."""
    if not authorization:
        raise ApiError(
            401,
            "not_authenticated",
            "Missing or invalid authorization scheme. Please use Klaviyo-API-Key or Bearer.",
        )
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() == "klaviyo-api-key":
        key = state.private_keys.get(credential)
        if key is None:
            raise _failed()
        # Private-key integrations share one quota per account.
        return Principal("private_key", frozenset(key["scopes"]), PRIVATE_KEY_BUCKET)
    if scheme.lower() == "bearer":
        return _bearer(credential, state, now)
    raise ApiError(
        401,
        "not_authenticated",
        "Missing or invalid authorization scheme. Please use Klaviyo-API-Key or Bearer.",
    )


def _bearer(credential: str, state: SandboxState, now: float) -> Principal:
    token = state.access_tokens.get(credential)
    if token is None or token["revoked"] or token["expires_at"] <= now:
        raise _failed()
    grant = state.grants.get(token["grant_id"])
    if grant is None or grant["revoked"]:
        raise _failed()
    # OAuth apps get their own quota per installed app instance.
    return Principal("oauth", frozenset(grant["scopes"]), f"oauth:{grant['client_id']}")


def authorize(principal: Principal, endpoint: Endpoint, state: SandboxState) -> None:
    """403 `permission_denied` for the plan gate or for scopes the credential lacks."""
    gated = endpoint.operation_id in PLAN_GATED_OPERATIONS
    if gated and principal.kind == "private_key" and not state.account["advanced_kdp"]:
        raise ApiError(403, "permission_denied", PLAN_GATE_DETAIL)
    missing = [scope for scope in endpoint.scopes if scope not in principal.scopes]
    if missing:
        raise ApiError(
            403,
            "permission_denied",
            "Your credentials are missing the following required scopes: "
            + ", ".join(missing)
            + ".",
        )
