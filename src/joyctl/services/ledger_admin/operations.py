"""`joyctl ledger balance|history|adjust|import|export|verify`: points, files and health."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from joyctl.errors import DataError, JoyctlError, NotFoundError, UsageError
from joyctl.files.atomic import replacing
from joyctl.files.formats import FileFormat, choose_format, format_of
from joyctl.files.quarantine import QuarantineLog, default_quarantine_path
from joyctl.files.reader import open_binary, read_records
from joyctl.files.writer import RecordWriter
from joyctl.ledger.copies import database_file
from joyctl.ledger.customers import (
    Customer,
    find_customer,
    iter_customers_with_balances,
)
from joyctl.ledger.db import open_ledger, transaction
from joyctl.ledger.points import (
    EntryKind,
    InsufficientPointsError,
    NewEntry,
    PointEntry,
    append_entry,
    current_balance,
    entry_history,
)
from joyctl.ledger.verify import CheckResult, verify_file, verify_ledger
from joyctl.paths import make_private_folder
from joyctl.services.ledger_admin.customer_file import COLUMNS, customer_columns, export_values
from joyctl.services.ledger_admin.importing import load_customer_file
from joyctl.services.triggers.feed import queue_entry_trigger

MAX_HISTORY = 1000


class EntryView(BaseModel):
    id: int
    kind: str
    delta: int
    balance_after: int
    reason: str | None
    program: str | None
    source_kind: str | None
    source_id: str | None
    idempotency_key: str
    reverses_id: int | None
    meta: dict[str, Any]
    created_at: str
    note: str = ""
    """Why the entry exists, for people: its reason, and the review it is for."""


class BalanceView(BaseModel):
    email: str
    customer_id: int
    member_status: str
    tier: str | None
    balance: int


class HistoryView(BalanceView):
    entries: list[EntryView]
    next_before: int | None
    """Pass as --before to see older entries; None when there are none."""


class AdjustResult(BalanceView):
    created: bool
    entry: EntryView


class ViolationView(BaseModel):
    entry_id: int | None
    customer_id: int | None
    detail: str


class CheckView(BaseModel):
    name: str
    description: str
    ok: bool
    count: int
    examples: list[ViolationView]
    skipped: str | None
    """Why the check could not run (the file is damaged, a table is missing); None if it ran."""


class VerifyReport(BaseModel):
    file: str
    ok: bool
    violations: int
    damaged: bool
    """The file itself is damaged (SQLite's integrity check, the schema): restore a backup."""
    checks: list[CheckView]

    def problems(self) -> list[str]:
        """Every failure of the file's own checks, in order."""
        return [
            f"{check.name}: {example.detail}"
            for check in self.checks
            if check.name in FILE_CHECKS
            for example in check.examples
        ]


def _entry_view(entry: PointEntry) -> EntryView:
    view = EntryView.model_validate(entry, from_attributes=True)
    return view.model_copy(update={"note": entry_note(entry)})


def entry_note(entry: PointEntry) -> str:
    """The entry's reason and, for a review's earn or revoke, the review: what `history` shows."""
    review = entry.meta.get("review_id") or (
        entry.source_id if entry.source_kind == "review" else None
    )
    parts = [entry.reason] if entry.reason else []
    if review:
        parts.append(f"review {review}")
    elif not parts and entry.source_kind and entry.source_id:
        parts.append(f"{entry.source_kind} {entry.source_id}")
    return "; ".join(parts)


def _customer(connection: sqlite3.Connection, email: str) -> Customer:
    try:
        customer = find_customer(connection, email)
    except DataError as exc:
        raise UsageError(exc.message, hint=exc.hint) from None
    if customer is None:
        raise NotFoundError(
            f"no customer with email {email.strip()!r} in this ledger",
            hint="customers come in with `joyctl ledger import FILE`",
        )
    return customer


def _balance_fields(customer: Customer, balance: int) -> dict[str, Any]:
    return {
        "email": customer.email,
        "customer_id": customer.id,
        "member_status": customer.member_status,
        "tier": customer.tier,
        "balance": balance,
    }


def customer_balance(connection: sqlite3.Connection, email: str) -> BalanceView:
    customer = _customer(connection, email)
    return BalanceView(**_balance_fields(customer, current_balance(connection, customer.id)))


def customer_history(
    connection: sqlite3.Connection, email: str, *, limit: int = 20, before: int | None = None
) -> HistoryView:
    """A page of the customer's entries, newest first."""
    if not 1 <= limit <= MAX_HISTORY:
        raise UsageError(f"--limit must be between 1 and {MAX_HISTORY}", hint="page with --before")
    customer = _customer(connection, email)
    entries = entry_history(connection, customer.id, limit=limit + 1, before_id=before)
    more = len(entries) > limit
    page = entries[:limit]
    return HistoryView(
        **_balance_fields(customer, current_balance(connection, customer.id)),
        entries=[_entry_view(entry) for entry in page],
        next_before=page[-1].id if more else None,
    )


def adjust_points(
    connection: sqlite3.Connection,
    email: str,
    points: int,
    *,
    reason: str,
    idempotency_key: str | None = None,
) -> AdjustResult:
    """Add or take points by hand, never below zero; a repeated key records nothing new."""
    if points == 0:
        raise UsageError("POINTS must not be 0", hint="give a positive or negative number")
    if not reason.strip():
        raise UsageError("--reason must not be empty", hint="say why, for the customer's history")
    key = f"adjust:{idempotency_key.strip() if idempotency_key else uuid.uuid4()}"
    with transaction(connection):
        customer = _customer(connection, email)
        new = NewEntry(
            customer.id, EntryKind.ADJUST, points, key, reason=reason.strip(), source_kind="cli"
        )
        try:
            appended = append_entry(connection, new)
        except InsufficientPointsError as exc:
            raise InsufficientPointsError(exc.balance, points, owner=customer.email) from None
        if appended.entry.delta != points:
            raise DataError(
                f"idempotency key {idempotency_key!r} already recorded an adjustment of"
                f" {appended.entry.delta:+d} points",
                hint="use a new key for a different adjustment",
            )
        if appended.created:
            queue_entry_trigger(connection, customer, appended.entry)
        balance = current_balance(connection, customer.id)
    return AdjustResult(
        **_balance_fields(customer, balance),
        created=appended.created,
        entry=_entry_view(appended.entry),
    )


FILE_CHECKS = ("file", "file_integrity", "schema")


def verify(path: Path) -> VerifyReport:
    """The file, its schema and every invariant, read from one snapshot; writes nothing.

    A profile without a ledger yet gets a new one first, as any other command would make it.
    """
    if not path.exists():
        open_ledger(path).close()
    return _report(str(path), verify_file(path))


def verify_invariants(connection: sqlite3.Connection) -> VerifyReport:
    """Only the invariants, read from one snapshot of a ledger that opened (so its file and
    schema passed the checks made at every open); SQLite's full integrity check is not run."""
    with transaction(connection, immediate=False):
        results = verify_ledger(connection)
    return _report(database_file(connection), results)


def _report(file: str, results: list[CheckResult]) -> VerifyReport:
    checks = [CheckView.model_validate(result, from_attributes=True) for result in results]
    return VerifyReport(
        file=file,
        ok=all(check.ok for check in checks),
        violations=sum(check.count for check in checks),
        damaged=any(not check.ok for check in checks if check.name in FILE_CHECKS),
        checks=checks,
    )


# --- import and export -----------------------------------------------------------------------

BATCH_SIZE = 1000


class ImportSummary(BaseModel):
    file: str
    format: str
    records: int
    customers_created: int
    customers_updated: int
    openings_recorded: int
    opening_points: int
    openings_already_recorded: int
    opening_mismatches: int
    mismatch_lines: list[int]
    """Lines whose points differ from the opening balance recorded earlier (first few)."""
    quarantined: int
    quarantine_file: str | None
    batches: int


class ExportSummary(BaseModel):
    output: str | None
    """The file written, or None for standard output."""
    format: str
    customers: int
    points: int


def import_customers(
    connection: sqlite3.Connection,
    path: Path,
    *,
    file_format: FileFormat | None = None,
    quarantine: Path | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Upsert customers and record opening balances, one transaction per batch of records.

    Bad records go to the quarantine file and the rest carry on. Opening balances are keyed by
    customer, so importing the same file again records nothing twice.
    """
    fmt = choose_format(path, file_format)
    quarantine_path = quarantine or default_quarantine_path(path)
    if quarantine_path.resolve() == path.resolve():  # before the log clears its file
        raise UsageError("the quarantine file cannot be the import file", hint="--quarantine PATH")
    bad = QuarantineLog(quarantine_path, resumed=False)
    with open_binary(path) as handle, contextlib.closing(bad):
        tally = load_customer_file(
            connection,
            read_records(handle, fmt, header=customer_columns),
            fmt,
            bad,
            source=path.name,
            batch_size=batch_size,
            on_batch=on_batch,
        )
    return ImportSummary(
        **asdict(tally),
        file=str(path),
        format=fmt.value,
        quarantined=bad.count,
        quarantine_file=str(bad.path) if bad.count else None,
    )


def export_customers(
    connection: sqlite3.Connection,
    stdout: IO[str],
    *,
    file_format: FileFormat | None = None,
    output: Path | None = None,
    force: bool = False,
) -> ExportSummary:
    """Every customer with the current balance, streamed to `output` or to `stdout`."""
    fmt = file_format or (format_of(output) if output else None) or FileFormat.CSV
    if output is None:
        customers, points = _write_export(connection, stdout, fmt)
        return ExportSummary(output=None, format=fmt.value, customers=customers, points=points)
    if output.exists() and not force:
        raise UsageError(f"{output} exists already", hint="pass --force to replace it")
    try:
        customers, points = _export_to_file(connection, output, fmt)
    except OSError as exc:
        raise JoyctlError(
            f"cannot write {output}: {exc.strerror or exc}",
            code="io",
            hint="check the folder's free space and permissions, or choose another --output",
        ) from None
    return ExportSummary(output=str(output), format=fmt.value, customers=customers, points=points)


def _export_to_file(
    connection: sqlite3.Connection, output: Path, fmt: FileFormat
) -> tuple[int, int]:
    """Written beside the target and renamed, so a failure never leaves half a file behind."""
    make_private_folder(output.parent)
    with replacing(output, newline="") as handle:  # 0600: customers' emails and balances
        return _write_export(connection, handle, fmt)


def _write_export(
    connection: sqlite3.Connection, handle: IO[str], fmt: FileFormat
) -> tuple[int, int]:
    writer = RecordWriter(handle, fmt, COLUMNS)
    customers = points = 0
    # One read transaction: the export is a single moment even while others write.
    with transaction(connection, immediate=False):
        for customer, balance in iter_customers_with_balances(connection):
            writer.write(export_values(customer, balance))
            customers += 1
            points += balance
    handle.flush()
    return customers, points
