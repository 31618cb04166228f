"""`joyctl triggers list|enable|disable|test|flows`: Joy's loyalty triggers and their flows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.command_line import command
from joyctl.commands._common import app_context
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.triggers.catalogue import TriggerList
    from joyctl.services.triggers.fire import FiredTrigger
    from joyctl.services.triggers.flows import FlowsReport

app = typer.Typer(
    help="Joy's loyalty triggers: choose them, fire one, and create their Klaviyo flows.",
    no_args_is_help=True,
)

NamesArg = Annotated[
    list[str], typer.Argument(help="Trigger names, e.g. 'Joy: Tier Achieved' or 'Tier Achieved'.")
]


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every Joy metric with its properties, whether it is enabled, and what produces it.

    "test only" means joyctl cannot observe what produces it (only `triggers test` sends it).

    Example: joyctl triggers list
    """
    from joyctl.services.triggers.catalogue import list_triggers

    app_ = app_context(ctx)
    app_.output.emit(list_triggers(app_.ledger()), _render_list)


@app.command()
def enable(ctx: typer.Context, names: NamesArg) -> None:
    """Send these triggers when the ledger produces them (through the outbox and push).

    Example: joyctl triggers enable "Joy: Tier Achieved" "Redeem Points"
    """
    from joyctl.services.triggers.catalogue import set_triggers

    app_ = app_context(ctx)
    app_.output.emit(set_triggers(app_.ledger(), names, enabled=True), _render_list)


@app.command()
def disable(ctx: typer.Context, names: NamesArg) -> None:
    """Stop sending these triggers; ledger changes no longer queue them.

    Example: joyctl triggers disable "Joy: Earn Point"
    """
    from joyctl.services.triggers.catalogue import set_triggers

    app_ = app_context(ctx)
    app_.output.emit(set_triggers(app_.ledger(), names, enabled=False), _render_list)


@app.command()
def test(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The trigger to fire, e.g. 'Joy: Tier Achieved'.")],
    email: Annotated[str, typer.Option(help="The customer the event is for.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="PROPERTY=VALUE", help="Override one event property."),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            min=0.0, metavar="SECONDS", help="Wait this long for the flow emails it starts."
        ),
    ] = 0.0,
    allow_live_account: Annotated[
        bool,
        typer.Option("--allow-live-account", help="Also send to a live (non-test) account."),
    ] = False,
) -> None:
    """Send one realistic event of a trigger for a customer, with a unique id.

    Properties come from the ledger where it knows them (name, balance, tier); --set
    overrides any. A live Klaviyo account is refused (exit 2) unless --allow-live-account:
    the event starts real flows. --wait reports the flow emails Klaviyo recorded.

    Example: joyctl triggers test "Joy: Tier Achieved" --email ava@example.com --wait 10
    """
    from joyctl.services.triggers.fire import fire_trigger, parse_overrides

    overrides = parse_overrides(set_ or [])
    app_ = app_context(ctx)
    fired = fire_trigger(
        app_.klaviyo().client,
        app_.ledger(),
        name=name,
        email=email,
        overrides=overrides,
        allow_live_account=allow_live_account,
        wait=wait,
    )
    app_.output.emit(fired, _render_fired)


@app.command()
def flows(
    ctx: typer.Context,
    create_drafts: Annotated[
        bool,
        typer.Option(help="Create a draft flow for each enabled trigger that starts none."),
    ] = False,
) -> None:
    """The Klaviyo flows each enabled trigger starts, with their status (live, draft, manual).

    --create-drafts makes a draft flow (one email whose template uses only properties joyctl
    sends) for each enabled trigger whose metric exists and starts no flow. Going live stays
    your decision in Klaviyo. Needs the flows:read, flows:write and templates:write scopes.

    Example: joyctl triggers flows --create-drafts
    """
    from joyctl.services.triggers.flows import trigger_flows

    app_ = app_context(ctx)
    report = trigger_flows(app_.klaviyo().client, app_.ledger(), create_drafts=create_drafts)
    app_.output.emit(report, _render_flows)


def _render_list(out: Output, data: TriggerList) -> None:
    rows = [
        (t.name, "yes" if t.enabled else "no", t.source, ", ".join(t.properties))
        for t in data.triggers
    ]
    out.table(["trigger", "enabled", "source", "properties"], rows)


def _render_fired(out: Output, data: FiredTrigger) -> None:
    kind = "test account" if data.test_account else "live account"
    out.line(
        f"sent {data.metric} for {data.email} ({data.unique_id}) to {data.account_id} ({kind})"
    )
    for key, value in data.properties.items():
        out.line(f"  {key}: {value}")
    if data.waited:
        why = command("diagnose", "--email", "EMAIL", "--trigger", "TRIGGER")
        started = ", ".join(data.emails_sent) or f"none (see {why})"
        out.line(f"flow emails received: {started}")


def _render_flows(out: Output, data: FlowsReport) -> None:
    rows = []
    for trigger in data.triggers:
        for flow in trigger.flows:
            created = " (created now)" if flow.created_now else ""
            rows.append((trigger.trigger, flow.id, flow.name or "", f"{flow.status}{created}"))
        if not trigger.flows:
            rows.append((trigger.trigger, "-", trigger.note, "-"))
    out.table(["trigger", "flow", "name", "status"], rows)
    if data.drafts_created:
        out.info(f"{data.drafts_created} draft flows created: set them live in Klaviyo")
