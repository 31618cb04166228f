"""The emulator without the socket: one request in, one response out.

Order of checks on `/api` routes, as observed on Klaviyo: revision header, credentials (401),
rate limit (429, counted per operation and quota holder), then scopes and the plan gate (403,
which still carries rate-limit headers), then the operation. Injected faults come first of all.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from joyctl.klaviyo.endpoints import Endpoint
from joyctl.klaviyo.revisions import Revision, RevisionProblem
from joyctl.klaviyo.revisions import resolve as resolve_revision
from joyctl.sandbox.auth import authenticate, authorize
from joyctl.sandbox.clock import Clock
from joyctl.sandbox.config import SandboxConfig
from joyctl.sandbox.context import Handler, Principal, RequestContext, World
from joyctl.sandbox.deliveries import DeliveryWorker
from joyctl.sandbox.faults import Fault, FaultInjector, parse_faults
from joyctl.sandbox.jsonapi import (
    ApiError,
    Response,
    error_response,
    invalid,
    requested_fieldsets,
    sparse,
)
from joyctl.sandbox.ratelimit import RateLimiter, limits_for
from joyctl.sandbox.routes.control import CONTROL_ROUTES
from joyctl.sandbox.routes.import_jobs import advance_jobs
from joyctl.sandbox.routes.lists import wants_profile_count
from joyctl.sandbox.routes.routing import Route, resolve
from joyctl.sandbox.store.pending import apply_due_writes
from joyctl.sandbox.store.persistence import DebouncedSaver, serialize_state
from joyctl.sandbox.store.shared import SharedStateFile
from joyctl.sandbox.store.state import SandboxState

BODY_TYPES = ("application/vnd.api+json", "application/json")
FAULTED_KINDS = ("api", "client", "oauth")


@dataclass(frozen=True)
class RawRequest:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # lower-case names
    body: bytes


class SandboxApp:
    """The emulator's state and every request on it.

    Work on the state runs in `transaction()`. On its own the app keeps the state in memory
    and a saver writes the state file shortly after changes. With `shared_state`, several
    processes share the file: each transaction takes the file's lock, first loads what other
    processes wrote, and writes its own changes back before it lets go (store/shared.py).
    """

    def __init__(self, config: SandboxConfig, state: SandboxState) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock = Clock(state.clock_offset)
        self.world = World(state, self.clock, config, after_change=self._after_change)
        self.limiter = RateLimiter(config.rate_limit_mode())
        self.faults = FaultInjector(parse_faults(config.faults), config.seed)
        self.deliveries = DeliveryWorker(
            self.transaction,
            lambda: self.world.state,
            self.clock,
            lambda: self.world.latency,
            self.mark_changed,
            tick=self.catch_up,
            timeout=config.delivery_timeout_seconds,
        )
        self.saver: DebouncedSaver | None = None
        self.shared: SharedStateFile | None = None
        self._depth = 0  # transactions nested in the one this thread holds
        self._changed = False  # whether the shared state changed in this transaction
        if config.state_file is not None and config.shared_state:
            self.shared = SharedStateFile(config.state_file)
        elif config.state_file is not None:
            self.saver = DebouncedSaver(
                config.state_file, self.serialized, config.save_debounce_seconds
            )

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if self.saver is not None:
            self.saver.start()
        self.deliveries.start()

    def stop(self) -> None:
        self.deliveries.stop()
        if self.saver is not None:
            self.saver.stop()

    def serialized(self) -> str:
        with self.lock:
            self.world.state.clock_offset = self.clock.offset
            return serialize_state(self.world.state)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the state for a unit of work; nested calls join the one already held."""
        with self.lock:
            if self.shared is None or self._depth > 0:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with self.shared.locked():
                self._adopt(self.shared.newer_state())
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
                    self._commit()

    def _adopt(self, newer: SandboxState | None) -> None:
        if newer is not None:
            self.world.state = newer
            self.clock.set_offset(newer.clock_offset)

    def _commit(self) -> None:
        if self.shared is not None and self._changed:
            self._changed = False
            self.shared.write(self.serialized())

    def mark_changed(self) -> None:
        if self.shared is not None:
            self._changed = True
        elif self.saver is not None:
            self.saver.mark_dirty()

    def _after_change(self) -> None:
        self.deliveries.wake()

    def catch_up(self) -> None:
        """Do the asynchronous work whose time has come: accepted writes, then job steps.

        Runs (under the lock) before every request and on every turn of the delivery worker,
        so a moved clock takes effect even when no request arrives.
        """
        latency, state = self.world.latency, self.world.state
        applied = apply_due_writes(self.world)
        moved = advance_jobs(state, self.clock.now(), latency.job_queued, latency.job_processing)
        if applied or moved:
            self.mark_changed()

    # -- requests ------------------------------------------------------------------------------

    def handle(self, raw: RawRequest) -> Response:
        split = urlsplit(raw.target)
        route = resolve(raw.method, split.path)
        host = raw.headers.get("host") or f"{self.config.host}:{self.config.port}"
        ctx = RequestContext(
            method=raw.method,
            path=split.path,
            query=parse_qsl(split.query, keep_blank_values=True),
            headers=raw.headers,
            body=raw.body,
            base_url=f"http://{host}",
            path_params=route.params,
            endpoint=route.endpoint,
        )
        fault = self.faults.decide() if route.kind in FAULTED_KINDS else Fault()
        if fault.latency > 0:
            time.sleep(fault.latency)
        changes = raw.method != "GET" or route.kind == "oauth"
        with self.transaction():
            response = self._respond(route, ctx, fault)
            self.world.state.count_request(route.label, response.status)
            if changes or self.shared is not None:  # shared: the counters are state too
                self.mark_changed()
        if changes:
            self.deliveries.wake()
        return response

    def _respond(self, route: Route, ctx: RequestContext, fault: Fault) -> Response:
        state = self.world.state
        if fault.kind is not None and not fault.drop_after:
            state.count_fault(fault.kind)
            return _fault_response(fault)
        self.catch_up()
        try:
            response = self._dispatch(route, ctx)
        except ApiError as error:
            response = error_response(error)
        if fault.drop_after:
            state.count_fault("drop_after")
            response.drop_connection = True
        return response

    def _dispatch(self, route: Route, ctx: RequestContext) -> Response:
        if route.kind == "sandbox":
            control = CONTROL_ROUTES.get((ctx.method, ctx.path.rstrip("/")))
            if control is None:
                raise ApiError(404, "not_found", f"No sandbox route {ctx.method} {ctx.path}.")
            return control(ctx, self)
        if route.handler is None:
            if route.method_not_allowed:
                raise ApiError(405, "method_not_allowed", f'Method "{ctx.method}" not allowed.')
            raise ApiError(404, "not_found", f"No route matches {ctx.path}.")
        if route.kind == "oauth":
            return route.handler(ctx, self.world)
        ctx.revision = self._revision(ctx)
        _check_body_type(ctx)
        if route.endpoint is None:
            raise ApiError(404, "not_found", f"No route matches {ctx.path}.")
        if not route.endpoint.available_at(ctx.revision.release, ctx.revision.beta):
            raise ApiError(
                404,
                "not_found",
                f"No route matches {ctx.method} {ctx.path} at revision {ctx.revision.served}.",
            )
        principal = self._principal(route, ctx)
        return self._limited(route, route.endpoint, route.handler, ctx, principal)

    def _revision(self, ctx: RequestContext) -> Revision:
        """The release serving the request's `revision` header, as Klaviyo resolves it."""
        today = datetime.fromtimestamp(self.clock.now(), UTC).date()
        fall_forward = self.world.config.retired_revisions == "fall-forward"
        try:
            return resolve_revision(ctx.headers.get("revision"), today, fall_forward=fall_forward)
        except RevisionProblem as problem:
            if problem.kind == "retired":
                raise ApiError(410, "gone", str(problem), parameter="revision") from problem
            raise invalid(str(problem), parameter="revision") from problem

    def _principal(self, route: Route, ctx: RequestContext) -> Principal:
        if route.kind == "client":
            company = ctx.param("company_id") or "-"
            return Principal("public", frozenset(), f"client:{company}")
        return authenticate(ctx.headers.get("authorization"), self.world.state, self.clock.now())

    def _limited(
        self,
        route: Route,
        endpoint: Endpoint,
        handler: Handler,
        ctx: RequestContext,
        principal: Principal,
    ) -> Response:
        limits = limits_for(endpoint, wants_profile_count(ctx))
        state = self.world.state
        verdict = self.limiter.check(
            principal.bucket, limits, self.clock.now(), state.counters["daily_usage"]
        )
        if not verdict.allowed:
            state.count_throttled(endpoint.operation_id)
            raise throttled(verdict.retry_after)
        ctx.principal = principal
        try:
            if route.kind == "api":
                authorize(principal, endpoint, state)
            response = sparse(handler(ctx, self.world), requested_fieldsets(ctx.query))
        except ApiError as error:
            response = error_response(error)
        response.headers.update(verdict.headers)
        return response


def throttled(retry_after: int) -> ApiError:
    unit = "second" if retry_after == 1 else "seconds"
    return ApiError(
        429,
        "throttled",
        f"Request was throttled. Expected available in {retry_after} {unit}.",
        pointer="/data",
        headers={"Retry-After": str(retry_after)},
    )


def _fault_response(fault: Fault) -> Response:
    if fault.drop:
        return Response(0, drop_connection=True)
    if fault.status == 429:
        return error_response(throttled(1))
    status = fault.status or 500
    code = "service_unavailable" if status == 503 else "error"
    return error_response(ApiError(status, code, "Injected sandbox fault."))


def _check_body_type(ctx: RequestContext) -> None:
    if not ctx.body:
        return
    content_type = ctx.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in BODY_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f'Unsupported media type "{content_type}" in request; use application/vnd.api+json.',
        )
