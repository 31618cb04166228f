"""Profiles: upsert loyalty attributes and look profiles up by email or id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from joyctl.errors import UsageError
from joyctl.klaviyo import filters
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Profile
from joyctl.klaviyo.resources._shared import chunks, parse_many, parse_one, path_id

# How many emails go into one `any(email,[...])` filter; a page holds at most 100 profiles.
EMAILS_PER_LOOKUP = 100
_IDENTIFIERS = ("email", "phone_number", "external_id", "id")


def upsert_profile(
    client: KlaviyoClient,
    attributes: Mapping[str, Any],
    *,
    profile_id: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> Profile:
    """Create or update a profile (`POST /api/profile-import`); null clears a field.

    Absolute attribute values make the call safe to repeat, so it is retried like a read;
    `meta.patch_properties` (append, unset ...) is not, so then it is sent once.
    """
    if not profile_id and not any(attributes.get(key) for key in _IDENTIFIERS):
        raise UsageError("a profile needs an email, phone number, external id or id")
    data: dict[str, Any] = {"type": "profile", "attributes": dict(attributes)}
    if profile_id:
        data["id"] = profile_id
    if meta:
        data["meta"] = dict(meta)
    document = client.post("/api/profile-import", {"data": data}, idempotent=not meta)
    return parse_one(Profile, document)


def get_profiles_by_email(client: KlaviyoClient, emails: Sequence[str]) -> list[Profile]:
    """Profiles for these emails (unknown emails are simply absent)."""
    wanted = list(dict.fromkeys(email.strip() for email in emails if email.strip()))
    found: list[Profile] = []
    for chunk in chunks(wanted, EMAILS_PER_LOOKUP):
        condition = (
            filters.equals("email", chunk[0]) if len(chunk) == 1 else filters.any_of("email", chunk)
        )
        resources = client.paginate("/api/profiles", {"filter": condition})
        found.extend(parse_many(Profile, resources))
    return found


def get_profile_by_email(client: KlaviyoClient, email: str) -> Profile | None:
    profiles = get_profiles_by_email(client, [email])
    return profiles[0] if profiles else None


def get_profile(client: KlaviyoClient, profile_id: str) -> Profile:
    """One profile by its Klaviyo id (an event names its profile only by id)."""
    return parse_one(Profile, client.get(f"/api/profiles/{path_id(profile_id)}"))
