"""`joyctl status`: the profile's connection, credential, storage and access, checked live."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from joyctl.command_line import command
from joyctl.commands._common import app_context, warn_if_program_off
from joyctl.commands._deps import connection_deps
from joyctl.errors import ExitCode, JoyctlError, hint_for
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.connection.facts import AccountFacts
    from joyctl.services.connection.status import (
        CredentialView,
        ScopeView,
        SecretStorageView,
        StatusReport,
        StorageView,
        TokenView,
    )


def status(ctx: typer.Context) -> int:
    """Show the profile's account, credential source, storage and scopes per feature.

    The credential is checked with Klaviyo (an expired OAuth token is refreshed on the way).
    Exit 0 when connected with every required scope; 4 when not connected, disconnected or
    missing access (the fix command is printed); 3 when Klaviyo's answer cannot be read; 5
    when Klaviyo cannot be reached. --json prints the shape documented in the README under
    "Status JSON".
    """
    from joyctl.services.connection.status import check_status

    app = app_context(ctx)
    report = check_status(connection_deps(app))
    app.output.emit(report, _render)
    if report.problem is not None and not app.output.json_mode:
        problem = report.problem
        hint = problem.hint
        if report.fix is not None and report.fix not in (hint or ""):
            said = (hint or "").rstrip(".")
            hint = f"{said}; to fix it, run `{report.fix}`" if said else f"run `{report.fix}`"
        error = JoyctlError(problem.message, hint=hint, code=problem.code)
        error.exit_code = ExitCode(report.exit_code)
        error.hint = hint_for(error, command("status"))
        app.output.error(error)
    for warning in report.warnings:
        app.output.warn(warning)
    if report.connected:  # before connecting, connecting is the thing to do
        warn_if_program_off(app)
    return report.exit_code


def _render(out: Output, data: StatusReport) -> None:
    out.fields(
        [
            ("profile", data.profile),
            ("base url", data.base_url),
            ("connected", "yes" if data.connected else "no"),
            ("account", _account(data.account)),
            ("credential", _credential(data.credential)),
            ("secrets in", _kept_in(data.secret_storage)),
            ("storage", _storage(data.storage)),
            ("token", _token(data.token)),
            ("scopes", _scopes(data.scopes)),
            ("lookup order", data.lookup_order),
        ]
    )
    if data.features:
        out.line()
        granted = data.scopes.granted
        rows = [
            (
                f.feature,
                "yes" if f.required else "no",
                f.access.value,
                _granted(f.scopes, granted),
                " ".join(f.missing) or "-",
            )
            for f in data.features
        ]
        out.table(["FEATURE", "REQUIRED", "ACCESS", "GRANTED", "MISSING"], rows)


def _scopes(scopes: ScopeView) -> str:
    if scopes.granted is None:
        return "not recorded for this credential; each feature was tried with a safe read"
    return f"{len(scopes.granted)} granted: {' '.join(scopes.granted) or 'none'}"


def _granted(needed: list[str], granted: list[str] | None) -> str:
    """The feature's scopes the grant holds; unknown (?) for a credential without a record."""
    if granted is None:
        return "?"
    return " ".join(scope for scope in needed if scope in granted) or "-"


def _account(account: AccountFacts | None) -> str:
    if account is None:
        return "-"
    kind = "test account" if account.test_account else "live account"
    return f"{account.name or '(no name)'} ({account.id}, {kind})"


def _credential(credential: CredentialView | None) -> str:
    if credential is None:
        return "none"
    from joyctl.credentials import plain_store_name

    kind = {"oauth": "OAuth grant", "api_key": "private key", "access_token": "access token"}
    where = {
        "keyring": plain_store_name(credential.origin),
        "env": f"the environment variable {credential.origin}",
        "file": f"the insecure file {credential.origin}",
    }.get(credential.source.value, f"{credential.source.value} {credential.origin}")
    return f"{kind[credential.kind]} from {where}"


def _kept_in(view: SecretStorageView) -> str:
    if view.kind == "file":
        return (
            f"insecure file {view.location} (chosen with --insecure-storage;"
            f" `{command('auth', 'migrate')}` moves them)"
        )
    return view.location


def _storage(storage: StorageView | None) -> str:
    if storage is None:
        return "not used (the credential does not come from storage)"
    from joyctl.credentials import plain_store_name

    state = "available" if storage.available else f"unavailable ({storage.reason})"
    keyring = f"{plain_store_name(storage.backend)}, {state}"
    if storage.insecure_file_exists:
        migrate = command("auth", "migrate")
        return f"{keyring}; insecure file {storage.insecure_file} (run `{migrate}`)"
    return keyring


def _token(token: TokenView | None) -> str:
    if token is None:
        return "-"
    refreshed = " (refreshed now)" if token.refreshed else ""
    return f"expires {token.expires_at.isoformat()}{refreshed}"
