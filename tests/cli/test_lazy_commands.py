"""The root loads command modules lazily; its table of summaries must match the commands."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from importlib import import_module

import pytest
import typer
import typer.main
from typer._click.core import Context
from typer.core import TyperGroup

from joyctl.commands import ENTRIES, Entry, load
from tests.conftest import Cli

PROBE = """
import contextlib, io, json, sys
from joyctl.cli import run
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    run(sys.argv[1:])
print(json.dumps(sorted(name for name in sys.modules if name.startswith("joyctl.commands."))))
"""


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_each_summary_is_the_first_paragraph_of_the_commands_help(entry: Entry) -> None:
    command = load(entry)
    first = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
    assert entry.summary == " ".join(first.split())


def _command_modules(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_root_help_imports_no_command_module() -> None:
    # The help formatter's helper is all: it makes the root's own help readable.
    assert _command_modules("--help") == ["joyctl.commands._help"]


def test_a_group_loads_only_its_own_modules() -> None:
    loaded = _command_modules("config", "--help")
    assert [name for name in loaded if not name.startswith("joyctl.commands._")] == [
        "joyctl.commands.config"
    ]


def test_a_mistyped_command_is_answered_with_the_closest_one(cli: Cli) -> None:
    result = cli("ledgr")
    assert result.exit_code == 2
    assert "No such command 'ledgr'. Did you mean 'ledger'?" in result.stderr


@pytest.mark.parametrize(
    "entry", [entry for entry in ENTRIES if entry.is_group], ids=lambda entry: entry.name
)
def test_a_group_builds_only_the_command_resolved_and_each_as_typer_would(entry: Entry) -> None:
    target = getattr(import_module(f"joyctl.commands.{entry.module}"), entry.attribute)
    holder = typer.Typer()
    holder.add_typer(target, name=entry.name)
    eager = typer.main.get_group(holder).commands[entry.name]
    assert isinstance(eager, TyperGroup)
    lazy = load(entry)
    context = Context(lazy)
    names = lazy.list_commands(context)
    assert names == eager.list_commands(context)
    first = names[0]
    lazy.get_command(context, first)
    built = set(lazy.commands)
    assert first in built
    assert len(built) < len(names) or len(names) == 1, "the rest wait to be resolved"
    for name in names:
        mine, theirs = lazy.get_command(context, name), eager.get_command(context, name)
        assert mine is not None and theirs is not None
        assert [p.name for p in mine.params] == [p.name for p in theirs.params]
        assert (mine.callback is None) == (theirs.callback is None)
        assert type(mine) is type(theirs)
