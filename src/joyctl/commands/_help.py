"""Help that reads well in an 80-column terminal, applied once to the whole command tree.

Typer's Rich panels squeeze options into narrow boxes, show a type (`<bool>`) even beside flags
that take no value, cut examples short and keep the docstrings' hard line breaks. The plain
formatter instead rewraps each paragraph to the terminal, and the tree is adjusted so that:

- a flag shows no value placeholder and no `[default: no-flag]`; an option that takes a value
  names what it wants (`--since TIME`, `--source FILE`, `--format [csv|jsonl]`);
- a paragraph that starts with `Example` keeps its lines, each command on a line of its own,
  so it can be copied whole;
- the command lists show each command's first sentence in full, wrapped, never cut off.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from typer.core import TyperArgument

KEEP_LINES = "\b"  # the formatter keeps the lines of a paragraph that starts with this
_EXAMPLE = re.compile(r"^Examples?:")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")

# Placeholders for values whose option name alone would say less.
_PLACEHOLDERS = {
    "since": "TIME",
    "until": "TIME",
    "created": "TIME",
    "connected-at": "TIME",
    "timeout": "SECONDS",
    "limit": "N",
    "batch-size": "N",
    "resume": "RUN_ID",
    "map": "FIELD=COLUMN",
    "idempotency-key": "KEY",
    "profile": "NAME",
    "points-at-least": "POINTS",
    "points-at-most": "POINTS",
    "birthday-month": "MONTH",
    "last-activity-after": "WHEN",
    "last-activity-before": "WHEN",
    "review": "REVIEW_ID",
    "base-url": "URL",
    "authorize-url": "URL",
    "token-url": "URL",
    "revoke-url": "URL",
    "endpoint": "URL",
    "client-id": "ID",
    "redirect-port": "PORT",
    "before": "ENTRY_ID",
    "tolerance": "SECONDS",
    "max-body": "BYTES",
    "sample": "N",
    "list": "LIST_ID",
    "list-name": "NAME",
}


def make_readable(root: Any) -> Any:
    """Adjust every command of the tree in place (see the module's docstring); returns `root`."""
    for command in _tree(root):
        if hasattr(command, "rich_markup_mode"):
            command.rich_markup_mode = None
        if command.help:
            command.help = readable_text(command.help)
            command.short_help = command.short_help or first_sentence(command.help)
        for param in command.params:
            _readable_param(param)
    return root


def _tree(command: Any) -> Iterator[Any]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _tree(sub)


def readable_text(text: str) -> str:
    """Paragraphs rewrap, except examples, which keep their lines (and go one to a line)."""
    paragraphs = []
    for paragraph in text.strip().split("\n\n"):
        body = paragraph.strip("\n")
        if _EXAMPLE.match(body.lstrip(KEEP_LINES + "\n")):
            paragraphs.append(_example_block(body.lstrip(KEEP_LINES + "\n")))
        else:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def _example_block(paragraph: str) -> str:
    head, _, rest = paragraph.partition(":")
    lines = [KEEP_LINES, f"{head}:"]
    continued = False
    for line in (text.strip() for text in rest.splitlines()):
        if line:
            lines.append(("    " if continued else "  ") + line)
            continued = line.endswith("\\")
    return "\n".join(lines)


def plain_text(text: str) -> str:
    """The help as written in docs: without the formatter's keep-the-lines marks."""
    return text.replace(KEEP_LINES + "\n", "")


def first_sentence(text: str) -> str:
    first = plain_text(text).strip().split("\n\n")[0]
    joined = " ".join(first.split())
    return _SENTENCE_END.split(joined, maxsplit=1)[0]


class _NamedArgument(TyperArgument):
    """An argument shown by its name alone (`KEY`, `[RUN_ID]`), as the usage line names it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        shown = name if self.required else f"[{name}]"
        return shown + ("..." if self.nargs != 1 else "")


def _readable_param(param: Any) -> None:
    if isinstance(param, TyperArgument):
        param.metavar = param.metavar or (param.name or "").upper()
        param.__class__ = _NamedArgument
        return
    if param.param_type_name != "option":
        return
    if param.is_flag or param.count:
        if not param.default:
            param.show_default = False
        return
    if param.metavar is None:
        param.metavar = placeholder(param)


def placeholder(param: Any) -> str:
    """What an option's value is, as its help line shows it."""
    described = getattr(param, "type_descriptor", None)
    if described is not None and described.is_choice and described.choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in described.choices) + "]"
    if described is not None and described.is_path:
        return "FILE"
    longest = max(param.opts, key=len).lstrip("-")
    return str(_PLACEHOLDERS.get(longest, longest.replace("-", "_").upper()))
