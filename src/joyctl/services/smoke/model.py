"""What the smoke runner and its steps share: the options, the run's state, a step's spec.

The runner (`run`) imports the steps (`steps`), and both import this module, so imports point
one way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from joyctl.errors import CheckFailedError

if TYPE_CHECKING:
    from joyctl.klaviyo.client import KlaviyoClient
    from joyctl.klaviyo.models import Account, Review, Webhook
    from joyctl.services.connection.session import KlaviyoSession

DEFAULT_TIMEOUT_SECONDS = 120.0
LIVE_ACCOUNT_CODE = "live_account"
T = TypeVar("T")


@dataclass(frozen=True)
class SmokeOptions:
    timeout: float = DEFAULT_TIMEOUT_SECONDS  # how long each step may wait for Klaviyo
    keep: bool = False
    allow_live_account: bool = False
    first_poll_interval: float = 0.5


class StepSkipped(Exception):  # noqa: N818 - an outcome, not an error
    """Raised by a step that has nothing to do (for example cleanup under --keep)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class SmokeRun:
    """What the steps share: the options, the marker, and what earlier steps found."""

    options: SmokeOptions
    open_session: Callable[[], KlaviyoSession]
    marker: str
    started_at: datetime
    sleep: Callable[[float], None] = time.sleep
    session: KlaviyoSession | None = None
    account: Account | None = None
    review: Review | None = None
    _webhooks: list[Webhook] | None = None

    @property
    def client(self) -> KlaviyoClient:
        if self.session is None:  # the runner never starts a step before authenticate passed
            raise RuntimeError("smoke step ran before authentication")
        return self.session.client

    def webhooks(self) -> list[Webhook]:
        """Listed once: webhook endpoints allow one request per second."""
        if self._webhooks is None:
            from joyctl.klaviyo.resources.webhooks import list_webhooks

            self._webhooks = list_webhooks(self.client)
        return self._webhooks

    def poll(self, what: str, find: Callable[[], T | None]) -> T:
        """Ask `find` until it finds something or the step's --timeout is up.

        Klaviyo processes reviews and events asynchronously, so a write shows up in reads
        seconds (sometimes minutes) later; the interval grows so a slow account is not hammered.
        """
        deadline = time.monotonic() + self.options.timeout
        interval = self.options.first_poll_interval
        while True:
            found = find()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CheckFailedError(
                    f"{what} did not appear within {self.options.timeout:g}s",
                    hint="Klaviyo may be slow to process it; rerun with a longer --timeout",
                )
            self.sleep(min(interval, remaining))
            interval = min(interval * 2, 5.0)


@dataclass(frozen=True)
class StepSpec:
    id: str
    title: str
    action: Callable[[SmokeRun], str]
    needs: tuple[str, ...] = ()
