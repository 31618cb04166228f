"""The credential store of one profile: the OS keyring first, an opt-in 0600 file second.

Every secret written to the keyring is read back before the write counts; a secret lives in
one place only (storing it in the keyring removes any copy from the file). Reads follow the
lookup order's storage part, keyring then file, and say where the secret was found. A profile
that chose the file (with --insecure-storage, where no keyring could be used) keeps to it:
writes go there and reads look nowhere else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from joyctl.command_line import command
from joyctl.credentials.insecure_file import InsecureFile
from joyctl.credentials.keyring_access import (
    DEFAULT_TIMEOUT_SECONDS,
    BoundedKeyring,
    KeyringUnavailableError,
    keyring_advice,
)
from joyctl.credentials.model import (
    CredentialSource,
    DeleteOutcome,
    KeyringStatus,
    MigrationReport,
    OAuthTokens,
    SecretKind,
    SecretLocation,
    SecretRef,
    SecretStorage,
    StorageReport,
    Stored,
    with_lookup_order,
)
from joyctl.errors import CredentialStoreError, UsageError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend


def migrate_advice() -> str:
    return with_lookup_order(
        "Install and unlock a Secret Service such as gnome-keyring (it needs a D-Bus session), "
        f"then run `{command('auth', 'migrate')}` again; the secrets stay in the file until then."
    )


StorageChosen = Callable[[SecretStorage], None]


def _advice_for(environ: Mapping[str, str] | None) -> Callable[[str, bool], str] | None:
    if environ is None:
        return None

    def advice(_reason: str, missing: bool) -> str:
        return keyring_advice(environ, missing=missing)

    return advice


class CredentialStore:
    """Typed secrets of one profile.

    `folder` is the profile's own folder, where the insecure file goes. `backend` replaces the
    keyring's detected backend (tests pass an in-memory one). `allow_insecure_file` is the
    user's --insecure-storage: only then may a write fall back to the file when the keyring
    is unavailable. Nothing touches the keyring until a method needs it.

    `storage` is where the profile keeps its secrets, as it chose before (None: not chosen yet,
    so the keyring, falling back to the file only when allowed). Once a profile keeps them in
    the file, every write goes there and reads look nowhere else, so a machine without a
    keyring never waits for one; `on_storage_chosen` is told whenever the choice is made or
    changes, to remember it. `environ` fits the advice of keyring errors to the situation.
    """

    def __init__(
        self,
        profile: str,
        folder: Path,
        *,
        backend: KeyringBackend | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        allow_insecure_file: bool = False,
        storage: SecretStorage | None = None,
        on_storage_chosen: StorageChosen | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.profile = profile
        self.allow_insecure_file = allow_insecure_file
        self._storage = storage
        self._on_storage_chosen = on_storage_chosen
        self._keyring = BoundedKeyring(backend, timeout, _advice_for(environ))
        self._file = InsecureFile(folder)
        SecretRef(profile, SecretKind.API_KEY)  # validates the profile name now, not later

    @property
    def file_path(self) -> Path:
        return self._file.path

    @property
    def storage(self) -> SecretStorage:
        """Where the next write goes (the keyring until the profile chose the file)."""
        return self._storage or SecretStorage.KEYRING

    @property
    def storage_chosen(self) -> bool:
        """Whether the profile has made its choice (a write or `auth migrate` made it)."""
        return self._storage is not None

    def adopt_earlier_choice(self) -> None:
        """A profile from before the choice was remembered, whose credential is in the file,
        chose the file: keep using it (and say so at the next write)."""
        if self._storage is not None:
            return
        in_file = self._file.read_all()
        credential = (self.ref(SecretKind.OAUTH_TOKENS), self.ref(SecretKind.API_KEY))
        if any(ref.username in in_file for ref in credential):
            self._storage = SecretStorage.FILE

    def _choose(self, storage: SecretStorage) -> None:
        if self._storage is storage:
            return
        self._storage = storage
        if self._on_storage_chosen is not None:
            self._on_storage_chosen(storage)

    def check_writable(self) -> SecretStorage:
        """Where a write would go, asked before anything is done that a failed write would
        waste (a browser login, a webhook created in Klaviyo). Raises KeyringUnavailableError
        when the keyring is needed, cannot be used, and the file is not allowed."""
        if self.storage is SecretStorage.FILE:
            return SecretStorage.FILE
        try:
            self._keyring.get(self.ref(SecretKind.API_KEY).username)
        except KeyringUnavailableError:
            if self.allow_insecure_file:
                return SecretStorage.FILE
            raise
        return SecretStorage.KEYRING

    def ref(self, kind: SecretKind, webhook_id: str | None = None) -> SecretRef:
        return SecretRef(self.profile, kind, webhook_id)

    # Typed access, one group per secret kind.

    def read_api_key(self) -> Stored[SecretStr] | None:
        return self.read(self.ref(SecretKind.API_KEY))

    def write_api_key(self, api_key: SecretStr) -> SecretLocation:
        return self.write(self.ref(SecretKind.API_KEY), api_key)

    def delete_api_key(self) -> DeleteOutcome:
        return self.delete(self.ref(SecretKind.API_KEY))

    def read_oauth_tokens(self) -> Stored[OAuthTokens] | None:
        found = self.read(self.ref(SecretKind.OAUTH_TOKENS))
        if found is None:
            return None
        tokens = OAuthTokens.from_secret_json(found.value.get_secret_value(), found.origin)
        return Stored(tokens, found.source, found.origin)

    def write_oauth_tokens(self, tokens: OAuthTokens) -> SecretLocation:
        return self.write(self.ref(SecretKind.OAUTH_TOKENS), SecretStr(tokens.to_secret_json()))

    def delete_oauth_tokens(self) -> DeleteOutcome:
        return self.delete(self.ref(SecretKind.OAUTH_TOKENS))

    def read_client_secret(self) -> Stored[SecretStr] | None:
        return self.read(self.ref(SecretKind.CLIENT_SECRET))

    def write_client_secret(self, client_secret: SecretStr) -> SecretLocation:
        return self.write(self.ref(SecretKind.CLIENT_SECRET), client_secret)

    def delete_client_secret(self) -> DeleteOutcome:
        return self.delete(self.ref(SecretKind.CLIENT_SECRET))

    def read_webhook_secret(self, webhook_id: str) -> Stored[SecretStr] | None:
        return self.read(self.ref(SecretKind.WEBHOOK, webhook_id))

    def write_webhook_secret(self, webhook_id: str, secret: SecretStr) -> SecretLocation:
        return self.write(self.ref(SecretKind.WEBHOOK, webhook_id), secret)

    def delete_webhook_secret(self, webhook_id: str) -> DeleteOutcome:
        return self.delete(self.ref(SecretKind.WEBHOOK, webhook_id))

    # Generic access by reference.

    def read(self, ref: SecretRef) -> Stored[SecretStr] | None:
        found = self.read_first([ref])
        return None if found is None else found[1]

    def read_first(self, refs: Sequence[SecretRef]) -> tuple[SecretRef, Stored[SecretStr]] | None:
        """The first of `refs` held by the keyring, else the first held by the file.

        An unreachable keyring is an error only when the file holds none of them either,
        since the keyring might hold one.
        """
        if self.storage is SecretStorage.FILE:
            return self._read_file_only(refs)
        unreachable: KeyringUnavailableError | None = None
        for ref in refs:
            try:
                text = self._keyring.get(ref.username)
            except KeyringUnavailableError as exc:
                unreachable = exc
                break
            if text is not None:
                source, origin = CredentialSource.KEYRING, self._backend_name()
                return ref, Stored(SecretStr(text), source, origin)
        in_file = self._file.read_all()
        for ref in refs:
            if ref.username in in_file:
                secret = SecretStr(in_file[ref.username])
                return ref, Stored(secret, CredentialSource.FILE, str(self.file_path))
        if unreachable is not None:
            raise self._keyring.unavailable(unreachable.reason, missing=unreachable.missing)
        return None

    def _read_file_only(
        self, refs: Sequence[SecretRef]
    ) -> tuple[SecretRef, Stored[SecretStr]] | None:
        in_file = self._file.read_all()
        for ref in refs:
            if ref.username in in_file:
                secret = SecretStr(in_file[ref.username])
                return ref, Stored(secret, CredentialSource.FILE, str(self.file_path))
        return None

    def write(self, ref: SecretRef, secret: SecretStr) -> SecretLocation:
        """Store where the profile keeps its secrets: the keyring (verified by reading back),
        or the file once chosen; a keyring that cannot be used falls back to the file (which
        the profile then keeps) only when allowed."""
        text = secret.get_secret_value()
        if not text or text != text.strip():
            raise UsageError(f"refusing to store an empty or space-padded {ref.kind.value}")
        if self.storage is SecretStorage.FILE:
            self._file.put(ref.username, text)
            note = "stored unencrypted: this profile keeps its secrets in the insecure file"
            return SecretLocation(ref.username, CredentialSource.FILE, str(self.file_path), note)
        try:
            self._store_verified(ref.username, text)
        except KeyringUnavailableError as exc:
            if not self.allow_insecure_file:
                raise
            self._file.put(ref.username, text)
            self._choose(SecretStorage.FILE)
            return SecretLocation(
                ref.username,
                CredentialSource.FILE,
                str(self.file_path),
                note=f"stored unencrypted because {exc.reason}",
            )
        self._file.remove(ref.username)
        self._choose(SecretStorage.KEYRING)
        return SecretLocation(ref.username, CredentialSource.KEYRING, self._backend_name())

    def delete(self, ref: SecretRef) -> DeleteOutcome:
        """Remove from the file and the keyring; deleting what is not there is fine."""
        removed: list[CredentialSource] = []
        if self._file.remove(ref.username):
            removed.append(CredentialSource.FILE)
        try:
            if self._keyring.delete(ref.username):
                removed.append(CredentialSource.KEYRING)
        except KeyringUnavailableError as exc:
            return DeleteOutcome(ref.username, tuple(removed), keyring_unreachable=exc.reason)
        return DeleteOutcome(ref.username, tuple(removed))

    def delete_all(self, webhook_ids: Iterable[str] = ()) -> tuple[DeleteOutcome, ...]:
        """Remove every secret of the profile (for disconnect), including webhook secrets
        known to the caller or present in the file (the keyring cannot list them)."""
        return tuple(self.delete(ref) for ref in self._known_refs(webhook_ids))

    # Status and migration.

    def keyring_status(self) -> KeyringStatus:
        """Whether the keyring can be used, probing it (bounded) if nothing has yet."""
        try:
            self._keyring.get(self.ref(SecretKind.API_KEY).username)
        except KeyringUnavailableError as exc:
            return KeyringStatus(self._keyring.name, available=False, reason=exc.reason)
        return KeyringStatus(self._keyring.name, available=True)

    def report(self, webhook_ids: Iterable[str] = ()) -> StorageReport:
        """Where each of the profile's secrets lives; secrets that exist nowhere are omitted."""
        status = self.keyring_status()
        in_file = self._file.read_all()
        locations: list[SecretLocation] = []
        for ref in self._known_refs(webhook_ids):
            if status.available and self._in_keyring(ref.username):
                locations.append(
                    SecretLocation(ref.username, CredentialSource.KEYRING, self._backend_name())
                )
            if ref.username in in_file:
                locations.append(
                    SecretLocation(ref.username, CredentialSource.FILE, str(self.file_path))
                )
        failure = self._keyring.unusable_reason
        if status.available and failure is not None:  # it stopped answering part way through
            status = KeyringStatus(self._keyring.name, available=False, reason=failure)
        return StorageReport(
            self.profile,
            status,
            self.file_path,
            self._file.exists(),
            tuple(locations),
            self.storage,
        )

    def _in_keyring(self, username: str) -> bool:
        try:
            return self._keyring.get(username) is not None
        except KeyringUnavailableError:
            return False

    def migrate_to_keyring(self) -> MigrationReport:
        """Move every secret of the file into the keyring, verifying each before deleting it
        from the file, and the profile with them: its later writes go to the keyring. A
        different value already in the keyring is a conflict: both stay, and so does the
        profile's choice until it is resolved."""
        entries = self._file.read_all()
        moved: list[str] = []
        conflicts: list[str] = []
        if not entries and self.storage is SecretStorage.KEYRING:
            return MigrationReport((), (), self.file_path, file_removed=True)
        try:
            self._keyring.ensure_usable()
            for username, text in entries.items():
                existing = self._keyring.get(username)
                if existing is None:
                    self._store_verified(username, text)
                if existing is not None and existing != text:
                    conflicts.append(username)
                    continue
                self._file.remove(username)
                moved.append(username)
        except KeyringUnavailableError as exc:
            raise KeyringUnavailableError(exc.reason, advice=migrate_advice()) from None
        if not conflicts:
            self._choose(SecretStorage.KEYRING)
        return MigrationReport(
            tuple(moved),
            tuple(conflicts),
            self.file_path,
            file_removed=not self._file.exists(),
            storage=self.storage,
        )

    def _store_verified(self, username: str, text: str) -> None:
        self._keyring.set(username, text)
        if self._keyring.get(username) == text:
            return
        # Whatever the keyring holds now is not what joyctl meant to store: do not leave it.
        with contextlib.suppress(KeyringUnavailableError):
            self._keyring.delete(username)
        raise CredentialStoreError(
            f"the OS keyring ({self._backend_name()}) returned something else when "
            f"{username} was read back after storing it; nothing was kept",
            hint=with_lookup_order(
                "Check the keyring (for example with `keyring diagnose`), or disable it with "
                "PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring and pass "
                "--insecure-storage."
            ),
            code="keyring_mismatch",
        )

    def _known_refs(self, webhook_ids: Iterable[str]) -> list[SecretRef]:
        refs = [
            self.ref(SecretKind.API_KEY),
            self.ref(SecretKind.OAUTH_TOKENS),
            self.ref(SecretKind.CLIENT_SECRET),
        ]
        from_file = (SecretRef.from_username(name) for name in self._file.read_all())
        file_webhooks = [
            ref.webhook_id
            for ref in from_file
            if ref is not None and ref.profile == self.profile and ref.webhook_id is not None
        ]
        for webhook_id in dict.fromkeys([*webhook_ids, *file_webhooks]):
            refs.append(self.ref(SecretKind.WEBHOOK, webhook_id))
        return refs

    def _backend_name(self) -> str:
        return self._keyring.name or "the OS keyring"
