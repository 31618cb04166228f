"""File arguments: `-` means standard input (for a file read) or output (for a file written).

Input from stdin is copied to a file first (a private temporary one, or one the caller names):
the readers seek, report byte positions and read a CSV's header twice, and a pipe can do none of
that. The format of stdin cannot come from an extension, so `--format` is then required.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from joyctl.context import AppContext
from joyctl.errors import UsageError

STDIO = "-"


def is_stdio(value: Path | str | None) -> bool:
    return value is not None and str(value) == STDIO


def refuse_stdio(value: Path | str | None, option: str, why: str) -> None:
    """For the few file options where `-` cannot work, say why instead of writing a file `-`."""
    if is_stdio(value):
        raise UsageError(f"{option} cannot be - (stdin or stdout)", hint=why)


def require_format(file_format: str | None, option: str) -> None:
    if file_format is None:
        raise UsageError(
            f"{option} - reads stdin, whose format no file extension tells",
            hint="pass --format csv or --format jsonl",
        )


_CHUNK = 1024 * 1024


def copy_stdin(app: AppContext, target: Path, option: str) -> str:
    """Copy all of stdin into `target` (mode 0600); the SHA-256 of what was copied."""
    source = sys.stdin
    if source is None:
        raise UsageError(f"{option} - reads stdin, and there is none", hint="pipe the file in")
    if source.isatty() and app.unattended:
        raise UsageError(
            f"{option} - reads stdin, which is a terminal, and joyctl may not wait for typing",
            hint=f"pipe the file in, e.g. cat FILE | joyctl ... {option} -",
        )
    import hashlib  # only when stdin is read: start-up stays lean

    digest = hashlib.sha256()
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        while chunk := source.buffer.read(_CHUNK):
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def keep_stdin(app: AppContext, folder: Path, option: str, suffix: str) -> Path:
    """Stdin kept in `folder` under a name its content gives, so the same input is the same file.

    A run reading it can then be resumed, or continued by running the same command on the same
    input again, as a run reading a named file can.
    """
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".stdin-{os.getpid()}.partial"
    try:
        digest = copy_stdin(app, partial, option)
        kept = folder / f"stdin-{digest[:16]}{suffix}"
        os.replace(partial, kept)
    finally:
        partial.unlink(missing_ok=True)
    return kept


@contextmanager
def stdin_as_file(app: AppContext, option: str, suffix: str = "") -> Iterator[Path]:
    """Stdin as a private temporary file, removed when the block ends."""
    import tempfile  # only when stdin is read: start-up stays lean

    with tempfile.TemporaryDirectory(prefix="joyctl-stdin-") as folder:
        target = Path(folder) / f"stdin{suffix}"
        copy_stdin(app, target, option)
        yield target
