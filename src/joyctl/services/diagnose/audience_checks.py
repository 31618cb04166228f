"""Audience mappings point at Klaviyo lists that still exist."""

from __future__ import annotations

from collections.abc import Callable

from joyctl.command_line import command, then
from joyctl.errors import NotFoundError
from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import KlaviyoList
from joyctl.klaviyo.resources.lists import get_list
from joyctl.ledger.audiences import audience_mappings
from joyctl.services.diagnose.connection_checks import account
from joyctl.services.diagnose.model import CheckResult, failed, passed, skipped
from joyctl.services.diagnose.probe import Probe


def _list_reader(list_id: str) -> Callable[[KlaviyoClient], KlaviyoList]:
    return lambda client: get_list(client, list_id)


def check_audience_lists(probe: Probe) -> CheckResult:
    title = "Audience mappings point at Klaviyo lists that still exist"
    mappings = audience_mappings(probe.connection)
    if not mappings:
        return passed("audience_lists", title, "no audience is mapped to a list")
    if account(probe) is None:
        return skipped("audience_lists", title, "Klaviyo could not be reached")
    missing = []
    for mapping in mappings:
        fetched = probe.remote(f"list:{mapping.list_id}", _list_reader(mapping.list_id))
        if isinstance(fetched.error, NotFoundError):
            missing.append(mapping)
        elif not fetched.ok:
            return skipped("audience_lists", title, f"cannot read lists: {fetched.problem}")
    if missing:
        evidence = [f"audience {m.audience}: list {m.list_id} no longer exists" for m in missing]
        first = missing[0].audience
        fix = then(
            command("audiences", "map", first, "--list-name", "NAME", "--create-list"),
            command("audiences", "sync"),
        )
        return failed("audience_lists", title, evidence, fix)
    return passed("audience_lists", title, f"{len(mappings)} mapped lists exist")
