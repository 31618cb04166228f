"""`joyctl ledger balance|history|adjust`: one customer's points."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from joyctl import values
from joyctl.commands._args import POINTS_MAX, ROW_ID_MAX
from joyctl.commands._common import app_context
from joyctl.commands.ledger._shared import EmailArg
from joyctl.output import Output

REASON_LIMIT = 1000
KEY_LIMIT = 200

if TYPE_CHECKING:
    from joyctl.services.ledger_admin.adjust import AdjustResult
    from joyctl.services.ledger_admin.balances import BalanceView, HistoryView


def balance(ctx: typer.Context, email: EmailArg) -> None:
    """Show a customer's points balance."""
    from joyctl.services.ledger_admin.balances import customer_balance

    app = app_context(ctx)
    app.output.emit(customer_balance(app.ledger(), email), _render_balance)


def history(
    ctx: typer.Context,
    email: EmailArg,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Entries to show (1-1000).")] = 20,
    before: Annotated[
        int | None,
        typer.Option(
            "--before", min=1, max=ROW_ID_MAX, help="Only entries older than this entry id."
        ),
    ] = None,
) -> None:
    """Show a customer's point entries, newest first, each with its reason or review id."""
    from joyctl.services.ledger_admin.balances import customer_history

    app = app_context(ctx)
    result = customer_history(app.ledger(), email, limit=limit, before=before)
    app.output.emit(result, _render_history)


def adjust(
    ctx: typer.Context,
    email: EmailArg,
    points: Annotated[
        int,
        typer.Argument(
            min=-POINTS_MAX,
            max=POINTS_MAX,
            help="Points to add, or to take when negative (at most 1000000000 either way).",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the history.")],
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            "--idempotency-key", help="Record at most once under this key (safe retries)."
        ),
    ] = None,
) -> None:
    """Add or take points by hand. A balance never goes below zero (exit 3 if it would).

    Example: joyctl ledger adjust ann@example.com -50 --reason "refund" \\
        --idempotency-key r-981
    """
    from joyctl.services.ledger_admin.adjust import adjust_points

    app = app_context(ctx)
    reason = values.text(reason, what="--reason", limit=REASON_LIMIT)
    if idempotency_key is not None:
        idempotency_key = values.text(idempotency_key, what="--idempotency-key", limit=KEY_LIMIT)
    result = adjust_points(
        app.ledger(), email, points, reason=reason, idempotency_key=idempotency_key
    )
    app.output.emit(result, _render_adjust)


def _render_balance(out: Output, data: BalanceView) -> None:
    out.fields([("email", data.email), ("balance", data.balance), ("status", data.member_status)])


def _render_history(out: Output, data: HistoryView) -> None:
    out.info(f"{data.email}: {data.balance} points")
    rows = [(e.id, e.created_at, e.kind, f"{e.delta:+d}", e.balance_after, e.note)
            for e in data.entries]  # fmt: skip
    out.table(["ID", "WHEN", "KIND", "POINTS", "BALANCE", "REASON"], rows)
    if data.next_before is not None:
        out.info(f"older entries: --before {data.next_before}")


def _render_adjust(out: Output, data: AdjustResult) -> None:
    if data.created:
        out.success(f"{data.email}: {data.entry.delta:+d} points, balance {data.balance}")
    else:
        out.info(f"already recorded as entry {data.entry.id}; balance {data.balance}")
    out.line(str(data.balance))
