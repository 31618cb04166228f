"""`joyctl audiences create|list|show|delete` on a store's own ledger: no Klaviyo needed."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from joyctl.errors import UsageError
from joyctl.services.audiences.definition import AudienceDefinition, build_definition
from tests.conftest import Cli

CUSTOMERS = """email,tier,birthday,member_status,referred,last_activity_at,points
ann@example.com,Gold,02/29,member,true,{recent},1800
bob@example.com,Silver,1990-05-01,guest,false,2025-06-01T00:00Z,600
cyd@example.com,gold,1985-02-03,member,false,,100
"""


@pytest.fixture(autouse=True)
def store_profile(cli: Cli, tmp_path: Path) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    assert cli("profiles", "use", "shop").exit_code == 0
    recent = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    source = tmp_path / "customers.csv"
    source.write_text(CUSTOMERS.format(recent=recent), encoding="utf-8")
    assert cli("ledger", "import", str(source)).exit_code == 0


def _data(cli: Cli, *args: str) -> Any:
    result = cli("--json", *args)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)["data"]


def test_create_list_show_delete(cli: Cli) -> None:
    created = _data(cli, "audiences", "create", "Gold Birthdays", "--tier", "GOLD",
                    "--birthday-month", "2", "--status", "member")  # fmt: skip
    assert created["members"] == 2
    assert created["summary"] == "tier GOLD; status member; birthday in Feb"
    _data(cli, "audiences", "create", "win-back", "--last-activity-before", "30d")
    listed = {a["name"]: a for a in _data(cli, "audiences", "list")}
    assert listed["win-back"]["members"] == 1  # cyd has no recorded activity: matches neither
    assert listed["Gold Birthdays"]["list_id"] is None

    shown = _data(cli, "audiences", "show", "gold birthdays", "--sample", "1")
    assert shown["members"] == 2
    assert shown["sample"] == [
        {"email": "ann@example.com", "tier": "Gold", "member_status": "member", "points": 1800}
    ]
    human = cli("audiences", "show", "Gold Birthdays")
    assert "filters    tier GOLD; status member; birthday in Feb" in human.stdout
    assert _data(cli, "audiences", "delete", "Gold Birthdays", "--yes")["list_id"] is None
    assert [a["name"] for a in _data(cli, "audiences", "list")] == ["win-back"]


def test_replace_redefines_and_a_duplicate_name_is_refused(cli: Cli) -> None:
    _data(cli, "audiences", "create", "vip", "--points-at-least", "1000")
    duplicate = cli("audiences", "create", "VIP", "--tier", "Silver")
    assert duplicate.exit_code == 2
    assert duplicate.stderr.splitlines() == [
        "error: an audience named 'vip' exists",
        "hint: pass --replace to redefine it, or pick another name",
    ]
    replaced = _data(cli, "audiences", "create", "VIP", "--tier", "Silver", "--replace")
    assert (replaced["name"], replaced["members"]) == ("vip", 1)
    assert replaced["definition"]["points_at_least"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "vip"], "--status 'vip' is not a member status"),
        (["--points-at-least", "900", "--points-at-most", "100"], "no customer could match"),
        (["--last-activity-after", "last tuesday"], "is neither a date nor an age"),
        (["--last-activity-after", "2026-02-01", "--last-activity-before", "2026-01-01"],
         "--last-activity-after is not earlier"),
        (["--tier", "  "], "is not a tier name"),
    ],
)  # fmt: skip
def test_bad_filters_get_one_line_and_a_hint(cli: Cli, args: list[str], message: str) -> None:
    result = cli("audiences", "create", "bad", *args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and message in lines[0] and lines[1].startswith("hint: ")
    assert _data(cli, "audiences", "list") == []


def test_out_of_range_options_are_usage_errors(cli: Cli) -> None:
    for args in (["--birthday-month", "13"], ["--points-at-least", "-5"]):
        result = cli("audiences", "create", "bad", *args)
        assert result.exit_code == 2
        assert "Traceback" not in result.stderr


def test_json_error_envelope_for_an_unknown_audience(cli: Cli) -> None:
    result = cli("--json", "audiences", "show", "nope")
    assert result.exit_code == 2
    assert result.stderr == ""
    assert json.loads(result.stdout)["error"]["code"] == "not_found"


def test_a_definition_stored_by_a_newer_joyctl_is_reported(cli: Cli, isolated_home: Path) -> None:
    _data(cli, "audiences", "create", "gold", "--tier", "Gold")
    ledger = isolated_home / "data" / "profiles" / "shop" / "ledger.sqlite3"
    with closing(sqlite3.connect(ledger)) as connection:
        connection.execute("""UPDATE audiences SET definition = '{"shoe_size": 9}'""")
        connection.commit()
    result = cli("audiences", "list")
    assert result.exit_code == 3
    assert "audience 'gold' has a definition this joyctl cannot read" in result.stderr


def test_ages_are_resolved_at_evaluation_time() -> None:
    definition = build_definition(last_activity_after="7d", birthday_months=[12, 1, 12])
    assert definition.birthday_months == [1, 12]
    moment = datetime(2026, 3, 8, tzinfo=UTC)
    assert definition.member_filter(moment).last_activity_after == "2026-03-01T00:00:00+00:00"
    assert definition.describe() == "birthday in Jan, Dec; last activity at or after 7 days ago"
    assert AudienceDefinition().describe() == "every customer"
    with pytest.raises(UsageError, match="--birthday-month 0"):
        build_definition(birthday_months=[0])
    dated = build_definition(last_activity_before="2026-01-31")
    assert dated.last_activity_before == "2026-01-31T00:00:00+00:00"


def test_mistakes_are_reported_before_any_credential_is_needed(cli: Cli) -> None:
    _data(cli, "audiences", "create", "gold", "--tier", "Gold")
    neither = cli("audiences", "map", "gold")
    assert neither.exit_code == 2
    assert "give either --list ID or --list-name NAME" in neither.stderr
    unknown = cli("audiences", "sync", "nope")
    assert unknown.exit_code == 2
    assert "there is no audience named 'nope'" in unknown.stderr
    unmapped = cli("audiences", "sync")
    assert unmapped.exit_code == 2
    assert "no audience is mapped to a Klaviyo list" in unmapped.stderr


def test_a_dry_run_needs_no_credentials(cli: Cli, isolated_home: Path) -> None:
    _data(cli, "audiences", "create", "gold", "--tier", "Gold")
    ledger = isolated_home / "data" / "profiles" / "shop" / "ledger.sqlite3"
    with closing(sqlite3.connect(ledger)) as connection:  # as `map` would have recorded it
        connection.execute(
            "INSERT INTO audience_lists (audience_id, list_id, list_name, mapped_at)"
            " VALUES (1, 'L1', 'Gold', '2026-03-01T00:00:00+00:00')"
        )
        connection.commit()
    plan = _data(cli, "audiences", "sync", "--dry-run")
    assert plan["audiences"][0]["added"] == 2
    human = cli("audiences", "sync", "--dry-run")
    assert human.stdout.splitlines()[0].split("\t")[3:5] == ["TO ADD", "TO REMOVE"]
