"""Command groups, each in its own module, registered here in one place and loaded lazily.

The root group knows every command's name and one-line summary without importing it: a command
module (and the Click objects Typer builds from it) is loaded only when that command runs or
its own help is asked for. `joyctl --help` lists the summaries from the table below;
`tests/cli/test_lazy_commands.py` checks each summary against the loaded command's help.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from difflib import get_close_matches
from importlib import import_module
from typing import Any

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from joyctl.commands._help import make_readable


@dataclass(frozen=True)
class Entry:
    """One command or group of the root: where it lives and what the root's help says of it."""

    name: str
    module: str  # under joyctl.commands
    attribute: str  # a command function, or the group's Typer app (`app`)
    summary: str  # the first paragraph of its help
    is_group: bool = True


# In the order `joyctl --help` lists them (Typer puts single commands before groups).
ENTRIES = (
    Entry(
        "connect",
        "connect",
        "connect",
        "Connect the profile to a Klaviyo account: OAuth in a browser, or a private key.",
        is_group=False,
    ),
    Entry(
        "disconnect",
        "connect",
        "disconnect",
        "Revoke the profile's OAuth grant in Klaviyo and delete its secrets; keep the ledger.",
        is_group=False,
    ),
    Entry(
        "status",
        "status",
        "status",
        "Show the profile's account, credential source, storage and scopes per feature.",
        is_group=False,
    ),
    Entry(
        "diagnose",
        "diagnose",
        "diagnose",
        "Check every reason points or Klaviyo data go missing; show evidence and the fix.",
        is_group=False,
    ),
    Entry(
        "smoke",
        "smoke",
        "smoke",
        "Check end to end that a Klaviyo test account works with joyctl, for CI.",
        is_group=False,
    ),
    Entry(
        "completion",
        "completion",
        "completion",
        "Print the shell completion script for joyctl; load it from the shell's startup file.",
        is_group=False,
    ),
    Entry("auth", "auth", "app", "Manage where the profile's secrets are kept."),
    Entry(
        "profiles",
        "profiles",
        "app",
        "List, add, select and remove profiles (one per store and Klaviyo account).",
    ),
    Entry(
        "config",
        "config",
        "app",
        "Show and change settings (precedence: flag > JOYCTL_* environment > config.toml"
        " > default).",
    ),
    Entry(
        "ledger",
        "ledger",
        "app",
        "Customers' points, the ledger's files and checks (exit 3: a damaged ledger; 6: verify"
        " failed; 7: rows quarantined).",
    ),
    Entry(
        "program",
        "program",
        "app",
        "Show and change the write-review program (every change is kept with its time).",
    ),
    Entry(
        "reviews",
        "reviews",
        "app",
        "Simulate, replay, submit, approve and explain Klaviyo review rewards.",
    ),
    Entry(
        "sandbox",
        "sandbox",
        "app",
        "Run, inspect, list scenarios of, and reset the local Klaviyo emulator.",
    ),
    Entry(
        "audiences",
        "audiences",
        "app",
        "Define loyalty audiences and keep Klaviyo lists in sync with them.",
    ),
    Entry(
        "webhooks",
        "webhooks",
        "app",
        "Subscribe to Klaviyo review webhooks, receive and verify deliveries, replay them.",
    ),
    Entry(
        "backfill",
        "backfill",
        "app",
        "Send historical loyalty events and profile properties to Klaviyo, paced and resumable.",
    ),
    Entry(
        "triggers",
        "triggers",
        "app",
        "Joy's loyalty triggers: choose them, fire one, and create their Klaviyo flows.",
    ),
)
BY_NAME = {entry.name: entry for entry in ENTRIES}
COMPLETE_VAR = "_JOYCTL_COMPLETE"  # the completion script sets it when it calls joyctl back


def load(entry: Entry) -> Any:
    """The command's Click object, built exactly as registering it on the root would build it.

    A group's own commands are built one by one as they are resolved (`LazySubgroup`).
    """
    target = getattr(import_module(f"joyctl.commands.{entry.module}"), entry.attribute)
    holder = typer.Typer()
    if not entry.is_group:
        holder.command(entry.name)(target)
        return typer.main.get_group(holder).commands[entry.name]
    shell = copy.copy(target)  # the group without its commands; sub-groups are built with it
    shell.registered_commands = []
    holder.add_typer(shell, name=entry.name, cls=LazySubgroup)
    group: LazySubgroup = typer.main.get_group(holder).commands[entry.name]  # type: ignore[assignment]
    group.defer(target.registered_commands, holder)
    return group


class LazySubgroup(TyperGroup):
    """A group of the root: Typer builds all of a group's commands at once; this builds the one
    a command line names (every one for help or completion), each as Typer would."""

    _pending: dict[str, Any]
    _order: list[str]
    _holder: typer.Typer

    def defer(self, infos: list[Any], holder: typer.Typer) -> None:
        self._pending = {_command_name(info): info for info in infos}
        self._order = [*self._pending, *self.commands]
        self._holder = holder

    def list_commands(self, ctx: Any) -> list[str]:
        return list(getattr(self, "_order", self.commands))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        info = getattr(self, "_pending", {}).pop(cmd_name, None)
        if info is not None:
            built = typer.main.get_command_from_info(
                info,
                pretty_exceptions_short=self._holder.pretty_exceptions_short,
                rich_markup_mode=self._holder.rich_markup_mode,
            )
            self.commands[cmd_name] = make_readable(built)
        return super().get_command(ctx, cmd_name)


def _command_name(info: Any) -> str:
    return str(info.name or typer.main.get_command_name(info.callback.__name__))


class LazyGroup(TyperGroup):
    """The root group: lists every entry, builds one only when it is resolved."""

    _summaries_only = False

    def list_commands(self, ctx: Any) -> list[str]:
        added = [name for name in super().list_commands(ctx) if name not in BY_NAME]
        return [*(entry.name for entry in ENTRIES), *added]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = BY_NAME.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        if self._summaries_only:
            # The summary in full as the command list's line, never cut short.
            return typer.core.TyperCommand(entry.name, help=entry.summary, short_help=entry.summary)
        if entry.name not in self.commands:
            self.commands[entry.name] = make_readable(load(entry))
        return self.commands[entry.name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # Typer suggests from the commands built so far; here that is none, so suggest from all.
        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as error:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                suggestions = ", ".join(f"{match!r}" for match in matches)
                error.message = f"{error.message.rstrip('.')}. Did you mean {suggestions}?"
            raise

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # The root's help shows each entry's summary only: no command module is imported.
        self._summaries_only = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._summaries_only = False


def register(app: typer.Typer) -> None:
    """Make `app`'s group the lazy root (its commands come from ENTRIES, not from `app`)."""
    app.info.cls = LazyGroup
