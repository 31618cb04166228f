"""One helper writes every joyctl command joyctl prints, and no command is printed without it."""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joyctl import command_line
from joyctl.command_line import command, then
from tests.conftest import Cli

SOURCE = Path(__file__).resolve().parents[2] / "src" / "joyctl"
VERBS = (
    "connect|disconnect|status|diagnose|smoke|auth|profiles|config|ledger|program|reviews"
    "|sandbox|audiences|webhooks|backfill|completion"
)
LITERAL_COMMAND = re.compile(rf"\bjoyctl (?:--profile \S+ )?(?:{VERBS})\b")
# Strings that name joyctl's things rather than give a command to run.
NOT_COMMANDS = {
    "### joyctl diagnose",  # the markdown report's title
    "joyctl diagnose: profile ",  # the table report's title
    "joyctl smoke: ",  # the smoke summary's first words
    "joyctl smoke",  # the JUnit suite's name and the smoke review's author
    "joyctl smoke test",  # the smoke review's title
    "joyctl smoke test ",  # the reason the smoke review is rejected
    "Automated joyctl smoke test review ",  # the smoke review's text
    "joyctl reviews",  # the default name of the webhook joyctl creates in Klaviyo
    "it has no schema_migrations table: not a joyctl ledger",  # what a file is not
    " is not a sound joyctl ledger backup: ",  # what a file is not
    "Klaviyo-Webhooks (joyctl sandbox)",  # the emulator's user agent
    " is not a joyctl ledger: ",  # prose about a file
    # A file of every profile's plain-text secrets cannot name one profile.
    "Plain-text joyctl secrets. Do not share or commit this file. "
    "Move them to the OS keyring with: joyctl auth migrate",
    "restore it from a `joyctl ledger backup`, or move it away to start anew",  # a kind of file
}


@pytest.fixture
def named(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    command_line.name_profile(None)


def test_the_default_profile_is_not_named() -> None:
    assert command("program", "set", "enabled", "true") == "joyctl program set enabled true"


def test_another_profile_is_named_first(named: None) -> None:
    command_line.name_profile("mystore")
    assert command("connect") == "joyctl --profile mystore connect"
    assert command("profiles", "list", profile=None) == "joyctl profiles list"
    assert command("config", "set", "KEY", "VALUE", profile="other") == (
        "joyctl --profile other config set KEY VALUE"
    )
    assert then(command("disconnect"), command("connect")) == (
        "joyctl --profile mystore disconnect && joyctl --profile mystore connect"
    )


def test_words_are_quoted_for_a_shell_and_placeholders_are_not() -> None:
    assert command("audiences", "map", "gold", "--list-name", "Joy Gold") == (
        "joyctl audiences map gold --list-name 'Joy Gold'"
    )
    assert command("webhooks", "delete", "ID", "--yes") == "joyctl webhooks delete ID --yes"


WORD = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))
NAME = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)


@given(words=st.lists(WORD, max_size=6), profile=st.one_of(st.none(), NAME))
def test_a_shell_reads_back_exactly_the_words_given(words: list[str], profile: str | None) -> None:
    line = command(*words, profile=profile)
    named = ["--profile", profile] if profile else []
    assert shlex.split(line) == ["joyctl", *named, *words]


def test_the_profile_is_forgotten_when_the_invocation_ends(cli: Cli) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    cli("--profile", "shop", "backfill", "status", "nope")
    assert command_line.named_profile() is None
    assert command("status") == "joyctl status"


def test_an_error_hint_names_a_profile_given_by_the_environment(cli: Cli) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    result = cli("backfill", "status", "nope", env={"JOYCTL_PROFILE": "shop"})
    assert "`joyctl --profile shop backfill status`" in result.stderr


def test_once_another_profile_is_the_default_it_is_not_named(cli: Cli) -> None:
    assert cli("profiles", "add", "shop", "--base-url", "http://127.0.0.1:9").exit_code == 0
    assert cli("profiles", "use", "shop").exit_code == 0
    result = cli("backfill", "status", "nope")
    assert "`joyctl backfill status`" in result.stderr
    sandbox = cli("--profile", "sandbox", "backfill", "status", "nope")
    assert "`joyctl --profile sandbox backfill status`" in sandbox.stderr


def _printed_strings(tree: ast.AST) -> Iterator[ast.Constant]:
    """String constants that reach the user as output: not docstrings, not --help text."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skipped.add(id(body[0].value))
        elif _is_help_text(node):
            skipped.update(id(inner) for inner in ast.walk(node.value))  # type: ignore[attr-defined]
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skipped
        ):
            yield node


def _is_help_text(node: ast.AST) -> bool:
    if isinstance(node, ast.keyword):
        return node.arg == "help"
    return isinstance(node, ast.Assign) and any(
        isinstance(target, ast.Name) and target.id.endswith("HELP") for target in node.targets
    )


def test_no_command_is_printed_from_a_literal_string() -> None:
    # A literal `joyctl ...` cannot name the profile; command() must write it.
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _printed_strings(tree):
            text = str(node.value)
            if LITERAL_COMMAND.search(text) and text not in NOT_COMMANDS:
                found.append(f"{path.relative_to(SOURCE)}:{node.lineno}: {text[:60]!r}")
    assert found == [], "\n".join(found)
