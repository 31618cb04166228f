"""The parsers of command-line values, fed anything: only joyctl's own errors come out.

Dates, ages, amounts, ids, emails and URLs are parsed by `joyctl.values` and
`joyctl.commands._args`; whatever the text, each returns a value within its stated bounds or
raises UsageError with a one-line message and a hint. Through the real CLI, the same holds for
whole commands: arbitrary text in a date, amount or id argument exits 2, never 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joyctl import envvars, values
from joyctl.commands import _args
from joyctl.commands.reviews._choices import OutcomeChoice, StatusChoice, TypeChoice
from joyctl.errors import ExitCode, UsageError
from tests.conftest import Cli

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
moment_text = st.one_of(
    st.text(max_size=70),
    st.datetimes(timezones=st.none() | offsets).map(datetime.isoformat),
    st.dates().map(lambda day: day.isoformat()),
    st.sampled_from(
        [
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "9999-12-31",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-01-31T12:00:00z",
            "2026-13-01",
            "2026-02-30",
            "2026-01-01T25:00",
            "+002026-01-01",
            "2026-W01",
            "",
            "9" * 5000,
        ]
    ),  # fmt: skip
)
number_text = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.integers(min_value=10**18, max_value=10**60).map(str),
    st.floats().map(repr),
    st.sampled_from(["-0", "+5", "1_000", "0x10", "1e3", " 7 ", "٣", "9" * 5000]),
)


def _one_line_with_hint(error: UsageError) -> None:
    assert "\n" not in error.message and error.hint


@given(text=moment_text)
def test_a_moment_is_utc_within_bounds_or_a_usage_error(text: str) -> None:
    try:
        moment = values.moment(text, what="--since")
    except UsageError as error:
        assert error.message.startswith("--since: ")
        _one_line_with_hint(error)
        return
    assert moment.tzinfo is UTC
    assert values.EARLIEST <= moment <= values.LATEST
    assert values.moment(moment.isoformat(), what="--since") == moment
    moment + timedelta(days=1)  # a day's arithmetic never overflows  # noqa: B018


@given(text=number_text, low=st.integers(-(10**12), 10**12), span=st.integers(0, 10**12))
def test_a_whole_number_is_within_its_range_or_a_usage_error(
    text: str, low: int, span: int
) -> None:
    try:
        number = values.whole_number(text, what="--limit", low=low, high=low + span)
    except UsageError as error:
        _one_line_with_hint(error)
        return
    assert low <= number <= low + span


@given(text=number_text)
def test_seconds_are_finite_and_within_their_range_or_a_usage_error(text: str) -> None:
    try:
        seconds = values.seconds(text, what="--timeout", low=0.1, high=600)
    except UsageError as error:
        _one_line_with_hint(error)
        return
    assert 0.1 <= seconds <= 600


@given(text=st.text(max_size=300))
def test_ids_and_urls_are_printable_and_bounded_or_a_usage_error(text: str) -> None:
    parsers: list[Callable[[], str]] = [
        lambda: _args.resource_id("--id", text),
        lambda: values.http_url(text, what="--endpoint"),
        lambda: _args.email_option("--email", text),
    ]
    for parse in parsers:
        try:
            parsed = parse()
        except UsageError as error:
            _one_line_with_hint(error)
            continue
        assert parsed and parsed.isprintable() and len(parsed) <= values.URL_LIMIT


@given(text=moment_text | st.from_regex(r"\d{1,12}d", fullmatch=True))
def test_an_activity_bound_is_a_moment_or_an_age_or_a_usage_error(text: str) -> None:
    from joyctl.services.audiences.definition import build_definition

    try:
        definition = build_definition(last_activity_after=text)
    except UsageError as error:
        _one_line_with_hint(error)
        return
    assert definition.member_filter().last_activity_after is not None


def test_the_review_choices_are_the_engines() -> None:
    from joyctl.engine import ReviewStatus
    from joyctl.services.rewards.sources import REVIEW_TYPES

    assert [choice.value for choice in StatusChoice] == [status.value for status in ReviewStatus]
    assert tuple(choice.value for choice in TypeChoice) == REVIEW_TYPES
    assert {choice.value for choice in OutcomeChoice} == {"award", "reject", "revoke"}


@pytest.fixture(scope="module")
def module_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    names = {v for k, v in vars(envvars).items() if k.isupper() and isinstance(v, str)}
    environ = {k: v for k, v in os.environ.items() if k not in names and k != "CI"}
    home = tmp_path_factory.mktemp("argument-properties")
    return Cli({**environ, envvars.HOME: str(home)})


def _not_help(text: str) -> bool:
    return text.strip() not in {"--help", "-h"}


# Commands that parse the value, then fail on the unknown profile, so a valid value changes
# nothing; each accepted value must exit 2 (the profile), each refused one 2 (the value).
ARGUMENT_COMMANDS = {
    "date": ["--profile", "nosuch", "reviews", "replay", "--since"],
    "webhook-date": ["--profile", "nosuch", "webhooks", "replay", "--since"],
    "amount": ["--profile", "nosuch", "ledger", "adjust", "ann@example.com", "--reason", "x"],
    "entry-id": ["--profile", "nosuch", "ledger", "history", "ann@example.com", "--before"],
    "delivery-id": ["--profile", "nosuch", "webhooks", "replay", "--id"],
    "review-id": ["--profile", "nosuch", "reviews", "show"],
    "age": ["--profile", "nosuch", "audiences", "create", "x", "--last-activity-after"],
    "points": ["--profile", "nosuch", "audiences", "create", "x", "--points-at-least"],
    "limit": ["--profile", "nosuch", "reviews", "list", "--limit"],
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=(moment_text | number_text).filter(_not_help))
@pytest.mark.parametrize("kind", list(ARGUMENT_COMMANDS))
def test_any_argument_value_exits_2_through_the_cli(module_cli: Cli, kind: str, text: str) -> None:
    command = ARGUMENT_COMMANDS[kind]
    # The amount is the second positional argument: put it after the email.
    args = [*command[:5], text, *command[5:]] if kind == "amount" else [*command, text]
    result = module_cli.run(args)
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_input_and_output_paths_are_checked_before_anything_runs(tmp_path: Path) -> None:
    folder, file = tmp_path / "folder", tmp_path / "file.csv"
    folder.mkdir()
    file.write_text("email\n", encoding="utf-8")
    for check, path, says in [
        (_args.input_file, tmp_path / "missing.csv", "does not exist"),
        (_args.input_file, folder, "is a folder"),
        (_args.output_file, folder, "is a folder"),
        (_args.output_file, file / "inside.csv", "is not a folder"),
    ]:
        with pytest.raises(UsageError, match=says):
            check("--file", path)
    assert _args.input_file("--file", file) == file
    assert _args.output_file("--out", folder / "new" / "deeper" / "x.csv").name == "x.csv"
