"""Saving the state file atomically, and a saver thread that batches saves after writes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from joyctl.command_line import command
from joyctl.errors import DataError
from joyctl.files.atomic import write_atomic
from joyctl.paths import make_private_folder
from joyctl.sandbox.store.state import SandboxState


def write_state_file(path: Path, text: str) -> None:
    """Replace the state file at once: a reader (or a crash) sees the old state or the new."""
    make_private_folder(path.parent)
    write_atomic(path, text)


def save_state(path: Path, state: SandboxState) -> None:
    write_state_file(path, serialize_state(state))


def serialize_state(state: SandboxState) -> str:
    return json.dumps(state.to_json(), separators=(",", ":"))


def load_state(path: Path) -> SandboxState | None:
    """The saved state, or None when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return SandboxState.from_json(json.loads(text))
    except (ValueError, TypeError, KeyError) as exc:
        raise DataError(
            f"The sandbox state file {path} cannot be read: {exc}",
            hint=f"Run `{command('sandbox', 'reset', profile=None)}` to start over.",
        ) from exc


class DebouncedSaver:
    """Saves at most once per interval after changes, and once more when stopped.

    `snapshot` runs under the caller's lock and returns the serialized state; the file write
    happens outside it so requests are not held up by the disk.
    """

    def __init__(self, path: Path, snapshot: Callable[[], str], interval: float) -> None:
        self._path = path
        self._snapshot = snapshot
        self._interval = interval
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="sandbox-saver", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def mark_dirty(self) -> None:
        self._dirty.set()

    def save_now(self) -> None:
        self._dirty.clear()
        text = self._snapshot()
        with self._write_lock:
            write_state_file(self._path, text)

    def stop(self) -> None:
        self._stopping.set()
        self._dirty.set()
        if self._thread.is_alive():
            self._thread.join()
        self.save_now()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.wait(self._interval):
                return
            self.save_now()
