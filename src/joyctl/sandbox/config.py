"""How a sandbox server is configured, and the small parsers for its option strings."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from joyctl.errors import UsageError
from joyctl.sandbox.latency import LatencyProfile, parse_latency, short_profile

# Redirect URIs the sandbox's OAuth app allows out of the box. Klaviyo matches them exactly, so a
# client whose loopback listener uses another address must add it (SandboxConfig.redirect_uris).
DEFAULT_REDIRECT_URIS: tuple[str, ...] = (
    "http://127.0.0.1:8765/callback",
    "http://localhost:8765/callback",
)

DEFAULT_SCENARIO = "legacy-permissions"
# What a request at a retired revision meets. Klaviyo's policy retires a revision two years after
# its release; whether it then refuses such calls (410) or serves them at the oldest supported
# revision ("fall forward") is not settled by its documentation, so both are offered.
RETIRED_REVISION_POLICIES = ("refuse", "fall-forward")

# The shapes of a Submitted Review webhook payload the sandbox can send. Klaviyo does not
# document the event's property names: `full` carries `review_id`, `no-review-id` leaves it
# out, so joyctl's lookup of the review by time, email and product is exercised.
WEBHOOK_PAYLOADS = ("full", "no-review-id")


@dataclass(frozen=True)
class RateLimitMode:
    """`real` enforces Klaviyo's limits, `off` none, `scaled` the real ones times `factor`."""

    kind: Literal["real", "off", "scaled"]
    factor: float = 1.0

    @property
    def enforced(self) -> bool:
        return self.kind != "off"

    def scale(self, limit: int) -> int:
        if self.kind != "scaled":
            return limit
        return max(1, math.floor(limit * self.factor))

    def describe(self) -> str:
        return f"x{self.factor:g}" if self.kind == "scaled" else self.kind


def parse_webhook_payload(text: str) -> str:
    """`full` or `no-review-id` (see WEBHOOK_PAYLOADS)."""
    value = text.strip().lower()
    if value not in WEBHOOK_PAYLOADS:
        raise UsageError(
            f"Unknown webhook payload shape {text!r}.",
            hint=f"Use one of: {', '.join(WEBHOOK_PAYLOADS)}.",
        )
    return value


RATE_FACTOR_RANGE = (0.001, 1_000_000.0)


def parse_rate_limits(text: str) -> RateLimitMode:
    """Parse `real`, `off` or `x<factor>` (for example `x10`: ten times Klaviyo's limits)."""
    value = text.strip().lower()
    if value in ("real", "off"):
        return RateLimitMode("real" if value == "real" else "off")
    if value.startswith("x"):
        try:
            factor = float(value[1:])
        except ValueError:
            factor = 0.0
        if RATE_FACTOR_RANGE[0] <= factor <= RATE_FACTOR_RANGE[1]:
            return RateLimitMode("scaled", factor)
    raise UsageError(
        f"Unknown rate-limit mode {text!r}.",
        hint="Use 'real', 'off' or 'x<factor>' such as 'x10' (a factor from 0.001 to 1000000).",
    )


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox server needs to start; every field has a usable default."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 asks the OS for a free port
    scenario: str = DEFAULT_SCENARIO  # seeded only when the state file is absent
    state_file: Path | None = None  # None keeps the state in memory only
    rate_limits: str = "real"  # "real" | "off" | "x<factor>"
    faults: str = ""  # e.g. "5xx=0.05,429=0.05,drop=0.02,latency=20ms"
    seed: int | None = None  # makes fault injection reproducible
    auto_consent: bool = False  # OAuth authorize redirects at once instead of showing a page
    live_account: bool = False  # the account reports test_account=false
    access_token_lifetime: int = 3600  # seconds
    redirect_uris: tuple[str, ...] = field(default=DEFAULT_REDIRECT_URIS)
    job_step_seconds: float = 1.0  # bulk import jobs: queued -> processing -> complete per step
    delivery_batch_seconds: float = 0.2  # how long events wait to be batched into one POST
    delivery_backoff_seconds: float = 1.0  # first retry delay; doubles on every retry
    delivery_max_attempts: int = 5
    latency: str = "short"  # "short" | "realistic" | with overrides; see latency.py
    delivery_timeout_seconds: float = 5.0
    save_debounce_seconds: float = 0.25
    retired_revisions: str = "refuse"  # see RETIRED_REVISION_POLICIES
    # Klaviyo requires https webhook endpoints. The emulator also takes plain http to a loopback
    # address, so a local `webhooks listen` can receive; strict refuses that too.
    strict_webhook_urls: bool = False
    webhook_payload: str = "full"  # "full" | "no-review-id" (see WEBHOOK_PAYLOADS)
    # Several processes run the emulator on one state file (the built-in sandbox profile): every
    # request is then a transaction on the file (see store/shared.py) instead of a late save.
    shared_state: bool = False

    def rate_limit_mode(self) -> RateLimitMode:
        return parse_rate_limits(self.rate_limits)

    def latency_profile(self, spec: str | None = None) -> LatencyProfile:
        """`spec` (by default this config's `latency`), with `short` built from the settings."""
        short = short_profile(
            self.job_step_seconds,
            self.delivery_batch_seconds,
            self.delivery_backoff_seconds,
            self.delivery_max_attempts,
        )
        return parse_latency(self.latency if spec is None else spec, short)

    def validate(self) -> None:
        """Fail early, with a usage error, on options that cannot work."""
        from joyctl.sandbox.faults import parse_faults

        self.rate_limit_mode()
        self.latency_profile()
        parse_faults(self.faults)
        parse_webhook_payload(self.webhook_payload)
        if not 0 <= self.port <= 65535:
            raise UsageError(f"Port {self.port} is out of range.", hint="Use 0 for a free port.")
        if self.access_token_lifetime <= 0:
            raise UsageError("The access-token lifetime must be positive.")
        if self.retired_revisions not in RETIRED_REVISION_POLICIES:
            raise UsageError(
                f"Unknown retired-revision policy {self.retired_revisions!r}.",
                hint=f"Use one of: {', '.join(RETIRED_REVISION_POLICIES)}.",
            )
        if self.delivery_max_attempts < 1:
            raise UsageError("Webhook deliveries need at least one attempt.")
