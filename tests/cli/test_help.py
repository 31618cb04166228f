"""`--help` of every command reads well in an 80-column terminal, through the real CLI."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tools.generate_docs import root_command, walk

from joyctl.commands._help import plain_text
from tests.conftest import Cli

COMMANDS = list(walk(root_command()))
TYPE_PLACEHOLDER = re.compile(r"<[a-z][a-z \[\]|]*>")  # <str>, <bool>, <list[str]>, <int range>


def _help(cli: Cli, path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    result = cli(*path[1:], "--help")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _examples(command: Any) -> list[str]:
    """The command lines of the help's `Example:` paragraphs, continuation lines joined."""
    text = plain_text(command.help or "")
    found = []
    for paragraph in text.split("\n\n"):
        if paragraph.lstrip().startswith("Example"):
            body = paragraph.split(":", 1)[1]
            found += [" ".join(line.split()) for line in body.replace("\\\n", " ").splitlines()]
    return [line for line in found if line]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_fits_80_columns_with_no_type_placeholders_and_examples_whole(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...], command: Any
) -> None:
    shown = _help(cli, path, monkeypatch)
    lines = shown.splitlines()
    assert [line for line in lines if len(line) > 80] == []
    assert TYPE_PLACEHOLDER.findall(shown) == []
    assert "…" not in shown
    assert [line for line in lines[1:] if line.rstrip().endswith("...")] == []
    for example in _examples(command):
        # Each example is shown on lines of its own, whole, and can be copied as it is.
        joined = " ".join(" ".join(shown.replace("\\\n", " ").split("\n")).split())
        assert example in joined, example
        first_words = example.split(" ")[:4]
        assert any(line.strip().startswith(" ".join(first_words)) for line in lines), example


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_flags_show_no_value_and_valued_options_name_their_value(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...], command: Any
) -> None:
    shown = _help(cli, path, monkeypatch).split("\nOptions:\n", 1)[1]
    for param in command.params:
        if param.param_type_name != "option" or param.hidden:
            continue
        longest = max(param.opts, key=len)
        entry = re.search(rf"(?m)^  (?:-\w, )?{re.escape(longest)}(\S*)(?: (\S+))?", shown)
        assert entry is not None, f"{longest} is not listed"
        value = entry.group(2)
        if param.is_flag or param.count:
            assert value in (None, "/"), f"{longest} is a flag but shows {value!r}"
            assert "[default: no-" not in shown
        else:
            named = value is not None and (value == value.upper() or value.startswith("["))
            assert named, f"{longest} shows {value!r}"


def test_the_command_list_shows_whole_first_sentences(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = _help(cli, ("joyctl",), monkeypatch)
    commands = shown.split("Commands:", 1)[1]
    flat = " ".join(commands.split())
    assert "Connect the profile to a Klaviyo account: OAuth in a browser, or a private key." in (
        flat
    )
    assert "..." not in commands
