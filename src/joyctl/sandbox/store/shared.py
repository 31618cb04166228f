"""One state file shared by every process that runs the emulator on it, under transactions.

The built-in `sandbox` profile starts the emulator inside each joyctl command, and several
commands may run at once (a listener for days, submits and replays beside it). So each unit of
work on the state (a request, a turn of the delivery worker) is a transaction on the file:

1. take the exclusive lock on `<state file>.lock` (an OS lock, released by the kernel however
   the process ends, even by kill -9);
2. if another process wrote the state since this one last read or wrote it, load it again
   (every write bumps a generation number kept in the lock file; the file's identity, time
   and size are compared too, so an edit by hand between commands is seen as well);
3. do the work on the state in memory;
4. if anything changed, write the file back atomically;
5. release the lock.

Every process therefore works on the latest state, none ever writes back a stale copy over
another's work, and the file on disk is always the whole truth (tests and `joyctl sandbox state`
read it). The lock is re-entrant within a process, so code that already holds it (seeding the
profile, which writes the state file) may call code that takes it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from joyctl.errors import JoyctlError
from joyctl.files.private import PRIVATE_FILE_MODE, make_private_folder
from joyctl.sandbox.store.persistence import load_state, write_state_file
from joyctl.sandbox.store.state import SandboxState

LOCK_TIMEOUT_SECONDS = 30.0  # a request that waits longer than this answers 503
_POLL_SECONDS = 0.002

Signature = tuple[int, int, int, int]  # generation, inode, modification time (ns), size
# Windows locks byte ranges and refuses other handles' writes to them: lock a byte far past
# the generation number the file holds.
_LOCKED_OFFSET = 1 << 30


class StateLockTimeout(JoyctlError):
    """Another process held the state file's lock for too long (it may be stopped)."""

    code = "sandbox_busy"


def lock_path(state_file: Path) -> Path:
    return state_file.with_name(state_file.name + ".lock")


@dataclass
class _Held:
    """This process's hold on one lock file: threads take turns, the OS lock is taken once."""

    turn: threading.RLock
    depth: int = 0
    handle: IO[bytes] | None = None


_holds: dict[Path, _Held] = {}
_holds_guard = threading.Lock()


@contextlib.contextmanager
def state_lock(state_file: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold the state file's inter-process lock for the block (re-entrant in this process)."""
    path = lock_path(state_file).resolve()
    with _holds_guard:
        held = _holds.setdefault(path, _Held(threading.RLock()))
    if not held.turn.acquire(timeout=timeout):
        raise _busy(state_file, timeout)
    try:
        if held.depth == 0:
            held.handle = _acquire(path, timeout, state_file)
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.handle is not None:
                _release(held.handle)
                held.handle = None
    finally:
        held.turn.release()


def _acquire(path: Path, timeout: float, state_file: Path) -> IO[bytes]:
    make_private_folder(path.parent)
    # 0600 like the state file beside it; the lock file holds only a generation counter.
    handle = os.fdopen(
        os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE_FILE_MODE), "a+b"
    )
    deadline = time.monotonic() + timeout
    while True:
        if _try_lock(handle):
            return handle
        if time.monotonic() >= deadline:
            handle.close()
            raise _busy(state_file, timeout)
        time.sleep(_POLL_SECONDS)


def _busy(state_file: Path, timeout: float) -> StateLockTimeout:
    return StateLockTimeout(
        f"the sandbox state {state_file} stayed locked by another process for {timeout:g}s",
        hint="a stopped (Ctrl-Z) joyctl command may hold it: resume or end it",
    )


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        handle.seek(_LOCKED_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _release(handle: IO[bytes]) -> None:
        handle.seek(_LOCKED_OFFSET)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        handle.close()

else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _release(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


class SharedStateFile:
    """The transactions of one process on a shared state file (see the module's docstring)."""

    def __init__(self, path: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        self.path = path
        self._timeout = timeout
        self._seen: Signature | None = None  # the file as this process last read or wrote it

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with state_lock(self.path, self._timeout):
            yield

    def newer_state(self) -> SandboxState | None:
        """The state as another process left it, or None when the file is as this process last
        saw it (or absent). Call it holding the lock."""
        current = self._signature()
        if current is None or current == self._seen:
            return None
        state = load_state(self.path)
        self._seen = current
        return state

    def write(self, text: str) -> None:
        """Replace the file (atomically) with this process's state. Call it holding the lock."""
        write_state_file(self.path, text)
        marker = lock_path(self.path)
        marker.write_text(str(_generation(marker) + 1), encoding="ascii")
        self._seen = self._signature()

    def _signature(self) -> Signature | None:
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return None
        generation = _generation(lock_path(self.path))
        return (generation, found.st_ino, found.st_mtime_ns, found.st_size)


def _generation(marker: Path) -> int:
    try:
        return int(marker.read_text(encoding="ascii").strip() or 0)
    except (OSError, ValueError):
        return 0
