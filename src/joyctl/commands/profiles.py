"""`joyctl profiles`: one profile per store and its Klaviyo account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._common import app_context, confirm_or_require_yes
from joyctl.context import AppContext
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.setup.profiles import ProfileSummary, RemovedProfile

app = typer.Typer(
    help="List, add, select and remove profiles (one per store and Klaviyo account).",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help="Profile name (letters, digits, - and _).")]


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List profiles; the built-in `sandbox` profile is always there."""
    from joyctl.services.setup.profiles import list_profiles

    app = _context(ctx)
    app.output.emit(list_profiles(app.settings), _render_list)


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameArg,
    base_url: Annotated[
        str, typer.Option("--base-url", help="Klaviyo API base URL, or any compatible server.")
    ] = "https://a.klaviyo.com",
    client_id: Annotated[
        str | None, typer.Option(help="OAuth client id of your Klaviyo app.")
    ] = None,
    redirect_port: Annotated[
        int | None, typer.Option(help="Loopback port for the OAuth redirect (default 8765).")
    ] = None,
    authorize_url: Annotated[
        str | None, typer.Option(help="OAuth authorize URL (default: derived from --base-url).")
    ] = None,
    token_url: Annotated[
        str | None, typer.Option(help="OAuth token URL (default: BASE/oauth/token).")
    ] = None,
    revoke_url: Annotated[
        str | None, typer.Option(help="OAuth revoke URL (default: BASE/oauth/revoke).")
    ] = None,
) -> None:
    """Add a profile for a store.

    Example: joyctl profiles add mystore --client-id abc123
    """
    from joyctl.services.setup.profiles import add_profile

    urls = {"authorize_url": authorize_url, "token_url": token_url, "revoke_url": revoke_url}
    app = _context(ctx)
    result = add_profile(
        app.settings,
        name,
        base_url=base_url,
        client_id=client_id,
        redirect_port=redirect_port,
        oauth_urls={key: url for key, url in urls.items() if url},
    )
    app.output.emit(result, lambda out, data: out.success(f"profile {data.name} added"))


@app.command("use")
def use(ctx: typer.Context, name: NameArg) -> None:
    """Make a profile the default for commands run without --profile."""
    from joyctl.services.setup.profiles import use_profile

    app = _context(ctx)
    result = use_profile(app.settings, name)
    app.output.emit(result, lambda out, data: out.success(f"now using profile {data.name}"))


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    delete_ledger: Annotated[
        bool, typer.Option(help="Also delete the profile's ledger (kept by default).")
    ] = False,
) -> None:
    """Remove a profile's settings. Its ledger is kept unless --delete-ledger is given."""
    from joyctl.services.setup.profiles import remove_profile

    app = _context(ctx)
    app.settings.get_profile(name)
    what = "and its ledger " if delete_ledger else ""
    confirm_or_require_yes(app, f"remove profile {name} {what}", yes=yes)
    result = remove_profile(app.settings, name, delete_ledger=delete_ledger)
    app.output.emit(result, _render_removed)


def _context(ctx: typer.Context) -> AppContext:
    """The context reading config.toml as written, so profiles can be managed while a setting
    holds a bad value (each command still refuses what it would use itself)."""
    app = app_context(ctx)
    app.settings_as_written = True
    return app


def _render_list(out: Output, data: list[ProfileSummary]) -> None:
    rows = [
        ("*" if p.active else "", p.name, p.base_url, p.account_name or p.account_id or "-")
        for p in data
    ]
    out.table(["", "NAME", "BASE URL", "ACCOUNT"], rows)


def _render_removed(out: Output, data: RemovedProfile) -> None:
    out.success(f"profile {data.name} removed")
    if data.ledger_deleted:
        out.info("its ledger was deleted")
    else:
        out.info(f"its ledger is kept at {data.ledger_file}")
