"""Profiles found by identifier without a scan, as Klaviyo finds them.

The index is derived from the stored profiles and never saved: it is built when a state is loaded
or seeded and updated by `profiles.py`, the only code that creates or changes a profile. Callers
hold the application lock, like every other reader and writer of the state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from joyctl.sandbox.store.records import ProfileRecord

IDENTIFIER_FIELDS = ("email", "phone_number", "external_id", "anonymous_id")


def identifier_key(field_name: str, value: str) -> str:
    """Index key for a profile identifier; emails match case-insensitively, as in Klaviyo."""
    normalized = value.strip().lower() if field_name == "email" else value.strip()
    return f"{field_name}:{normalized}"


class ProfileIndex:
    """Identifier key -> the ids of the profiles holding it, and each profile's storage position.

    Writes refuse an identifier another profile holds, so a key has one holder. A state file
    edited by hand can still give two profiles one key; keeping every holder means neither
    becomes unreachable when the other changes, and the latest one indexed is the owner, as
    when the index kept a single id per key.
    """

    def __init__(self) -> None:
        self._holders: dict[str, tuple[str, ...]] = {}
        # Profiles are only ever appended, so first-indexed order is the order of
        # `state.profiles`; a look-up returns its matches in that order, as a scan would.
        self._positions: dict[str, int] = {}

    @classmethod
    def of(cls, profiles: Iterable[ProfileRecord]) -> ProfileIndex:
        index = cls()
        for profile in profiles:
            index.add(profile)
        return index

    def add(self, profile: ProfileRecord) -> None:
        profile_id = profile["id"]
        self._positions.setdefault(profile_id, len(self._positions))
        for key in _keys(profile):
            holders = self._holders.get(key, ())
            if profile_id not in holders:
                self._holders[key] = (*holders, profile_id)

    def remove(self, profile: ProfileRecord) -> None:
        """Forget the profile's current identifiers (before they change); it keeps its place."""
        profile_id = profile["id"]
        for key in _keys(profile):
            holders = tuple(i for i in self._holders.get(key, ()) if i != profile_id)
            if holders:
                self._holders[key] = holders
            else:
                self._holders.pop(key, None)

    def owner(self, field_name: str, value: str) -> str | None:
        holders = self._holders.get(identifier_key(field_name, value), ())
        return holders[-1] if holders else None

    def holders(self, field_name: str, values: Iterable[str]) -> list[str]:
        """Ids of every profile holding one of the values, each once, in storage order."""
        found = {
            profile_id
            for value in values
            for profile_id in self._holders.get(identifier_key(field_name, value), ())
        }
        return self.in_storage_order(found)

    def in_storage_order(self, profile_ids: Iterable[str]) -> list[str]:
        """The indexed ids among `profile_ids`, each once, in the order they were stored."""
        known = {i for i in profile_ids if i in self._positions}
        return sorted(known, key=self._positions.__getitem__)


def _keys(profile: ProfileRecord) -> list[str]:
    keys = []
    for name in IDENTIFIER_FIELDS:
        value = cast(str | None, profile.get(name))
        if value:
            keys.append(identifier_key(name, value))
    return keys
