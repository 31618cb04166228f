"""Replacing a file atomically: a reader, or a crash, sees the old file or the new one.

The new content goes to a temporary file in the target's own folder (so the rename never crosses
file systems), is flushed to disk and renamed over the target. The temporary file has its final
mode from the moment it exists (0600 unless the caller asks otherwise), so a secret is never
readable by others, not even briefly; it is removed when anything fails. The folder must exist:
each caller makes it, with the permissions that caller needs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, AnyStr

PRIVATE = 0o600


def write_atomic(path: Path, content: str | bytes, *, mode: int = PRIVATE) -> None:
    """Replace `path` with `content` (text is written as UTF-8)."""
    if isinstance(content, bytes):
        with _replacing(path, mode, lambda descriptor: os.fdopen(descriptor, "wb")) as raw:
            raw.write(content)
    else:
        with replacing(path, mode=mode) as text:
            text.write(content)


def replacing(
    path: Path, *, mode: int = PRIVATE, newline: str | None = None
) -> AbstractContextManager[IO[str]]:
    """A UTF-8 text stream whose content replaces `path` when the block ends without error."""

    def text_stream(descriptor: int) -> IO[str]:
        return os.fdopen(descriptor, "w", encoding="utf-8", newline=newline)

    return _replacing(path, mode, text_stream)


@contextmanager
def _replacing(
    path: Path, mode: int, open_stream: Callable[[int], IO[AnyStr]]
) -> Iterator[IO[AnyStr]]:
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        if os.name == "posix":
            # mkstemp's 0600 is filtered by the umask; the mode given is exact.
            os.fchmod(descriptor, mode)
        with open_stream(descriptor) as stream:
            descriptor = -1  # the stream owns it now
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if descriptor != -1:
            os.close(descriptor)
        temporary.unlink(missing_ok=True)
        raise
