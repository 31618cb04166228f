"""Generate docs/cli.md and completions/ from the app itself, so they cannot drift.

Run `python tools/generate_docs.py` after changing a command; tests/cli/test_docs.py fails
when the committed files differ from what this produces.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHELLS = {"bash": "joyctl.bash", "zsh": "_joyctl", "fish": "joyctl.fish"}


def root_command() -> Any:
    from joyctl.cli import build_command

    return build_command()


def walk(
    command: Any, path: tuple[str, ...] = ("joyctl",)
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command in the tree, depth first, in registration order."""
    yield path, command
    if not hasattr(command, "list_commands"):
        return
    import typer

    ctx = typer.Context(command, info_name=path[-1])
    # list_commands/get_command, not `.commands`: the root loads its groups only on request.
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if not sub.hidden:
            yield from walk(sub, (*path, name))


def _usage(command: Any, path: tuple[str, ...]) -> str:
    import typer

    ctx = typer.Context(command, info_name=" ".join(path))
    pieces = " ".join(command.collect_usage_pieces(ctx))
    return re.sub(r"\{(\w+)\}", lambda match: match.group(1).upper(), pieces)


def _param_rows(command: Any) -> list[str]:
    rows = []
    for param in command.params:
        if param.param_type_name == "argument":
            names = f"`{(param.name or '').upper()}`"
        else:
            names = ", ".join(f"`{opt}`" for opt in [*param.opts, *param.secondary_opts])
        help_text = (getattr(param, "help", None) or "").replace("|", "\\|")
        rows.append(f"| {names} | {help_text} |")
    return rows


def markdown_text(text: str) -> str:
    """Help paragraphs as they are; examples (lines the formatter keeps) as code blocks."""
    from joyctl.commands._help import KEEP_LINES

    paragraphs = []
    for paragraph in text.strip().split("\n\n"):
        if paragraph.startswith(KEEP_LINES + "\n"):
            head, *lines = paragraph.removeprefix(KEEP_LINES + "\n").splitlines()
            block = [line.removeprefix("  ") for line in lines]
            paragraph = "\n".join([head, "", "```sh", *block, "```"])
        paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def render_markdown() -> str:
    lines = [
        "# joyctl command reference",
        "",
        "Generated from the app by `python tools/generate_docs.py`; do not edit by hand.",
        "",
    ]
    for path, command in walk(root_command()):
        lines += [f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`", ""]
        lines += [markdown_text(command.help or ""), ""]
        lines += ["```", f"{' '.join(path)} {_usage(command, path)}".rstrip(), "```", ""]
        rows = _param_rows(command)
        if rows:
            lines += ["| Parameter | Description |", "| --- | --- |", *rows, ""]
    return "\n".join(lines).rstrip() + "\n"


def render_completion(shell: str) -> str:
    """What `joyctl completion SHELL` prints."""
    from joyctl.commands.completion import Shell, completion_script

    return completion_script(Shell(shell))


def expected_files() -> dict[Path, str]:
    files = {ROOT / "docs" / "cli.md": render_markdown()}
    for shell, name in SHELLS.items():
        files[ROOT / "completions" / name] = render_completion(shell)
    return files


def main() -> int:
    for path, text in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {path.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
