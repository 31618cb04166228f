"""`Scoped`: the `with` protocol written once, for objects that start on entry and close on exit.

Imported by every layer (the Klaviyo client, the bulk sender, the backfill progress display), so
it imports nothing from joyctl.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Scoped(ABC):
    """Used as `with thing:`: entry calls `open()` (nothing by default), exit calls `close()`.

    `close()` runs however the block ends; an exception raised in the block goes on after it.
    """

    def open(self) -> None:  # noqa: B027 - doing nothing is the right default
        """Start what the object holds."""

    @abstractmethod
    def close(self) -> None:
        """Release what the object holds; the end of the `with` block calls it."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
