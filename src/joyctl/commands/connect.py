"""`joyctl connect` and `joyctl disconnect`: a profile's Klaviyo credential."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.command_line import command
from joyctl.commands._common import InsecureStorageOption, app_context, warn_if_program_off
from joyctl.commands._deps import connection_deps
from joyctl.commands._stdin import pasted_url, secret_from_stdin, stdin_is_terminal
from joyctl.context import AppContext
from joyctl.errors import UsageError
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.connection.connect import ConnectResult
    from joyctl.services.connection.disconnect import DisconnectResult


def connect(
    ctx: typer.Context,
    api_key_stdin: Annotated[
        bool,
        typer.Option("--api-key-stdin", help="Read a Klaviyo private key from stdin (no OAuth)."),
    ] = False,
    client_secret_stdin: Annotated[
        bool,
        typer.Option(
            "--client-secret-stdin",
            help="Read the OAuth app's client secret from stdin; it is then kept in the keyring.",
        ),
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the authorize URL instead of opening it.")
    ] = False,
    paste: Annotated[
        bool,
        typer.Option(
            "--paste", help="Paste the redirected URL back instead of listening (SSH sessions)."
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            min=1.0,
            max=3600.0,
            help="Seconds to wait for the browser login (1 to 3600).",
        ),
    ] = 300.0,
    insecure_storage: InsecureStorageOption = False,
) -> None:
    """Connect the profile to a Klaviyo account: OAuth in a browser, or a private key.

    OAuth opens the browser ($BROWSER is honoured) and waits for Klaviyo's redirect on
    http://127.0.0.1:PORT/callback (PORT is the profile's redirect_port). The OAuth client secret
    comes from JOYCTL_KLAVIYO_CLIENT_SECRET, --client-secret-stdin or the keyring, never from the
    command line. Where the secret will be kept is checked before the browser opens, and the
    credential with Klaviyo before anything is stored; connecting again replaces the previous
    grant or key. With --insecure-storage on a machine without a usable keyring, the profile
    keeps its secrets in a 0600 file and remembers it: refreshed tokens and webhook secrets go
    there too (`joyctl auth migrate` moves them to a keyring later). The built-in sandbox
    profile needs no browser.

    Examples:
      joyctl --profile mystore connect
      joyctl --profile mystore connect --no-browser --timeout 600
      printenv KLAVIYO_KEY | joyctl --profile mystore connect --api-key-stdin
    """
    from joyctl.credentials import CredentialKind
    from joyctl.services.connection.connect import connect_api_key

    app = app_context(ctx)
    app.insecure_storage = insecure_storage
    _check_combination(api_key_stdin, client_secret_stdin, paste, no_browser)
    if api_key_stdin:
        key = secret_from_stdin(app, CredentialKind.API_KEY, "--api-key-stdin")
        result = connect_api_key(connection_deps(app), key)
    else:
        result = _connect_oauth(
            app, secret_stdin=client_secret_stdin, browser=not no_browser, paste=paste, wait=timeout
        )
    app.output.emit(result, _render_connected)
    warn_if_program_off(app)


def _check_combination(api_key: bool, secret_stdin: bool, paste: bool, no_browser: bool) -> None:
    if api_key and (secret_stdin or paste or no_browser):
        raise UsageError(
            "--api-key-stdin connects with a private key; it takes no OAuth options",
            hint="drop --client-secret-stdin, --paste and --no-browser",
        )
    if paste and secret_stdin and not stdin_is_terminal():
        raise UsageError(
            "--paste and --client-secret-stdin cannot both read a pipe",
            hint="give the client secret in JOYCTL_KLAVIYO_CLIENT_SECRET instead",
        )


def _connect_oauth(
    app: AppContext, *, secret_stdin: bool, browser: bool, paste: bool, wait: float
) -> ConnectResult:
    from joyctl.credentials import CredentialKind
    from joyctl.services.connection.connect import connect_oauth
    from joyctl.services.connection.oauth_login import OAuthLogin

    secret = None
    if secret_stdin:
        secret = secret_from_stdin(app, CredentialKind.CLIENT_SECRET, "--client-secret-stdin")
    login = OAuthLogin(
        tell=lambda text: _tell(app, text),
        open_browser=browser,
        paste=(lambda: pasted_url(app, wait)) if paste else None,
        timeout=wait,
        interactive=app.interactive,
        unattended=app.unattended,
    )
    return connect_oauth(connection_deps(app), login, client_secret=secret)


def disconnect(
    ctx: typer.Context,
    local_only: Annotated[
        bool,
        typer.Option(
            "--local-only", help="Forget the credentials here without revoking them in Klaviyo."
        ),
    ] = False,
) -> None:
    """Revoke the profile's OAuth grant in Klaviyo and delete its secrets; keep the ledger.

    Running it again does nothing more. If revoking fails, nothing is deleted.
    """
    from joyctl.services.connection.disconnect import disconnect as disconnect_profile

    app = app_context(ctx)
    deps = connection_deps(app)
    app.output.emit(disconnect_profile(deps, local_only=local_only), _render_gone)


def _tell(app: AppContext, text: str) -> None:
    # Instructions the user needs to finish the login: shown even with --quiet or --json.
    app.output.stderr.write(text + "\n")
    app.output.stderr.flush()


def _render_connected(out: Output, data: ConnectResult) -> None:
    kind = "test account" if data.account.test_account else "live account"
    name = data.account.name or data.account.id
    out.success(f"profile {data.profile} connected to {name} ({data.account.id}, {kind})")
    via = "OAuth" if data.method == "oauth" else "a private key"
    from joyctl.credentials import plain_store_name

    if data.stored_in == "keyring":
        where = plain_store_name(data.stored_at)
    else:
        where = f"the insecure file {data.stored_at}"
    out.info(f"connected with {via}; the secret is stored in {where}")
    if data.storage_note:
        out.warn(data.storage_note)
    if data.expires_at is not None:
        out.info(f"access token expires at {data.expires_at.isoformat()}; joyctl refreshes it")
    if data.capabilities is not None:
        working = [name for name, result in data.capabilities.items() if result == "ok"]
        failing = [f"{n} ({r.value})" for n, r in data.capabilities.items() if r != "ok"]
        out.info(f"reads that work: {', '.join(working) or 'none'}")
        if failing:
            out.warn(f"reads that fail: {', '.join(failing)}; see `{command('status')}`")
    if data.missing_scopes:
        missing = " ".join(data.missing_scopes)
        out.warn(f"Klaviyo did not grant: {missing}; see `{command('status')}`")
    if data.environment_override:
        out.warn(f"{data.environment_override} is set and overrides this credential")


def _render_gone(out: Output, data: DisconnectResult) -> None:
    said = {
        "revoked": "revoked the OAuth grant in Klaviyo",
        "already_revoked": "the OAuth grant was already revoked in Klaviyo",
        "skipped": "did not revoke the OAuth grant (--local-only); it stays valid in Klaviyo",
        "nothing_to_revoke": "no OAuth grant to revoke",
    }[data.revocation]
    out.success(f"profile {data.profile} disconnected: {said}")
    for secret in data.removed:
        places = " and ".join(source.value for source in secret.removed_from)
        out.info(f"deleted {secret.name} from the {places}")
    if not data.removed:
        out.info("no stored secrets were left to delete")
    if data.keyring_unreachable:
        out.warn(f"the keyring could not be cleaned: {data.keyring_unreachable}")
    out.info(f"the ledger is kept at {data.ledger_file}")
    if data.environment_override:
        out.warn(f"{data.environment_override} is still set; commands keep using it")
