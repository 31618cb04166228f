"""Everything joyctl prints goes through here (part of the cli layer).

Data goes to stdout, everything else to stderr. Tables and colour appear only on a terminal;
piped output is plain tab-separated text. `--json` wraps data (or the error) in the `joyctl/1`
envelope and leaves stderr empty: warnings go into the envelope's `warnings` list instead, and
only logs asked for with -v or --debug still go to stderr. Text that comes from Klaviyo or
merchants is never read as Rich markup.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeAlias, TypeVar

from joyctl import envvars

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console

    from joyctl.errors import JoyctlError

SCHEMA = "joyctl/1"

# What a command prints: one pydantic model, or a list of them (a JSON array under "data").
# The bound is a string so that importing this module never loads pydantic.
M = TypeVar("M", bound="BaseModel | Sequence[BaseModel]")

Renderer: TypeAlias = "Callable[[Output, M], None]"
"""How a command shows its result when it is not asked for JSON; typed for that result."""


def counted(number: int, word: str, plural: str | None = None) -> str:
    """`1 record`, `4,979,469 points`: a count as a person writes it."""
    return f"{number:,} {word if number == 1 else plural or word + 's'}"


def to_jsonable(data: Any) -> Any:
    """pydantic models, dataclasses and plain values, as JSON-ready values."""
    dump = getattr(data, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(data, list | tuple):
        return [to_jsonable(item) for item in data]
    if isinstance(data, dict):
        return {str(key): to_jsonable(value) for key, value in data.items()}
    return data


class Output:
    """The two streams, the output mode, and how data, messages and errors are rendered."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        verbose: int = 0,
        no_color: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.verbose = verbose
        self.no_color = no_color or bool(os.environ.get(envvars.NO_COLOR))
        self._stdout = stdout
        self._stderr = stderr
        self._out_console: Console | None = None
        self._err_console: Console | None = None
        self._warnings: list[str] = []  # under --json, until the next envelope carries them

    @property
    def stdout(self) -> IO[str]:
        return self._stdout if self._stdout is not None else sys.stdout

    @property
    def stderr(self) -> IO[str]:
        return self._stderr if self._stderr is not None else sys.stderr

    def is_terminal(self, stream: IO[str] | None = None) -> bool:
        target = stream if stream is not None else self.stdout
        isatty = getattr(target, "isatty", None)
        return bool(isatty and isatty())

    def _console(self, stream: IO[str]) -> Console:
        from rich.console import Console  # lazy: keeps `--version` and `--help` fast

        return Console(
            file=stream,
            no_color=self.no_color,
            highlight=False,
            soft_wrap=not self.is_terminal(stream),
            force_terminal=None if self.is_terminal(stream) else False,
        )

    @property
    def out(self) -> Console:
        if self._out_console is None:
            self._out_console = self._console(self.stdout)
        return self._out_console

    @property
    def err(self) -> Console:
        if self._err_console is None:
            self._err_console = self._console(self.stderr)
        return self._err_console

    # --- data (stdout) ---------------------------------------------------------------------

    def emit(self, data: M, render: Renderer[M] | None = None) -> None:
        """The one way a command prints its result: the envelope under --json, else `render`."""
        if self.json_mode:
            self.write_json(self.envelope("data", to_jsonable(data)))
        elif render is not None:
            render(self, data)
        else:
            self.write_json(to_jsonable(data))

    def envelope(self, key: str, body: Any) -> dict[str, Any]:
        """`{"schema": ..., key: body}`, with the warnings said since the last envelope."""
        payload = {"schema": SCHEMA, key: body}
        if self._warnings:
            payload["warnings"] = self._warnings
            self._warnings = []
        return payload

    def write_json(self, payload: Any) -> None:
        self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        self.stdout.flush()

    def line(self, text: str = "") -> None:
        """A plain line of data on stdout, never interpreted as markup."""
        self.stdout.write(text + "\n")

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[object]],
        *,
        title: str | None = None,
    ) -> None:
        """A Rich table on a terminal; tab-separated lines with a header row when piped."""
        cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
        if not self.is_terminal():
            self.line("\t".join(columns))
            for row in cells:
                self.line("\t".join(row))
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in cells:
            table.add_row(*(Text(cell) for cell in row))
        self.out.print(table)

    def fields(self, pairs: Iterable[tuple[str, object]]) -> None:
        """Key/value lines on stdout, aligned."""
        items = [(key, "" if value is None else str(value)) for key, value in pairs]
        width = max((len(key) for key, _ in items), default=0)
        for key, value in items:
            self.line(f"{key.ljust(width)}  {value}")

    # --- messages (stderr) -----------------------------------------------------------------

    def _message(self, prefix: str, style: str, text: str) -> None:
        if not self.is_terminal(self.stderr):
            # Without a terminal Rich would print these characters unstyled; skip importing it.
            self.stderr.write(f"{prefix}{text}\n")
            return
        from rich.text import Text

        message = Text()
        if prefix:
            message.append(prefix, style=style)
        message.append(text)
        self.err.print(message)

    def info(self, text: str) -> None:
        if not self.quiet and not self.json_mode:
            self._message("", "", text)

    def success(self, text: str) -> None:
        if not self.quiet and not self.json_mode:
            self._message("✓ ", "green", text)

    def warn(self, text: str) -> None:
        """On stderr; under --json kept for the envelope's `warnings`, so stderr stays empty."""
        if self.quiet:
            return
        if self.json_mode:
            self._warnings.append(text)
        else:
            self._message("warning: ", "yellow", text)

    def hint(self, text: str) -> None:
        """What to do next, after a warning or an error (stderr; shown under --json too)."""
        if not self.quiet:
            self._message("hint: ", "cyan", text)

    def debug(self, text: str) -> None:
        if self.verbose > 0:
            self._message("debug: ", "dim", text)

    # --- errors ------------------------------------------------------------------------------

    def error(self, error: JoyctlError) -> None:
        """An expected error: the envelope on stdout under --json, else a message and a hint."""
        if self.json_mode:
            body = {"code": error.code, "message": error.message, "hint": error.hint}
            self.write_json(self.envelope("error", body))
            return
        self._message("error: ", "bold red", error.message)
        if error.hint:
            self._message("hint: ", "cyan", error.hint)
