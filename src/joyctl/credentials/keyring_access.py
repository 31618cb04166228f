"""Calls into the OS keyring, each bounded by a timeout, with every failure made explicit.

The `keyring` library has no timeouts of its own, and a Secret Service that is locked, or
reached without a D-Bus session (SSH, containers, CI, WSL), can block a call forever. So each
call runs in a daemon thread that is abandoned when the time is up; a daemon thread cannot
keep the process alive at exit. Once the keyring has failed or timed out, later calls fail at
once instead of waiting again, so one command never pays the timeout more than once.

`keyring` itself is imported only when a call is made: a command that gets its credential from
the environment never loads or probes the keyring.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from typing import TYPE_CHECKING, TypeVar

from joyctl import envvars
from joyctl.credentials.model import SERVICE_NAME, with_lookup_order
from joyctl.errors import CredentialStoreError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

DEFAULT_TIMEOUT_SECONDS = 3.0

Result = TypeVar("Result")
Advice = Callable[[str, bool], str]
"""The hint for a keyring failure, from its reason and whether no keyring exists at all."""

log = logging.getLogger(__name__)


def keyring_advice(environ: Mapping[str, str] | None = None, *, missing: bool = False) -> str:
    """What to do when the keyring cannot be used, in the order that fits the situation.

    Under CI, or with no keyring at all, the environment variables come first (and only
    those not set already); on a desktop whose keyring is locked or failing, the keyring.
    """
    variables = {} if environ is None else environ
    already = any(
        variables.get(name, "").strip() for name in (envvars.API_KEY, envvars.ACCESS_TOKEN)
    )
    service = "install and unlock a Secret Service such as gnome-keyring (it needs a D-Bus session)"
    environment = (
        None
        if already
        else f"set {envvars.API_KEY} or {envvars.ACCESS_TOKEN} in the environment (CI, containers)"
    )
    insecure = (
        "pass --insecure-storage to keep this profile's secrets in a file only you can read "
        "(mode 0600; the profile remembers the choice)"
    )
    if missing or under_ci(variables):
        steps = [environment, insecure, service]
    else:
        steps = [service, environment, insecure]
    chosen = [step for step in steps if step]
    text = ", or ".join(chosen)
    return with_lookup_order(text[0].upper() + text[1:] + ".")


def under_ci(environ: Mapping[str, str]) -> bool:
    """A CI runner sets CI; nobody is there to unlock a keyring or open a browser."""
    return environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


KEYRING_ADVICE = keyring_advice()


class KeyringUnavailableError(CredentialStoreError):
    """The keyring is missing, disabled, locked, failing or too slow; `reason` says which, and
    `missing` is true when there is no keyring at all (no backend, or a disabled one)."""

    def __init__(self, reason: str, *, advice: str = KEYRING_ADVICE, missing: bool = False) -> None:
        super().__init__(f"the OS keyring is unavailable: {reason}", hint=advice)
        self.reason = reason
        self.missing = missing


def backend_name(backend: KeyringBackend) -> str:
    """The backend's import path, the form PYTHON_KEYRING_BACKEND accepts."""
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


class BoundedKeyring:
    """The keyring operations the store needs, each one bounded by `timeout` seconds."""

    def __init__(
        self, backend: KeyringBackend | None, timeout: float, advice: Advice | None = None
    ) -> None:
        if timeout <= 0:
            raise ValueError("the keyring timeout must be positive")
        self._requested = backend
        self._timeout = timeout
        self._advice = advice
        self._usable: KeyringBackend | None = None
        self._name: str | None = backend_name(backend) if backend is not None else None
        self._unusable_reason: str | None = None
        self._missing = False

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def name(self) -> str | None:
        """The backend's name once it is known; None before the first call or on a hang."""
        return self._name

    @property
    def unusable_reason(self) -> str | None:
        return self._unusable_reason

    def unavailable(self, reason: str, *, missing: bool = False) -> KeyringUnavailableError:
        """The error for an unusable keyring, with the advice this keyring was given."""
        if self._advice is None:
            return KeyringUnavailableError(reason, missing=missing)
        return KeyringUnavailableError(
            reason, advice=self._advice(reason, missing), missing=missing
        )

    def ensure_usable(self) -> KeyringBackend:
        """Find the backend (bounded, since detection itself talks to D-Bus) and vet it."""
        if self._usable is None:
            self._usable = self._bounded("find the keyring backend", self._detect)
        return self._usable

    def get(self, username: str) -> str | None:
        backend = self.ensure_usable()
        return self._bounded(
            f"read {username}", lambda: backend.get_password(SERVICE_NAME, username)
        )

    def set(self, username: str, secret: str) -> None:
        backend = self.ensure_usable()
        self._bounded(
            f"store {username}",
            lambda: backend.set_password(SERVICE_NAME, username, secret),
            hide=secret,
        )

    def delete(self, username: str) -> bool:
        """Remove the entry; False when there was none."""
        backend = self.ensure_usable()

        def remove() -> bool:
            from keyring.errors import PasswordDeleteError

            try:
                backend.delete_password(SERVICE_NAME, username)
            except PasswordDeleteError:
                return False
            return True

        return self._bounded(f"delete {username}", remove)

    def _detect(self) -> KeyringBackend:
        backend = self._requested if self._requested is not None else _default_backend()
        self._name = backend_name(backend)
        reason = _disabled_reason(backend)
        if reason is not None:
            raise KeyringUnavailableError(reason, missing=True)
        return backend

    def _bounded(
        self, action: str, call: Callable[[], Result], *, hide: str | None = None
    ) -> Result:
        if self._unusable_reason is not None:
            raise self.unavailable(self._unusable_reason, missing=self._missing)
        future: Future[Result] = Future()

        def work() -> None:
            try:
                future.set_result(call())
            except Exception as exc:  # handed to the caller's thread below
                future.set_exception(exc)

        started = time.monotonic()
        threading.Thread(target=work, name="joyctl-keyring", daemon=True).start()
        done, _ = wait([future], timeout=self._timeout)
        log.debug("keyring: %s took %.3fs", action, time.monotonic() - started)
        if not done:
            reason = (
                f"no answer within {self._timeout:g}s while trying to {action} "
                "(a locked Secret Service or one without a D-Bus session can hang)"
            )
        else:
            error = future.exception()
            if error is None:
                return future.result()
            reason = _failure_reason(error, hide)
            self._missing = _means_missing(error)
        # Raised outside any handler so the backend's own exception is never chained on.
        self._unusable_reason = reason
        raise self.unavailable(reason, missing=self._missing)


def _default_backend() -> KeyringBackend:
    import keyring

    return keyring.get_keyring()


def _disabled_reason(backend: KeyringBackend) -> str | None:
    """Why a backend that would never store anything is unusable, or None if it may work."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring):
        return "no keyring backend was found (no Secret Service, KWallet, macOS or Windows store)"
    if isinstance(backend, null.Keyring):
        return "the keyring is disabled (null backend, e.g. from PYTHON_KEYRING_BACKEND)"
    if isinstance(backend, chainer.ChainerBackend) and not chainer.ChainerBackend.backends:
        return "no keyring backend was found (the chainer backend has nothing to chain)"
    return None


def _means_missing(error: BaseException) -> bool:
    from keyring.errors import NoKeyringError

    if isinstance(error, KeyringUnavailableError):
        return error.missing
    return isinstance(error, NoKeyringError)


def _failure_reason(error: BaseException, hide: str | None) -> str:
    from keyring.errors import InitError, KeyringLocked, NoKeyringError

    if isinstance(error, KeyringUnavailableError):
        return error.reason
    if isinstance(error, KeyringLocked):
        return "the keyring is locked and could not be unlocked"
    if isinstance(error, NoKeyringError):
        return "no keyring backend was found"
    detail = str(error)
    if hide:
        # Backends are not known to quote the secret being stored, but nothing guarantees it.
        detail = detail.replace(hide, "***")
    what = "could not be opened" if isinstance(error, InitError) else "failed"
    return f"the keyring backend {what} ({type(error).__name__}: {detail})"
