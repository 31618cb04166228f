"""What a long-running listener says besides its deliveries: start-up findings, Klaviyo going
away and coming back. One model, so a log line under --json has one shape for all of them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel


class ListenerNotice(BaseModel):
    """A line of `webhooks listen` that is not a delivery: `level` says how much it matters."""

    kind: Literal["notice"] = "notice"
    at: str
    level: Literal["info", "warning"]
    code: str
    message: str
    hint: str | None = None


def notice(
    code: str, message: str, *, hint: str | None = None, warning: bool = True
) -> ListenerNotice:
    return ListenerNotice(
        at=datetime.now(UTC).isoformat(),
        level="warning" if warning else "info",
        code=code,
        message=message,
        hint=hint,
    )
