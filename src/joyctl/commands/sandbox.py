"""`joyctl sandbox`: the local Klaviyo emulator, to try joyctl and test without an account."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._args import output_file
from joyctl.commands._common import app_context
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.sandbox_profile.embedded import ResetReport, ServeInfo

app = typer.Typer(
    help="Run, list scenarios of, and reset the local Klaviyo emulator.", no_args_is_help=True
)


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to bind (loopback unless you say so).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 0,
    scenario: Annotated[
        str, typer.Option(help="Seeded store; see `joyctl sandbox scenarios`.")
    ] = "legacy-permissions",
    state: Annotated[
        Path | None, typer.Option("--state", help="JSON file that keeps the state between runs.")
    ] = None,
    rate_limits: Annotated[
        str, typer.Option(help="real, off, or xFACTOR (e.g. x10 = ten times Klaviyo's limits).")
    ] = "real",
    faults: Annotated[
        str, typer.Option(help='Fault injection, e.g. "5xx=0.05,429=0.05,drop=0.02,latency=20ms".')
    ] = "",
    seed: Annotated[
        int | None, typer.Option(help="Random seed that makes faults reproducible.")
    ] = None,
    auto_consent: Annotated[
        bool, typer.Option(help="OAuth authorize redirects at once instead of showing a page.")
    ] = False,
    live_account: Annotated[
        bool, typer.Option(help="Emulate a live account (test_account=false).")
    ] = False,
) -> None:
    """Serve the emulator on HTTP until Ctrl-C or SIGTERM (state is saved).

    Once it accepts connections, prints its base URL and its test credentials (a private key
    with every scope, the OAuth client id and secret, the public key): they are the emulator's
    own fake credentials, printed on purpose.

    Example: joyctl sandbox serve --port 8080 --rate-limits x10
    """
    from joyctl.sandbox import SandboxConfig, is_loopback_host
    from joyctl.services.sandbox_profile.embedded import serve as serve_sandbox

    app = app_context(ctx)
    if state is not None:
        output_file("--state", state)  # read when it exists, written on the way out
    if not is_loopback_host(host):
        app.output.warn(f"binding {host}: anyone who can reach it can use this emulator")
    config = SandboxConfig(
        host=host,
        port=port,
        scenario=scenario,
        state_file=state,
        rate_limits=rate_limits,
        faults=faults,
        seed=seed,
        auto_consent=auto_consent,
        live_account=live_account,
    )
    serve_sandbox(config, lambda info: _ready(app.output, info))


def _ready(out: Output, info: ServeInfo) -> None:
    out.emit(info, _render_ready)
    out.stdout.flush()
    out.info("serving; press Ctrl-C to stop")


@app.command("scenarios")
def scenarios(ctx: typer.Context) -> None:
    """List the seeded scenarios and what each one reproduces."""
    from joyctl.services.sandbox_profile.embedded import scenarios as list_scenarios

    app = app_context(ctx)
    app.output.emit(
        list_scenarios(),
        lambda out, data: out.table(
            ["NAME", "REPRODUCES"], [(s.name, s.description) for s in data]
        ),
    )


@app.command("reset")
def reset(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Option(help="Scenario to start from.")] = "legacy-permissions",
) -> None:
    """Start the built-in `sandbox` profile over: emulator state, ledger, connection, secrets."""
    from joyctl.services.sandbox_profile.embedded import reset_sandbox

    app = app_context(ctx)
    report = reset_sandbox(app.settings, scenario)
    app.output.emit(report, _render_reset)


def _render_ready(out: Output, info: ServeInfo) -> None:
    out.fields(
        [
            ("base url", info.base_url),
            ("scenario", info.scenario),
            ("account", f"{info.account_id} ({'test' if info.test_account else 'live'})"),
            ("public key", info.public_api_key),
            ("private key", info.private_key),
            ("client id", info.client_id),
            ("client secret", info.client_secret),
            ("redirect uris", " ".join(info.redirect_uris)),
            ("rate limits", info.rate_limits),
        ]
    )


def _render_reset(out: Output, data: ResetReport) -> None:
    out.success(
        f"sandbox reset to {data.scenario}: {data.customers} customers, {data.reviews} reviews"
    )
