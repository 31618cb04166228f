"""`joyctl audiences` on the built-in sandbox profile, checked against the emulator's own state.

After each command the embedded emulator has saved its state; the tests reopen that state in a
server of their own and read it through the Klaviyo API and `/__sandbox/state`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from joyctl.paths import resolve_paths
from joyctl.sandbox import SandboxConfig, SandboxServer
from joyctl.services.sandbox_profile.embedded import state_file
from tests.conftest import Cli
from tests.sandbox.support import key_client

SANDBOX = ("--profile", "sandbox")
MEMBERSHIP_ROUTES = (
    "POST /api/lists/{id}/relationships/profiles",
    "DELETE /api/lists/{id}/relationships/profiles",
)


def _data(cli: Cli, *args: str) -> Any:
    result = cli("--json", *SANDBOX, *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["data"]


@contextmanager
def _emulator(home: Path) -> Iterator[SandboxServer]:
    path = state_file(resolve_paths({"JOYCTL_HOME": str(home)}))
    server = SandboxServer(SandboxConfig(state_file=path, rate_limits="off"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _list_emails(home: Path, list_id: str) -> set[str]:
    with _emulator(home) as server, key_client(server) as client:
        response = client.get(f"/api/lists/{list_id}/profiles", params={"page[size]": 100})
        assert response.status_code == 200
        document = response.json()
        assert not (document.get("links") or {}).get("next"), "more than one page"
        return {item["attributes"]["email"] for item in document["data"]}


def _requests(home: Path) -> dict[str, dict[str, int]]:
    with _emulator(home) as server:
        by_route: dict[str, dict[str, int]] = server.inspect()["requests"]["by_route"]
        return by_route


def _member_count(home: Path, list_id: str) -> int:
    with _emulator(home) as server:
        lists = {item["id"]: item for item in server.inspect()["lists"]}
    return int(lists[list_id]["member_count"])


def _gold_emails(cli: Cli) -> set[str]:
    shown = _data(cli, "audiences", "show", "gold", "--sample", "1000")
    return {member["email"] for member in shown["sample"]}


def _write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _change_tiers(cli: Cli, tmp_path: Path, gold: set[str]) -> tuple[list[str], list[str]]:
    """Two Gold customers drop to Silver, one Silver rises to Gold, and a new Gold customer
    appears whom Klaviyo does not know yet."""
    _data(cli, "audiences", "create", "silver", "--tier", "Silver")
    silver_member = _data(cli, "audiences", "show", "silver", "--sample", "1")["sample"][0]["email"]
    demoted, promoted = sorted(gold)[:2], [silver_member, "new.gold@example.com"]
    rows = [f"{email},Silver" for email in demoted] + [f"{email},Gold" for email in promoted]
    changes = _write_csv(tmp_path, "email,tier\n" + "\n".join(rows) + "\n")
    imported = cli(*SANDBOX, "ledger", "import", str(changes))
    assert imported.exit_code == 0, imported.stderr
    return demoted, promoted


def test_gold_audience_syncs_to_a_new_list_then_follows_tier_changes(
    cli: Cli, isolated_home: Path, tmp_path: Path
) -> None:
    created = _data(cli, "audiences", "create", "gold", "--tier", "Gold")
    mapped = _data(cli, "audiences", "map", "gold", "--list-name", "Joy Gold", "--create-list")
    assert mapped["list_created"] is True
    list_id = mapped["list_id"]

    first = _data(cli, "audiences", "sync")["audiences"][0]
    assert first["added"] == created["members"] > 0
    assert first["membership_requests"] == 1
    assert _member_count(isolated_home, list_id) == created["members"]
    before = _gold_emails(cli)
    assert _list_emails(isolated_home, list_id) == before

    demoted, promoted = _change_tiers(cli, tmp_path, before)
    after = _gold_emails(cli)
    assert after == (before - set(demoted)) | set(promoted)

    second = _data(cli, "audiences", "sync", "gold")["audiences"][0]
    assert (second["added"], second["removed"]) == (2, 2)
    assert second["unchanged"] == len(before) - 2
    assert second["profiles_created"] == 1
    assert _list_emails(isolated_home, list_id) == after

    routes_before = _requests(isolated_home)
    third = _data(cli, "audiences", "sync", "gold")["audiences"][0]
    assert (third["added"], third["removed"], third["membership_requests"]) == (0, 0, 0)
    assert third["unchanged"] == len(after)
    routes_after = _requests(isolated_home)
    changed = {route for route in routes_after if routes_after[route] != routes_before.get(route)}
    assert changed and all(route.startswith("GET ") for route in changed), changed
    assert not changed & set(MEMBERSHIP_ROUTES)


def test_a_list_deleted_in_klaviyo_stops_the_sync_with_the_fix(
    cli: Cli, isolated_home: Path
) -> None:
    _data(cli, "audiences", "create", "gold", "--tier", "Gold")
    list_id = _data(cli, "audiences", "map", "gold", "--list-name", "Joy Gold", "--create-list")[
        "list_id"
    ]
    _data(cli, "audiences", "sync")
    with _emulator(isolated_home) as server, key_client(server) as client:
        assert client.delete(f"/api/lists/{list_id}").status_code == 204

    failed = cli(*SANDBOX, "audiences", "sync")
    assert failed.exit_code == 2
    assert f"Klaviyo list {list_id} ('Joy Gold'), mapped to audience 'gold', no longer" in (
        failed.stderr
    )
    assert "joyctl audiences map gold --list-name 'Joy Gold' --create-list" in failed.stderr
    assert "Traceback" not in failed.stderr

    remapped = _data(cli, "audiences", "map", "gold", "--list-name", "Joy Gold", "--create-list")
    assert remapped["previous_list_id"] == list_id
    again = _data(cli, "audiences", "sync")["audiences"][0]
    assert again["added"] == again["members"]
    assert _member_count(isolated_home, remapped["list_id"]) == again["members"]


def test_dry_run_counts_from_the_ledger_and_sends_nothing(cli: Cli, isolated_home: Path) -> None:
    _data(cli, "audiences", "create", "rich", "--points-at-least", "1000", "--status", "member")
    list_id = _data(cli, "audiences", "map", "rich", "--list-name", "Rich", "--create-list")[
        "list_id"
    ]
    before = _requests(isolated_home)
    plan = _data(cli, "audiences", "sync", "--dry-run")
    assert plan["dry_run"] is True
    assert plan["audiences"][0]["added"] == plan["audiences"][0]["members"] > 0
    assert _requests(isolated_home) == before
    assert _member_count(isolated_home, list_id) == 0


def test_map_by_id_refuses_a_list_another_audience_syncs(cli: Cli) -> None:
    _data(cli, "audiences", "create", "gold", "--tier", "Gold")
    _data(cli, "audiences", "create", "vip", "--tier", "Gold", "--tier", "Silver")
    list_id = _data(cli, "audiences", "map", "gold", "--list-name", "Joy Gold", "--create-list")[
        "list_id"
    ]
    by_name = _data(cli, "audiences", "map", "gold", "--list-name", "Joy Gold", "--create-list")
    assert (by_name["list_id"], by_name["list_created"], by_name["changed"]) == (
        list_id,
        False,
        False,
    )
    refused = cli(*SANDBOX, "audiences", "map", "vip", "--list", list_id)
    assert refused.exit_code == 2
    assert "already mapped to audience 'gold'" in refused.stderr
    assert "joyctl audiences unmap gold" in refused.stderr

    missing = cli(*SANDBOX, "audiences", "map", "vip", "--list-name", "Nowhere")
    assert missing.exit_code == 2
    assert "--create-list" in missing.stderr
    unknown_id = cli(*SANDBOX, "audiences", "map", "vip", "--list", "XXXXXX")
    assert unknown_id.exit_code == 2
    assert "no list with id 'XXXXXX'" in unknown_id.stderr


def test_unmap_and_delete_forget_the_ledger_side_only(cli: Cli, isolated_home: Path) -> None:
    _data(cli, "audiences", "create", "gold", "--tier", "Gold")
    list_id = _data(cli, "audiences", "map", "gold", "--list-name", "Joy Gold", "--create-list")[
        "list_id"
    ]
    synced = _data(cli, "audiences", "sync")["audiences"][0]["added"]
    unmapped = _data(cli, "audiences", "unmap", "gold")
    assert (unmapped["list_id"], unmapped["synced_members"]) == (list_id, synced)
    assert _member_count(isolated_home, list_id) == synced
    not_mapped = cli(*SANDBOX, "audiences", "sync", "gold")
    assert not_mapped.exit_code == 2
    assert "joyctl audiences map gold" in not_mapped.stderr

    refused = cli(*SANDBOX, "--no-input", "audiences", "delete", "gold")
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr
    assert _data(cli, "audiences", "delete", "gold", "--yes")["audience"] == "gold"
    assert _data(cli, "audiences", "list") == []
    gone = cli(*SANDBOX, "audiences", "show", "gold")
    assert gone.exit_code == 2
    assert "joyctl audiences list" in gone.stderr
