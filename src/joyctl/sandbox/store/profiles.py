"""Profiles as Klaviyo keeps them: found by any identifier, created or updated field by field.

Update semantics (profile-import, PATCH, events): a field set to null is cleared, an omitted field
is left alone; `properties` and `location` merge key by key.
"""

from __future__ import annotations

import re
from typing import Any, cast

from joyctl.sandbox.clock import iso
from joyctl.sandbox.ids import ulid
from joyctl.sandbox.jsonapi import ApiError, invalid, not_found
from joyctl.sandbox.store.profile_index import IDENTIFIER_FIELDS
from joyctl.sandbox.store.records import JsonObject, ProfileRecord
from joyctl.sandbox.store.resources import LOCATION_FIELDS, PROFILE_ATTRIBUTES
from joyctl.sandbox.store.state import SandboxState

STRING_FIELDS = (*PROFILE_ATTRIBUTES, "anonymous_id", "_kx")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_PATTERN = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164


def valid_email(value: str) -> bool:
    return bool(EMAIL_PATTERN.match(value))


def validate_profile(resource: Any, pointer: str) -> JsonObject:
    """Check a profile resource object; returns its attributes."""
    if not isinstance(resource, dict):
        raise invalid("A profile resource object is required.", pointer=pointer)
    if resource.get("type") != "profile":
        raise invalid("The resource type must be 'profile'.", pointer=f"{pointer}/type")
    attributes = resource.get("attributes")
    if not isinstance(attributes, dict):
        raise invalid("'attributes' is a required object.", pointer=f"{pointer}/attributes")
    for name in STRING_FIELDS:
        value = attributes.get(name)
        if value is not None and not isinstance(value, str):
            raise invalid(f"'{name}' must be a string.", pointer=f"{pointer}/attributes/{name}")
    _check_formats(attributes, f"{pointer}/attributes")
    identifiers = [attributes.get(name) for name in (*IDENTIFIER_FIELDS, "_kx")]
    if not resource.get("id") and not any(identifiers):
        raise invalid(
            "A profile needs at least one identifier: id, email, phone_number, external_id, "
            "anonymous_id or _kx.",
            pointer=f"{pointer}/attributes",
        )
    return attributes


def _check_formats(attributes: JsonObject, pointer: str) -> None:
    email = attributes.get("email")
    if email and not valid_email(email):
        raise invalid(f"Invalid email address: '{email}'.", pointer=f"{pointer}/email")
    phone = attributes.get("phone_number")
    if phone and not PHONE_PATTERN.match(phone):
        raise invalid(
            f"Invalid phone number '{phone}': use E.164, such as +15005550006.",
            pointer=f"{pointer}/phone_number",
        )
    for name in ("properties", "location"):
        value = attributes.get(name)
        if value is not None and not isinstance(value, dict):
            raise invalid(f"'{name}' must be an object.", pointer=f"{pointer}/{name}")


def find_profile(state: SandboxState, resource: JsonObject) -> ProfileRecord | None:
    """The stored profile a resource refers to: by id, else by its first known identifier."""
    profile_id = resource.get("id")
    if profile_id:
        profile = state.profiles.get(profile_id)
        if profile is None:
            raise not_found("Profile", profile_id)
        return profile
    attributes = resource.get("attributes") or {}
    for name in IDENTIFIER_FIELDS:
        value = attributes.get(name)
        if value:
            found = state.profile_by_identifier(name, value)
            if found is not None:
                return found
    return None


def new_profile(now: float) -> ProfileRecord:
    stamp = iso(now)
    return ProfileRecord(
        id=ulid(now),
        email=None,
        phone_number=None,
        external_id=None,
        anonymous_id=None,
        first_name=None,
        last_name=None,
        organization=None,
        locale=None,
        title=None,
        image=None,
        location={},
        properties={},
        created=stamp,
        updated=stamp,
        last_event_date=None,
    )


def upsert_profile(
    state: SandboxState, resource: JsonObject, now: float
) -> tuple[ProfileRecord, bool]:
    """Create or update the profile a validated resource describes; True when it was created."""
    existing = find_profile(state, resource)
    profile = existing if existing is not None else new_profile(now)
    update_profile(state, profile, resource, now)
    if existing is None:
        state.profiles[profile["id"]] = profile
        state.index_profile(profile)
    return profile, existing is None


def update_profile(
    state: SandboxState, profile: ProfileRecord, resource: JsonObject, now: float
) -> None:
    attributes: JsonObject = resource.get("attributes") or {}
    _reject_taken_identifiers(state, profile, attributes)
    state.unindex_profile(profile)
    record = cast(JsonObject, profile)
    for name in (*PROFILE_ATTRIBUTES, "anonymous_id"):
        if name in attributes:
            record[name] = attributes[name]
    if "location" in attributes:
        profile["location"] = _merge(profile["location"], attributes["location"], LOCATION_FIELDS)
    if "properties" in attributes:
        profile["properties"] = _merge(profile["properties"], attributes["properties"], None)
    meta = resource.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("patch_properties"), dict):
        _patch_properties(profile["properties"], meta["patch_properties"])
    profile["updated"] = iso(now)
    state.index_profile(profile)


def _reject_taken_identifiers(
    state: SandboxState, profile: ProfileRecord, attributes: JsonObject
) -> None:
    for name in IDENTIFIER_FIELDS:
        value = attributes.get(name)
        owner = state.profile_by_identifier(name, value) if value else None
        if owner is not None and owner["id"] != profile["id"]:
            raise ApiError(
                409,
                "duplicate_profile",
                "A profile already exists with one of these identifiers.",
                pointer="/data/attributes",
                meta={"duplicate_profile_id": owner["id"]},
            )


def _merge(current: JsonObject, update: Any, allowed: tuple[str, ...] | None) -> JsonObject:
    """Null clears the whole object; otherwise keys merge and a null value removes a key."""
    if update is None:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if allowed is not None and key not in allowed:
            continue
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _patch_properties(properties: JsonObject, patch: JsonObject) -> None:
    for key, value in (patch.get("append") or {}).items():
        current = properties.get(key)
        items = current if isinstance(current, list) else ([] if current is None else [current])
        properties[key] = items + (value if isinstance(value, list) else [value])
    for key, value in (patch.get("unappend") or {}).items():
        current = properties.get(key)
        if isinstance(current, list):
            removed = value if isinstance(value, list) else [value]
            properties[key] = [item for item in current if item not in removed]
    unset = patch.get("unset") or []
    for key in [unset] if isinstance(unset, str) else unset:
        properties.pop(key, None)
