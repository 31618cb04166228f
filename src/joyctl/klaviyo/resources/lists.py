"""Lists and list membership (loyalty audiences become Klaviyo lists)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from joyctl.errors import UsageError
from joyctl.klaviyo import filters
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import KlaviyoList
from joyctl.klaviyo.resources._shared import chunks, linkage, parse_many, parse_one, path_id

MAX_PROFILES_PER_CALL = 1000
OPT_IN_PROCESSES = frozenset({"single_opt_in", "double_opt_in"})


def get_list(client: KlaviyoClient, list_id: str) -> KlaviyoList:
    return parse_one(KlaviyoList, client.get(f"/api/lists/{path_id(list_id)}"))


def iter_lists(client: KlaviyoClient, *, name: str | None = None) -> Iterator[KlaviyoList]:
    params = {"filter": filters.equals("name", name)} if name is not None else None
    return parse_many(KlaviyoList, client.paginate("/api/lists", params))


def find_list_by_name(client: KlaviyoClient, name: str) -> KlaviyoList | None:
    """The list with exactly this name, or None; names are not unique, the oldest wins."""
    matches = [found for found in iter_lists(client, name=name) if found.name == name]
    if not matches:
        return None
    return min(matches, key=lambda found: (found.created is None, found.created or 0, found.id))


def create_list(
    client: KlaviyoClient, name: str, *, opt_in_process: str | None = None
) -> KlaviyoList:
    """Create a list. Klaviyo allows only 150 per account per day."""
    attributes = {"name": name}
    if opt_in_process is not None:
        if opt_in_process not in OPT_IN_PROCESSES:
            raise UsageError(f"unknown opt-in process {opt_in_process!r}")
        attributes["opt_in_process"] = opt_in_process
    body = {"data": {"type": "list", "attributes": attributes}}
    return parse_one(KlaviyoList, client.post("/api/lists", body))


def delete_list(client: KlaviyoClient, list_id: str) -> None:
    client.delete(f"/api/lists/{path_id(list_id)}")


def iter_list_profile_ids(client: KlaviyoClient, list_id: str) -> Iterator[str]:
    """The ids of every profile on the list."""
    path = f"/api/lists/{path_id(list_id)}/relationships/profiles"
    for resource in client.paginate(path):
        yield str(resource["id"])


def add_profiles_to_list(client: KlaviyoClient, list_id: str, profile_ids: Sequence[str]) -> int:
    """Add profiles by id, 1,000 per call; returns the number of calls made."""
    return _change_members(client, "POST", list_id, profile_ids)


def remove_profiles_from_list(
    client: KlaviyoClient, list_id: str, profile_ids: Sequence[str]
) -> int:
    """Remove profiles by id, 1,000 per call; consent is not changed."""
    return _change_members(client, "DELETE", list_id, profile_ids)


def _change_members(
    client: KlaviyoClient, method: str, list_id: str, profile_ids: Sequence[str]
) -> int:
    path = f"/api/lists/{path_id(list_id)}/relationships/profiles"
    calls = 0
    for chunk in chunks(list(dict.fromkeys(profile_ids)), MAX_PROFILES_PER_CALL):
        # Membership is a set: adding or removing the same ids twice changes nothing.
        client.request(method, path, body=linkage("profile", chunk), idempotent=True)
        calls += 1
    return calls
