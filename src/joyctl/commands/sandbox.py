"""`joyctl sandbox`: the local Klaviyo emulator, to try joyctl and test without an account."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._args import output_file
from joyctl.commands._common import app_context, confirm_or_require_yes
from joyctl.commands._files import refuse_stdio
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.sandbox_profile.embedded import ServeInfo
    from joyctl.services.sandbox_profile.seeding import ResetReport

app = typer.Typer(
    help="Run, inspect, list scenarios of, and reset the local Klaviyo emulator.",
    no_args_is_help=True,
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
    latency: Annotated[
        str,
        typer.Option(
            help="How long Klaviyo's asynchronous work takes: short (writes readable at once), "
            "realistic (writes after 1-5 s, bulk jobs over 5 s, webhooks 1-3 min later, retries "
            'over a day), or overrides such as "realistic,writes=2-10s,scale=0.1".'
        ),
    ] = "short",
    retired_revisions: Annotated[
        str,
        typer.Option(
            help="A revision over two years old: refuse it (410) or fall-forward to the oldest "
            "supported one."
        ),
    ] = "refuse",
    strict_webhook_urls: Annotated[
        bool,
        typer.Option(help="Refuse plain-http webhook endpoints on loopback too, as Klaviyo does."),
    ] = False,
    webhook_payload: Annotated[
        str,
        typer.Option(
            help="Review webhook payload shape: full, or no-review-id (the event leaves out"
            " review_id). Changeable while it runs: POST /__sandbox/settings."
        ),
    ] = "full",
) -> None:
    """Serve the emulator on HTTP until Ctrl-C or SIGTERM (state is saved).

    Once it accepts connections, prints its base URL and its test credentials (a private key
    with every scope, the OAuth client id and secret, the public key): they are the emulator's
    own fake credentials, printed on purpose.

    Revisions are read as Klaviyo reads them (see the README, "What the emulator does not
    model", for what it assumes).

    Klaviyo does not document the properties of a Submitted Review event; with
    --webhook-payload no-review-id the deliveries name no review id, so joyctl has to find the
    review by the event's time, email and product. POST {"webhook_payload": "full"} to
    /__sandbox/settings switches it back while the emulator runs.

    Example: joyctl sandbox serve --port 8080 --rate-limits x10 --latency realistic
    """
    from joyctl.sandbox import SandboxConfig, is_loopback_host
    from joyctl.services.sandbox_profile.embedded import serve as serve_sandbox

    app = app_context(ctx)
    refuse_stdio(state, "--state", "the state file is read and rewritten; give it a file name")
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
        latency=latency,
        retired_revisions=retired_revisions,
        strict_webhook_urls=strict_webhook_urls,
        webhook_payload=webhook_payload,
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
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Reset without asking.")] = False,
) -> None:
    """Start the built-in `sandbox` profile over: emulator state, ledger, connection, secrets.

    Everything the sandbox profile holds is wiped, so it asks first (or takes --yes).

    Example: joyctl sandbox reset --scenario healthy --yes
    """
    from joyctl.services.sandbox_profile.seeding import reset_sandbox

    app = app_context(ctx)
    action = f"wipe the sandbox profile's ledger, connection and secrets for {scenario!r}"
    confirm_or_require_yes(app, action, yes=yes)
    report = reset_sandbox(app.settings, scenario)
    app.output.emit(report, _render_reset)


@app.command("state")
def state(
    ctx: typer.Context,
    brief: Annotated[
        bool, typer.Option("--brief", help="Leave out each profile and each delivery attempt.")
    ] = False,
) -> None:
    """Print the built-in sandbox's emulator state: the inspection document.

    The same document as `GET /__sandbox/state` of `joyctl sandbox serve`: counters of
    requests, throttles and faults, events, profiles, lists, import jobs, reviews, webhooks
    (never their secrets), deliveries and tokens, as every joyctl process on the `sandbox`
    profile sees them now. Printed as JSON; --json wraps it in the joyctl/1 envelope.

    Example: joyctl sandbox state --brief
    """
    from joyctl.services.sandbox_profile.embedded import sandbox_state

    app = app_context(ctx)
    app.output.emit(sandbox_state(app.sandbox(), brief=brief))


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
            ("latency", info.latency),
            ("webhook payload", info.webhook_payload),
        ]
    )


def _render_reset(out: Output, data: ResetReport) -> None:
    out.success(
        f"sandbox reset to {data.scenario}: {data.customers} customers, {data.reviews} reviews"
    )
