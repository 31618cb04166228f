"""`joyctl audiences map|unmap|sync`: the Klaviyo list behind each audience."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl import values
from joyctl.commands._args import resource_id
from joyctl.commands._common import app_context, exit_after
from joyctl.commands.audiences._shared import NameArg
from joyctl.errors import ExitCode, PartialError
from joyctl.output import Output

LIST_NAME_LIMIT = 200

if TYPE_CHECKING:
    from joyctl.services.audiences.manage import Forgotten, MappingResult
    from joyctl.services.audiences.sync import SyncReport


def map_(
    ctx: typer.Context,
    name: NameArg,
    list_id: Annotated[str | None, typer.Option("--list", help="The Klaviyo list's id.")] = None,
    list_name: Annotated[
        str | None, typer.Option(help="The Klaviyo list's exact name (found with a filter).")
    ] = None,
    create_list: Annotated[
        bool, typer.Option(help="Create the list named by --list-name if there is none.")
    ] = False,
) -> None:
    """Map an audience to one Klaviyo list, by id or by name.

    Klaviyo allows 150 new lists per account per day; --create-list fails clearly once they are
    used up. Mapping another list forgets what was synced to the old one, which keeps its
    members. Needs the lists:read scope, and lists:write to create a list.

    Example: joyctl audiences map gold --list-name "Joy Gold Tier" --create-list
    """
    from joyctl.services.audiences.manage import ListTarget, map_audience, require_audience

    app = app_context(ctx)
    if list_id is not None:
        list_id = resource_id("--list", list_id)
    if list_name is not None:
        list_name = values.text(list_name, what="--list-name", limit=LIST_NAME_LIMIT)
    target = ListTarget(list_id=list_id, list_name=list_name, create=create_list)
    target.check()  # before asking for credentials
    connection = app.ledger()
    require_audience(connection, name)  # a typo is reported before any credential is needed
    result = map_audience(app.klaviyo().client, connection, name, target)
    app.output.emit(result, _render_mapped)


def unmap(ctx: typer.Context, name: NameArg) -> None:
    """Stop syncing an audience to its list. The Klaviyo list and its members stay."""
    from joyctl.services.audiences.manage import unmap_audience

    app = app_context(ctx)
    app.output.emit(unmap_audience(app.ledger(), name), _render_unmapped)


def sync(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None, typer.Argument(help="Audiences to sync (default: every mapped one).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Count what would change from the ledger; send nothing.")
    ] = False,
) -> int:
    """Make each mapped Klaviyo list hold exactly its audience's members.

    Sends only the difference from the last sync, at most 1,000 profiles a request, paced to
    Klaviyo's limits; customers Klaviyo does not know yet get a profile first. Running it again
    sends no membership change; an interrupted sync is finished by running it again. A mapped
    list deleted in Klaviyo stops the sync with the fix. Members Klaviyo refuses are listed and
    the exit status is 7. Needs the lists:write and profiles:write scopes.

    Example: joyctl audiences sync gold --dry-run
    """
    from joyctl.services.audiences.sync import sync_audiences

    app = app_context(ctx)
    report = sync_audiences(
        lambda: app.klaviyo().client,
        app.ledger(),
        names or [],
        dry_run=dry_run,
        on_progress=app.output.info,
    )
    app.output.emit(report, _render_sync)
    if not report.dry_run:
        app.output.warn(report.notice)
    if report.unresolved:
        return exit_after(app, PartialError(
            f"{report.unresolved} members could not be added: Klaviyo refused their profiles",
            hint="fix those customers' emails in the ledger and sync again",
        ))  # fmt: skip
    return ExitCode.OK


def _render_mapped(out: Output, data: MappingResult) -> None:
    verb = "created and mapped" if data.list_created else "mapped"
    out.success(f"audience {data.audience} {verb} to list {data.list_name} ({data.list_id})")
    if data.changed and data.previous_list_id:
        out.warn(
            f"list {data.previous_list_id} is no longer synced and keeps its members;"
            " the next sync adds every member to the new list"
        )


def _render_unmapped(out: Output, data: Forgotten) -> None:
    out.success(
        f"audience {data.audience} unmapped; Klaviyo list {data.list_id} keeps its"
        f" {data.synced_members:,} synced members"
    )


def _render_sync(out: Output, data: SyncReport) -> None:
    rows = [
        (
            a.audience,
            f"{a.list_name} ({a.list_id})" if a.list_name else a.list_id,
            a.members,
            a.added,
            a.removed,
            a.unchanged,
            a.unresolved,
            a.membership_requests,
        )
        for a in data.audiences
    ]
    columns = ["AUDIENCE", "LIST", "MEMBERS", "ADDED", "REMOVED", "UNCHANGED"]
    if data.dry_run:
        out.table([*columns[:3], "TO ADD", "TO REMOVE", "UNCHANGED"], [r[:6] for r in rows])
        return
    out.table([*columns, "REFUSED", "REQUESTS"], rows)
    for audience in data.audiences:
        for refused in audience.unresolved_examples:
            out.warn(f"{audience.audience}: {refused.email} not added: {refused.reason}")
