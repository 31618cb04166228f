"""Helpers every command module shares: reaching the AppContext, asking for confirmation,
finishing with a failure status after the result is printed, and warning that the
write-review program rewards nothing."""

from __future__ import annotations

from typing import Annotated

import typer

from joyctl.context import AppContext
from joyctl.errors import ExitCode, JoyctlError, UsageError

InsecureStorageOption = Annotated[
    bool,
    typer.Option(
        "--insecure-storage",
        help="Without a usable keyring, keep the profile's secrets in a 0600 file (remembered).",
    ),
]
"""The option of every command that may store a secret: the profile remembers the choice."""


def app_context(ctx: typer.Context) -> AppContext:
    found = ctx.find_object(AppContext)
    if found is None:  # the root callback always sets it; this guards direct sub-app use
        found = AppContext()
        ctx.obj = found
    found.command_path = ctx.command_path
    return found


def confirm_or_require_yes(app: AppContext, action: str, *, yes: bool, flag: str = "--yes") -> None:
    """Ask before `action` ("delete webhook X") on a terminal; elsewhere demand the flag.

    Without a terminal (or with --no-input) nobody can answer, so the command stops at once
    instead of hanging, and says which flag confirms.
    """
    if yes:
        return
    if not app.interactive:
        raise UsageError(
            f"will not {action} without confirmation, and joyctl cannot ask here",
            hint=f"pass {flag} to confirm",
        )
    if not typer.confirm(f"{action[:1].upper()}{action[1:]}?", default=False, err=True):
        raise UsageError(
            "cancelled; nothing was changed", hint=f"pass {flag} to skip this question"
        )


def exit_after(app: AppContext, error: JoyctlError) -> ExitCode:
    """The exit status of a command whose result is printed already (under --json too).

    For a run that finished with something left undone (records quarantined: 7, a failed
    check: 6): say what failed on stderr, except under --json where the result envelope on
    stdout is the whole answer, and hand the error's exit code back for the command to return.
    A partial success is a warning, not an error: the rest of the work was done.
    """
    if app.output.json_mode:
        return error.exit_code
    if error.exit_code == ExitCode.PARTIAL:
        app.output.warn(error.message)
        if error.hint:
            app.output.hint(error.hint)
    else:
        app.output.error(error)
    return error.exit_code


def warn_if_program_off(app: AppContext) -> None:
    """Warn when reviews would earn nothing now, naming the command that changes it."""
    from joyctl.services.rewards.program import program_notice

    notice = program_notice(app.ledger())
    if notice is None:
        return
    settings = app.settings
    name = settings.profile_name.value
    flag = "" if name == settings.default_profile else f" --profile {name}"
    app.output.warn(f"{notice.problem}; run `joyctl{flag} {notice.fix}`")
