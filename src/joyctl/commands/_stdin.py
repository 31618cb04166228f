"""Reading secrets and pasted URLs from stdin, without ever hanging a non-interactive run.

On a terminal the value is prompted for (hidden, for secrets) unless prompting is off
(--no-input, CI, no TTY); from a pipe it is read with a time limit, so an idle stdin fails in
seconds with the flag named instead of blocking forever.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

import typer

from joyctl.command_line import command
from joyctl.context import AppContext
from joyctl.errors import UsageError

if TYPE_CHECKING:
    from joyctl.credentials import CredentialKind, ResolvedCredential

STDIN_WAIT_SECONDS = 10.0


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def secret_from_stdin(app: AppContext, kind: CredentialKind, flag: str) -> ResolvedCredential:
    """A secret for `flag` (e.g. --api-key-stdin), prompted for or piped in."""
    from joyctl.credentials import explicit_credential

    what = kind.value.replace("_", " ")
    if stdin_is_terminal():
        if not app.interactive:
            raise UsageError(
                f"{flag} reads the {what} from stdin, and joyctl may not prompt here",
                hint=f"pipe it in, for example: printenv VARIABLE | {command('connect', flag)}",
            )
        text = str(typer.prompt(f"Klaviyo {what}", hide_input=True, err=True))
    else:
        text = read_stdin(flag, STDIN_WAIT_SECONDS, whole=True)
    return explicit_credential(kind, text, origin=flag)


def pasted_url(app: AppContext, timeout: float) -> str:
    """The redirected URL for --paste: typed on a terminal, or one line from a pipe."""
    if stdin_is_terminal() and app.interactive:
        text = str(typer.prompt("Redirected URL", err=True))
    else:
        text = read_stdin("--paste", timeout, whole=False)
    if not text.strip():
        raise UsageError("--paste got no URL", hint="paste the full address the browser showed")
    return text.strip()


def read_stdin(flag: str, seconds: float, *, whole: bool) -> str:
    """Stdin (all of it, or one line), or a usage error once `seconds` pass without it."""
    received: list[str] = []

    def read() -> None:
        try:
            received.append(sys.stdin.read() if whole else sys.stdin.readline())
        except (OSError, ValueError):  # closed or unreadable: the same as empty
            received.append("")

    # A daemon thread, abandoned if the time runs out, cannot keep the process alive.
    reader = threading.Thread(target=read, name="joyctl-stdin", daemon=True)
    reader.start()
    reader.join(seconds)
    if not received:
        raise UsageError(
            f"nothing arrived on stdin within {seconds:g} seconds for {flag}",
            hint=f"pipe the value in, for example: printenv VARIABLE | {command('connect', flag)}",
        )
    return received[0]
