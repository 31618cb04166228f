"""`joyctl config`: where files live, and settings with the source of each value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._common import app_context
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.setup.config import ConfigPaths, ConfigView, SettingView

app = typer.Typer(
    help=(
        "Show and change settings"
        " (precedence: flag > JOYCTL_* environment > config.toml > default)."
    ),
    no_args_is_help=True,
)

KeyArg = Annotated[str, typer.Argument(help="Setting name; `joyctl config show` lists them.")]


@app.command("path")
def path_(ctx: typer.Context) -> None:
    """Show where joyctl keeps its configuration, data, cache and the active ledger."""
    from joyctl.services.setup.config import config_paths

    app = app_context(ctx)
    app.settings_as_written = True  # where the files are, even while one holds a bad value
    app.output.emit(config_paths(app.settings), _render_paths)


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Show every setting of the active profile, its value and where the value came from."""
    from joyctl.services.setup.config import show_config

    app = app_context(ctx)
    app.output.emit(show_config(app.settings), _render_show)


@app.command("get")
def get(ctx: typer.Context, key: KeyArg) -> None:
    """Print one setting's value (profile settings come from the active profile)."""
    from joyctl.services.setup.config import get_setting

    app = app_context(ctx)
    app.output.emit(get_setting(app.settings, key), _render_value)


# ignore_unknown_options lets a negative VALUE through to validation instead of reading as a flag.
@app.command("set", context_settings={"ignore_unknown_options": True})
def set_(
    ctx: typer.Context,
    key: KeyArg,
    value: Annotated[str, typer.Argument(help="New value; it is validated before it is saved.")],
) -> None:
    """Validate and save one setting in config.toml (never a secret).

    What each setting takes: default_profile a profile name; keyring_timeout 0.1 to 600
    seconds; webhook_tolerance 1 to 604800 whole seconds; base_url, authorize_url, token_url,
    revoke_url and webhook_endpoint an http(s) URL; client_id the OAuth client id (no
    spaces); redirect_port 0 to 65535 (0 = any free port); revision a date such as 2026-07-15;
    required_scopes scopes such as reviews:read, separated by spaces; review_permission_cutover
    an ISO 8601 date or date-time from 1970-01-01 to 9999-12-30; review_lookup_window 1 to
    604800 seconds. Anything else exits 2 and nothing is saved; a value config.toml already
    holds is checked the same way.

    Example: joyctl --profile mystore config set redirect_port 8765
    """
    from joyctl.services.setup.config import set_setting

    app = app_context(ctx)
    app.settings_as_written = True  # so a bad value can be replaced
    result = set_setting(app.settings, key, value)
    app.output.emit(result, _render_saved)


def _render_paths(out: Output, data: ConfigPaths) -> None:
    out.fields(
        [
            ("config file", data.config_file),
            ("config dir", data.config_dir),
            ("data dir", data.data_dir),
            ("cache dir", data.cache_dir),
            ("ledger", data.ledger_file),
        ]
    )


def _render_show(out: Output, data: ConfigView) -> None:
    out.info(f"profile {data.profile} (from {data.profile_source})")
    rows = [(s.key, _text(s.value), s.source, s.scope) for s in data.settings]
    out.table(["KEY", "VALUE", "SOURCE", "SCOPE"], rows)


def _render_value(out: Output, data: SettingView) -> None:
    out.line(_text(data.value))


def _render_saved(out: Output, data: SettingView) -> None:
    where = f"profile {data.profile}" if data.profile else "global settings"
    out.success(f"{data.key} = {_text(data.value)} saved in {where}")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)
