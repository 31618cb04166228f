"""Every error joyctl reports, and the exit codes they map to.

One base class carries message, hint, code and exit code; the boundary in `joyctl.cli.main`
is the only place that turns them into output and an exit status. This module imports nothing
heavy so that every layer can use it.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit-code contract (README "Exit codes"); held by tests/test_contract.py."""

    OK = 0
    ERROR = 1  # unexpected error (a bug): rerun with --debug
    USAGE = 2  # bad arguments or options
    DATA = 3  # bad input data: a file, a payload, an API response
    AUTH = 4  # missing or invalid credentials, missing permission
    REMOTE = 5  # Klaviyo or network failure after retries
    CHECK_FAILED = 6  # diagnose, smoke or verify found a failing check
    PARTIAL = 7  # partial success: some records quarantined
    INTERRUPTED = 130  # Ctrl-C or SIGTERM; state is saved and the run is resumable


class JoyctlError(Exception):
    """Base for every error joyctl expects and explains to the user."""

    code = "error"
    exit_code = ExitCode.ERROR

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        exit_code: ExitCode | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(JoyctlError):
    """Arguments or options that cannot work together or are out of range."""

    code = "usage"
    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A bad configuration key, value or file."""

    code = "config"


class NotFoundError(UsageError):
    """A named thing (profile, run, audience, webhook) does not exist."""

    code = "not_found"


class DataError(JoyctlError):
    """Input data (a file, a payload, an API response) that cannot be used."""

    code = "bad_data"
    exit_code = ExitCode.DATA


class AuthError(JoyctlError):
    """Credentials are missing, invalid, expired or revoked."""

    code = "auth"
    exit_code = ExitCode.AUTH


class PermissionDeniedError(AuthError):
    """The credential works but lacks a scope for this operation."""

    code = "missing_scope"


class PlanGateError(AuthError):
    """Klaviyo refuses the operation because of the account's plan, not a scope."""

    code = "plan_gate"


class CredentialStoreError(AuthError):
    """The OS keyring is missing, locked, failing or too slow."""

    code = "keyring_unavailable"


class RemoteError(JoyctlError):
    """Klaviyo or the network failed after the retries the client policy allows."""

    code = "remote"
    exit_code = ExitCode.REMOTE


class RateLimitedError(RemoteError):
    """Klaviyo kept answering 429 past the client's wait budget."""

    code = "rate_limited"


class CheckFailedError(JoyctlError):
    """A check (diagnose, smoke, ledger verify) failed."""

    code = "check_failed"
    exit_code = ExitCode.CHECK_FAILED


class PartialError(JoyctlError):
    """The run finished but some records were quarantined."""

    code = "partial"
    exit_code = ExitCode.PARTIAL


class InterruptedRunError(JoyctlError):
    """The user interrupted the run; what was done is saved."""

    code = "interrupted"
    exit_code = ExitCode.INTERRUPTED


def hint_for(error: JoyctlError, command: str = "joyctl") -> str | None:
    """The error's own hint, else a general one for its kind, so no failure ends without one."""
    from joyctl.command_line import command as printed

    if error.hint:
        return error.hint
    general = {
        ExitCode.ERROR: "rerun with --debug for details",
        ExitCode.USAGE: f"see `{command} --help`",
        ExitCode.DATA: "rerun with --debug to see what joyctl received",
        ExitCode.AUTH: f"`{printed('status')}` shows the credential and what it may do",
        ExitCode.REMOTE: f"rerun later; `{printed('status')}` checks the connection to Klaviyo",
    }
    return general.get(error.exit_code)
