"""`joyctl program show|set|history`: validated changes, each kept with its time in the ledger."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from joyctl.engine import WriteReviewProgram, settable_keys
from joyctl.ledger.db import open_ledger
from joyctl.services.rewards.program import current_program
from tests.conftest import Cli


@pytest.fixture(autouse=True)
def store_profile(cli: Cli) -> None:
    """An empty store: the built-in sandbox profile comes seeded with its scenario's data."""
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    assert cli("profiles", "use", "shop").exit_code == 0


def _data(cli: Cli, *args: str) -> Any:
    result = cli("--json", *args)
    assert result.exit_code == 0, result.stdout
    assert result.stderr == ""
    return json.loads(result.stdout)["data"]


def _versions(home: Path) -> list[tuple[Any, ...]]:
    path = home / "data" / "profiles" / "shop" / "ledger.sqlite3"
    if not path.exists():
        return []  # a refused command checks its input before it opens the ledger
    with closing(sqlite3.connect(path)) as connection:
        sql = "SELECT id, program, changed_keys, changed_at FROM program_versions ORDER BY id"
        return [tuple(row) for row in connection.execute(sql)]


def test_show_lists_the_defaults_before_any_change(cli: Cli) -> None:
    human = cli("program", "show")
    assert human.exit_code == 0
    assert "defaults (never changed)" in human.stderr
    lines = human.stdout.splitlines()
    assert lines[0] == "KEY\tVALUE\tDEFAULT\tDESCRIPTION"
    assert "points_per_review\t50\t50\tPoints for one review" in lines
    assert "starts_at\tnone\tnone\t" in human.stdout
    assert len(lines) == 1 + len(settable_keys())
    data = _data(cli, "program", "show")
    assert (data["version"], data["changed_at"]) == (None, None)
    assert data["program"] == WriteReviewProgram().model_dump(mode="json")
    row = next(item for item in data["settings"] if item["key"] == "award_on")
    assert row == {
        "key": "award_on",
        "value": "published",
        "type": "published|submitted",
        "default": "published",
        "description": "Award when the review is published, or when submitted",
    }
    # After a change the default column still says what the default is.
    assert cli("program", "set", "points_per_review", "75").exit_code == 0
    assert "points_per_review\t75\t50\tPoints for one review" in cli("program", "show").stdout


def test_set_records_a_version_with_its_time(cli: Cli, isolated_home: Path) -> None:
    before = datetime.now(UTC)
    change = _data(cli, "program", "set", "points_per_review", "75")
    assert (change["changed"], change["changed_keys"]) == (True, ["points_per_review"])
    assert change["program"]["points_per_review"] == 75
    shown = _data(cli, "program", "show")
    assert (shown["version"], shown["program"]["points_per_review"]) == (1, 75)
    [(version, program, keys, changed_at)] = _versions(isolated_home)
    assert (version, program, json.loads(keys)) == (1, "write-review", ["points_per_review"])
    assert before <= datetime.fromisoformat(changed_at) <= datetime.now(UTC)


def test_setting_the_same_value_records_nothing(cli: Cli, isolated_home: Path) -> None:
    assert cli("program", "set", "enabled", "true").exit_code == 0
    again = cli("program", "set", "enabled", "yes")
    assert again.exit_code == 0
    assert "nothing changed" in again.stderr
    assert len(_versions(isolated_home)) == 1


def test_words_and_negative_values_reach_validation(cli: Cli) -> None:
    assert (
        _data(cli, "program", "set", "frequency_period_days", "week")["program"][
            "frequency_period_days"
        ]
        == 7
    )
    negative = cli("program", "set", "photo_bonus", "-5")
    assert negative.exit_code == 2
    assert "invalid value for photo_bonus" in negative.stderr
    assert "photo_bonus takes an integer" in negative.stderr


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("points_per_review", "zero", "invalid value for points_per_review"),
        ("award_on", "approved", "invalid value for award_on"),
        ("source", "myspace", "unknown review app"),
        ("ends_at", "2026-01-01T00:00:00", "invalid value for ends_at"),
        ("program_id", "other", "cannot be changed"),
    ],
)
def test_bad_values_exit_2_with_the_reason(
    cli: Cli, isolated_home: Path, key: str, value: str, message: str
) -> None:
    result = cli("program", "set", key, value)
    assert result.exit_code == 2
    assert message in result.stderr
    assert _versions(isolated_home) == []


def test_an_unknown_key_lists_the_known_ones(cli: Cli) -> None:
    result = cli("--json", "program", "set", "points_per_reveiw", "5")
    assert (result.exit_code, result.stderr) == (2, "")
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "config"
    assert "unknown program setting 'points_per_reveiw'" in error["message"]
    assert "did you mean 'points_per_review'?" in error["hint"]
    assert "revoke_on_unpublished" in error["hint"]


def test_the_window_is_checked_across_keys(cli: Cli) -> None:
    assert cli("program", "set", "starts_at", "2026-06-01T00:00:00Z").exit_code == 0
    result = cli("program", "set", "ends_at", "2026-01-01T00:00:00Z")
    assert result.exit_code == 2
    assert "ends_at must be later than starts_at" in result.stderr


def test_set_from_a_toml_file(cli: Cli, tmp_path: Path, isolated_home: Path) -> None:
    assert cli("program", "set", "points_per_review", "80").exit_code == 0
    settings = tmp_path / "program.toml"
    settings.write_text(
        'enabled = true\nmin_characters = 50\nbonus_mode = "replace"\n'
        "starts_at = 2026-01-01T00:00:00Z\n",
        encoding="utf-8",
    )
    change = _data(cli, "program", "set", "--from-file", str(settings))
    assert change["changed_keys"] == ["enabled", "starts_at", "bonus_mode", "min_characters"]
    program = change["program"]
    assert (program["points_per_review"], program["min_characters"]) == (80, 50)
    assert program["starts_at"] == "2026-01-01T00:00:00Z"
    history = _data(cli, "program", "history")
    assert [v["version"] for v in history["versions"]] == [2, 1]
    assert history["versions"][1]["changed_keys"] == ["points_per_review"]
    assert history["versions"][0]["settings"]["bonus_mode"] == "replace"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("enabled = maybe\n", "is not valid TOML"),
        ("pointz = 5\n", "unknown program setting 'pointz'"),
        ("[write_review]\nenabled = true\n", "unknown program setting 'write_review'"),
        ("points_per_review = 0\n", "invalid value for points_per_review"),
        ("points_per_review = " + "9" * 5000 + "\n", "is not valid TOML"),
        (f"points_per_review = {2**64}\n", "an integer beyond 64 bits"),
        ("points_per_review = nan\n", "nan is not a finite number"),
        ("starts_at = 9999-12-31T23:59:59-14:00\n", "is out of range"),
        ("enabled = " + "[" * 10_000 + "]" * 10_000 + "\n", "is not valid TOML (nested"),
    ],
)
def test_bad_files_change_nothing(
    cli: Cli, tmp_path: Path, isolated_home: Path, text: str, message: str
) -> None:
    settings = tmp_path / "program.toml"
    settings.write_text(text, encoding="utf-8")
    result = cli("program", "set", "--from-file", str(settings))
    assert result.exit_code == 2
    assert message in result.stderr
    assert _versions(isolated_home) == []


def test_set_needs_one_way_of_saying_what(cli: Cli, tmp_path: Path) -> None:
    assert cli("program", "set").exit_code == 2
    assert cli("program", "set", "enabled").exit_code == 2
    both = cli("program", "set", "enabled", "true", "--from-file", str(tmp_path / "p.toml"))
    assert both.exit_code == 2
    assert "give KEY VALUE, or --from-file FILE" in both.stderr
    missing = cli("program", "set", "--from-file", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr


def test_history_is_empty_at_first_and_human_readable_later(cli: Cli) -> None:
    assert _data(cli, "program", "history")["versions"] == []
    assert cli("program", "set", "manual_approval", "on").exit_code == 0
    human = cli("program", "history")
    lines = human.stdout.splitlines()
    assert lines[0] == "VERSION\tCHANGED AT\tCHANGED KEYS"
    assert lines[1].startswith("1\t") and lines[1].endswith("\tmanual_approval")


def test_other_services_read_the_program_in_force(cli: Cli, isolated_home: Path) -> None:
    assert cli("program", "set", "points_per_review", "60").exit_code == 0
    path = isolated_home / "data" / "profiles" / "shop" / "ledger.sqlite3"
    with closing(open_ledger(path)) as connection:
        assert current_program(connection).points_per_review == 60
