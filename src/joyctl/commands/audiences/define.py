"""`joyctl audiences create|list|show|delete`: audience definitions in the ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl.commands._args import POINTS_MAX
from joyctl.commands._common import app_context, confirm_or_require_yes
from joyctl.commands.audiences._shared import NameArg
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.audiences.manage import AudienceDetail, AudienceView, Forgotten

CREATE_HELP = """Define an audience: customers who match every filter given.

Filters: --tier (repeatable; any of them, case ignored), --points-at-least / --points-at-most
(current balance), --status (repeatable: member, guest, excluded), --birthday-month (repeatable,
1-12), --last-activity-after / --last-activity-before (a date, an ISO 8601 date-time, or an
age such as 90d, counted back from each sync), and --referred / --not-referred. Customers with
no recorded activity match neither activity bound. Without filters, every customer matches.

Example: joyctl audiences create gold --tier Gold --status member
"""


TierOpt = Annotated[list[str] | None, typer.Option(help="VIP tier (repeatable).")]
PointsAtLeastOpt = Annotated[
    int | None, typer.Option(min=0, max=POINTS_MAX, help="Current balance at least this.")
]
PointsAtMostOpt = Annotated[
    int | None, typer.Option(min=0, max=POINTS_MAX, help="Current balance at most this.")
]
StatusOpt = Annotated[
    list[str] | None, typer.Option(help="member, guest or excluded (repeatable).")
]
MonthOpt = Annotated[
    list[int] | None, typer.Option(help="Birthday in this month, 1-12 (repeatable).")
]
AfterOpt = Annotated[
    str | None, typer.Option(help="Last activity at or after: date, date-time or age (90d).")
]
BeforeOpt = Annotated[
    str | None, typer.Option(help="Last activity before: date, date-time or age (90d).")
]
ReferredOpt = Annotated[
    bool | None,
    typer.Option("--referred/--not-referred", help="Only referred, or only not referred."),
]
ReplaceOpt = Annotated[bool, typer.Option("--replace", help="Redefine the audience if it exists.")]


def create(
    ctx: typer.Context,
    name: NameArg,
    tier: TierOpt = None,
    points_at_least: PointsAtLeastOpt = None,
    points_at_most: PointsAtMostOpt = None,
    status: StatusOpt = None,
    birthday_month: MonthOpt = None,
    last_activity_after: AfterOpt = None,
    last_activity_before: BeforeOpt = None,
    referred: ReferredOpt = None,
    replace: ReplaceOpt = False,
) -> None:
    from joyctl.services.audiences.definition import build_definition
    from joyctl.services.audiences.manage import create_audience

    app = app_context(ctx)
    definition = build_definition(
        tiers=tier,
        points_at_least=points_at_least,
        points_at_most=points_at_most,
        statuses=status,
        birthday_months=birthday_month,
        last_activity_after=last_activity_after,
        last_activity_before=last_activity_before,
        referred=referred,
    )
    view = create_audience(app.ledger(), name, definition, replace=replace)
    app.output.emit(view, _render_created)


def list_(ctx: typer.Context) -> None:
    """List audiences with their current member counts and mapped Klaviyo lists."""
    from joyctl.services.audiences.manage import list_audiences

    app = app_context(ctx)
    app.output.emit(list_audiences(app.ledger()), _render_list)


def show(
    ctx: typer.Context,
    name: NameArg,
    sample: Annotated[int, typer.Option(min=0, max=1000, help="How many members to show.")] = 10,
) -> None:
    """Show an audience: its filters, member count, list, and a sample of members."""
    from joyctl.services.audiences.manage import show_audience

    app = app_context(ctx)
    app.output.emit(show_audience(app.ledger(), name, sample=sample), _render_detail)


def delete(
    ctx: typer.Context,
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an audience and its list mapping. The Klaviyo list and its members stay."""
    from joyctl.services.audiences.manage import delete_audience

    app = app_context(ctx)
    confirm_or_require_yes(app, f"delete audience {name!r}", yes=yes)
    forgotten = delete_audience(app.ledger(), name)
    app.output.emit(forgotten, _render_deleted)


def _list_text(list_id: str | None, list_name: str | None) -> str:
    if list_id is None:
        return "-"
    return f"{list_name} ({list_id})" if list_name else list_id


def _render_created(out: Output, data: AudienceView) -> None:
    out.success(f"audience {data.name}: {data.summary} ({data.members:,} members now)")


def _render_list(out: Output, data: list[AudienceView]) -> None:
    rows = [
        (
            a.name,
            a.members,
            a.summary,
            _list_text(a.list_id, a.list_name),
            "-" if a.synced_members is None else a.synced_members,
            a.last_synced_at or "-",
        )
        for a in data
    ]
    out.table(["NAME", "MEMBERS", "FILTERS", "LIST", "SYNCED", "LAST SYNC"], rows)


def _render_detail(out: Output, data: AudienceDetail) -> None:
    out.fields(
        [
            ("audience", data.name),
            ("filters", data.summary),
            ("members", f"{data.members:,}"),
            ("list", _list_text(data.list_id, data.list_name)),
            ("synced", "-" if data.synced_members is None else f"{data.synced_members:,}"),
            ("last sync", data.last_synced_at or "-"),
            ("created", data.created_at),
            ("updated", data.updated_at),
        ]
    )
    if data.sample:
        out.line()
        rows = [(m.email, m.tier or "-", m.member_status, m.points) for m in data.sample]
        out.table(["EMAIL", "TIER", "STATUS", "POINTS"], rows, title="sample")


def _render_deleted(out: Output, data: Forgotten) -> None:
    kept = f"; Klaviyo list {data.list_id} keeps its members" if data.list_id else ""
    out.success(f"audience {data.audience} deleted{kept}")
