"""Keyring backends for tests: an in-memory store and backends that misbehave on purpose.

Pass an instance to `CredentialStore(..., backend=...)`, or install one for code that uses the
global keyring with `keyring.set_keyring(...)`. None of them can be picked by keyring's own
backend detection: their `priority` refuses, so a test backend never leaks into a real run.
"""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.compat import properties
from keyring.errors import KeyringLocked, PasswordDeleteError


class _TestOnlyBackend(KeyringBackend):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test keyring backends are only used when passed in explicitly")

    def get_password(self, service: str, username: str) -> str | None:
        raise NotImplementedError


class MemoryKeyring(_TestOnlyBackend):
    """A working keyring kept in a dict keyed by (service, username)."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.calls: list[tuple[str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append(("get", username))
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append(("set", username))
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append(("delete", username))
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such entry")


class TripwireKeyring(_TestOnlyBackend):
    """Records and refuses every call: for code paths that must never reach the keyring."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def _refuse(self, operation: str) -> None:
        self.calls.append(operation)
        raise AssertionError(f"the keyring was called ({operation}) but must not be")

    def get_password(self, service: str, username: str) -> str | None:
        self._refuse("get")
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._refuse("set")

    def delete_password(self, service: str, username: str) -> None:
        self._refuse("delete")


class HangingKeyring(_TestOnlyBackend):
    """Blocks every call until `release()`, like a Secret Service waiting on an unlock prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()
        self.calls = 0

    def release(self) -> None:
        self.released.set()

    def _hang(self) -> None:
        self.calls += 1
        self.released.wait(timeout=60)

    def get_password(self, service: str, username: str) -> str | None:
        self._hang()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._hang()

    def delete_password(self, service: str, username: str) -> None:
        self._hang()


class LockedKeyring(_TestOnlyBackend):
    """Raises KeyringLocked, as the Secret Service backend does when an unlock is dismissed."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class GarblingKeyring(MemoryKeyring):
    """Accepts writes but keeps a changed value, so reading back does not match."""

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password[::-1] + "~")


def no_backend() -> KeyringBackend:
    """keyring's own stand-in when it finds no backend: every call raises NoKeyringError."""
    return fail.Keyring()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated


def disabled_backend() -> KeyringBackend:
    """keyring's null backend, which silently stores nothing and finds nothing."""
    return null.Keyring()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated
