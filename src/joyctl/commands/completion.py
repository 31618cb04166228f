"""`joyctl completion bash|zsh|fish`: the shell completion script, printed for the shell to load.

The same function writes the copies in the source tree's completions/ folder, so an installed
joyctl and the repository never offer different scripts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from joyctl.commands import COMPLETE_VAR
from joyctl.commands._common import app_context
from joyctl.errors import ExitCode


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def completion_script(shell: Shell) -> str:
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="joyctl", complete_var=COMPLETE_VAR, shell=shell.value)


def completion(
    ctx: typer.Context,
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", show_default=False)],
) -> int:
    """Print the shell completion script for joyctl; load it from the shell's startup file.

    Examples:
      joyctl completion bash > ~/.local/share/bash-completion/completions/joyctl
      joyctl completion zsh > ~/.zfunc/_joyctl    # a folder on $fpath
      joyctl completion fish > ~/.config/fish/completions/joyctl.fish
    """
    app = app_context(ctx)
    app.output.stdout.write(completion_script(shell))
    return ExitCode.OK
