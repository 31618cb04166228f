"""What joyctl asks of Klaviyo's API: the revision it sends and the scopes each feature needs.

A bottom-layer module, like `envvars.py`: the settings take their defaults from it and the
Klaviyo layer sends the same revision, so settings never import the Klaviyo layer.
"""

from __future__ import annotations

REVISION = "2026-07-15"

# Scopes each joyctl feature needs (reference: klaviyo-api.md section 2.5, loyalty-domain.md
# section 7 check 3). The review-reward set is an inference in the references, so profiles may
# override it with the `required_scopes` setting.
FEATURE_SCOPES: dict[str, tuple[str, ...]] = {
    "connection": ("accounts:read",),
    "review_rewards": ("reviews:read", "webhooks:read", "webhooks:write"),
    "events": ("events:write", "events:read", "metrics:read"),
    "profiles": ("profiles:read", "profiles:write"),
    "lists": ("lists:read", "lists:write", "profiles:write"),
    "webhooks": ("webhooks:read", "webhooks:write"),
}


def all_required_scopes() -> tuple[str, ...]:
    """Every scope joyctl asks for when it connects, in a stable order."""
    seen: dict[str, None] = {}
    for scopes in FEATURE_SCOPES.values():
        for scope in scopes:
            seen.setdefault(scope, None)
    seen.setdefault("reviews:write", None)
    seen.setdefault("lists:read", None)
    return tuple(seen)
