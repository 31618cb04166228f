"""`joyctl ledger import|export|verify`: files and health (one customer's points: `balances`)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO

from pydantic import BaseModel

from joyctl.errors import JoyctlError, UsageError
from joyctl.files.atomic import replacing
from joyctl.files.formats import FileFormat, choose_format, format_of
from joyctl.files.quarantine import QuarantineLog, default_quarantine_path
from joyctl.files.reader import open_binary, read_records
from joyctl.files.writer import RecordWriter
from joyctl.ledger.copies import database_file
from joyctl.ledger.customers import (
    iter_customers_with_balances,
)
from joyctl.ledger.db import open_ledger, transaction
from joyctl.ledger.verify import CheckResult, verify_file, verify_ledger
from joyctl.paths import make_private_folder
from joyctl.services.ledger_admin.customer_file import COLUMNS, customer_columns, export_values
from joyctl.services.ledger_admin.importing import load_customer_file


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
    name: str | None = None,
) -> ImportSummary:
    """Upsert customers and record opening balances, one transaction per batch of records.

    Bad records go to the quarantine file and the rest carry on. Opening balances are keyed by
    customer, so importing the same file again records nothing twice. `name` is what reports
    call the input when `path` is a copy of it (of stdin, say).
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
            source=name or path.name,
            batch_size=batch_size,
            on_batch=on_batch,
        )
    return ImportSummary(
        **asdict(tally),
        file=name or str(path),
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
