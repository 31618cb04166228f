"""Global options work anywhere on the line, as `gh pr list --json` does: `joyctl status --json`."""

from __future__ import annotations

import json

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from joyctl.cli import build_app, global_options_first
from tests.conftest import Cli

ROOT = typer.main.get_command(build_app())


@pytest.mark.parametrize(
    "args",
    [
        ["--json", "program", "show"],
        ["program", "--json", "show"],
        ["program", "show", "--json"],
    ],
)
def test_json_before_or_after_the_command_gives_the_envelope(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["schema"] == "joyctl/1"


def test_profile_after_the_command_acts_on_that_profile(cli: Cli) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    assert cli("program", "set", "points_per_review", "75", "-p", "shop").exit_code == 0
    shop = json.loads(cli("program", "show", "--json", "--profile", "shop").stdout)["data"]
    sandbox = json.loads(cli("program", "show", "--json").stdout)["data"]
    assert _setting(shop, "points_per_review") == 75
    assert _setting(sandbox, "points_per_review") != 75


def _setting(view: dict[str, object], key: str) -> object:
    settings = view["settings"]
    assert isinstance(settings, list)
    return next(item["value"] for item in settings if item["key"] == key)


def test_quiet_verbose_and_no_input_after_the_command(cli: Cli) -> None:
    quiet = cli("program", "set", "points_per_review", "60", "-q")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
    refused = cli("sandbox", "reset", "--no-input")
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr


def test_two_different_profiles_on_one_line_are_refused(cli: Cli) -> None:
    result = cli("-p", "sandbox", "program", "show", "-p", "shop")
    assert result.exit_code == 2
    assert "two profiles on one line" in result.stderr


def test_a_value_that_looks_like_a_global_option_stays_a_value() -> None:
    args = ["reviews", "simulate", "--email", "a@example.com", "--content", "-v", "--json"]
    assert global_options_first(ROOT, args) == [
        "--json", "reviews", "simulate", "--email", "a@example.com", "--content", "-v",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "args", [["ledger", "import", "-", "--format", "csv"], ["ledger", "adjust", "a@b.c", "-50"]]
)
def test_a_lone_dash_and_negative_numbers_are_values(args: list[str]) -> None:
    assert global_options_first(ROOT, args) == args


def test_nothing_after_a_double_dash_moves() -> None:
    args = ["program", "set", "--", "--json"]
    assert global_options_first(ROOT, args) == args


def test_options_spelled_with_values_and_clusters_move_whole() -> None:
    args = ["backfill", "status", "--profile=shop", "-qv", "-pshop"]
    assert global_options_first(ROOT, args) == [
        "--profile=shop", "-qv", "-pshop", "backfill", "status",
    ]  # fmt: skip


GLOBALS = st.sampled_from(
    [["--json"], ["-q"], ["-v"], ["-vv"], ["--debug"], ["--no-color"], ["--no-input"],
     ["--profile", "shop"], ["-p", "shop"]]
)  # fmt: skip
WORDS = st.lists(st.sampled_from(["ann@example.com", "75", "tea-1", "-50", "x y", "-"]), max_size=4)


@given(
    command=st.sampled_from([["status"], ["program", "show"], ["backfill", "status"]]),
    words=WORDS,
    placed=st.lists(st.tuples(GLOBALS, st.integers(min_value=0, max_value=8)), max_size=4),
)
def test_global_options_anywhere_parse_as_if_given_first(
    command: list[str], words: list[str], placed: list[tuple[list[str], int]]
) -> None:
    line = [*command, *words]
    expected_globals: list[str] = []
    for option, _ in sorted(placed, key=lambda item: item[1]):
        expected_globals += option
    for option, at in sorted(placed, key=lambda item: item[1], reverse=True):
        position = len(command) + min(at, len(words))
        line[position:position] = option
    # Options placed at the same spot keep their order; the rest of the line is untouched.
    moved = global_options_first(ROOT, line)
    assert moved[len(expected_globals) :] == [*command, *words]
    assert sorted(moved[: len(expected_globals)]) == sorted(expected_globals)
