"""joyctl in a pseudo-terminal of a given size, as a person at a terminal runs it.

Used by the tests of what only a terminal shows: questions asked before acting, progress bars.
It needs only the standard library (`pty`), so it runs wherever the suite runs on POSIX.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


class Terminal:
    """A joyctl process whose stdin, stdout and stderr are one terminal, `columns` wide."""

    def __init__(
        self, args: list[str], env: Mapping[str, str], *, columns: int = 80, rows: int = 24
    ) -> None:
        self._master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        environ = {**env, "COLUMNS": str(columns), "LINES": str(rows), "TERM": "xterm-256color"}
        environ.pop("CI", None)  # a person is at this terminal
        self.process = subprocess.Popen(
            [sys.executable, "-m", "joyctl", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environ,
            start_new_session=True,
        )
        os.close(slave)
        self.raw = ""

    def read_until(self, pattern: str, timeout: float = 60.0) -> str:
        """Everything shown so far, once `pattern` (a regex) appears in the plain text."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{pattern!r} never appeared; shown:\n{self.text}")
            if not self._read(remaining):
                raise AssertionError(f"the process ended before {pattern!r}:\n{self.text}")
        return self.text

    def send(self, text: str) -> None:
        os.write(self._master, text.encode("utf-8"))

    def finish(self, timeout: float = 120.0) -> int:
        """Read to the end; the exit status."""
        deadline = time.monotonic() + timeout
        while self._read(max(deadline - time.monotonic(), 0.01)):
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"still running after {timeout}s:\n{self.text}")
        code = self.process.wait(timeout=10)
        os.close(self._master)
        return code

    @property
    def text(self) -> str:
        """What was shown, without colours or cursor moves."""
        return ANSI.sub("", self.raw).replace("\r\n", "\n")

    def lines(self) -> list[str]:
        """Every line the terminal drew, redraws included, as plain text."""
        return [line for line in re.split(r"[\r\n]", ANSI.sub("", self.raw)) if line.strip()]

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], min(timeout, 0.5))
        if not ready:
            return self.process.poll() is None
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # the other side closed: the process ended
            return False
        if not chunk:
            return False
        self.raw += chunk.decode("utf-8", errors="replace")
        return True
