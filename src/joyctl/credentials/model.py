"""The values the credential store hands out: secret names, token bundles, sources, reports.

Every secret is held in a pydantic `SecretStr`, whose repr and str are masked, so printing,
logging or raising any of these objects never shows a secret. Code that needs the value calls
`get_secret_value()` at the point of use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, SecretStr, ValidationError

from joyctl import envvars
from joyctl.command_line import command
from joyctl.errors import CredentialStoreError, UsageError

SERVICE_NAME = "joyctl"
"""The keyring service every joyctl secret is stored under."""

_STORES = (
    f"OS keyring (service '{SERVICE_NAME}') > insecure file (--insecure-storage; the only "
    "place looked once the profile keeps its secrets there)"
)

LOOKUP_ORDER = (
    f"flag or stdin > environment ({envvars.API_KEY}, {envvars.ACCESS_TOKEN}) > {_STORES}"
)
"""Where a Klaviyo credential is looked for, first match wins; the same for every command."""

CLIENT_SECRET_LOOKUP_ORDER = f"stdin > environment ({envvars.CLIENT_SECRET}) > {_STORES}"
"""Where the OAuth client secret is looked for; it is never accepted on the command line."""


def with_lookup_order(advice: str, order: str = LOOKUP_ORDER) -> str:
    """An auth error's hint: the advice, then the lookup order every auth error names."""
    return f"{advice} Credentials are looked up in this order: {order}."


SecretValue = TypeVar("SecretValue")


class SecretKind(StrEnum):
    """The kinds of secret a profile can hold; the value is the keyring username suffix."""

    # The values are names of secrets, not secrets, whatever the linter's heuristic thinks.
    API_KEY = "api_key"
    OAUTH_TOKENS = "oauth_tokens"
    CLIENT_SECRET = "client_secret"  # noqa: S105
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class SecretRef:
    """Names one secret of one profile; `username` is its keyring username."""

    profile: str
    kind: SecretKind
    webhook_id: str | None = None

    def __post_init__(self) -> None:
        _check_name_part("profile name", self.profile, allow_colon=False)
        if (self.kind is SecretKind.WEBHOOK) != (self.webhook_id is not None):
            raise ValueError("a webhook id is required for webhook secrets and only for them")
        if self.webhook_id is not None:
            # The id is the last part of the username, so a colon in it cannot be ambiguous.
            _check_name_part("webhook id", self.webhook_id, allow_colon=True)

    @property
    def username(self) -> str:
        if self.webhook_id is not None:
            return f"{self.profile}:{self.kind.value}:{self.webhook_id}"
        return f"{self.profile}:{self.kind.value}"

    @classmethod
    def from_username(cls, username: str) -> SecretRef | None:
        """The ref a stored username stands for, or None if it is not one of ours."""
        profile, _, rest = username.partition(":")
        kind_text, _, webhook_id = rest.partition(":")
        try:
            kind = SecretKind(kind_text)
            return cls(profile, kind, webhook_id or None)
        except ValueError:
            return None


def _check_name_part(what: str, value: str, *, allow_colon: bool) -> None:
    # Profile names become part of keyring usernames; a colon would let one profile's
    # names collide with another's, and control characters break keyring UIs.
    if not value or value != value.strip() or not value.isprintable():
        raise UsageError(f"invalid {what} {value!r}: it must be non-empty printable text")
    if not allow_colon and ":" in value:
        raise UsageError(f"invalid {what} {value!r}: it must not contain ':'")


class OAuthTokens(BaseModel):
    """The OAuth grant of a profile, stored as one JSON secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr
    refresh_token: SecretStr
    expires_at: AwareDatetime
    scopes: tuple[str, ...] = ()

    def expires_within(self, margin: timedelta, now: datetime | None = None) -> bool:
        """True when the access token expires in less than `margin` (refresh it first)."""
        current = now if now is not None else datetime.now(UTC)
        return self.expires_at - current < margin

    def to_secret_json(self) -> str:
        """The unmasked JSON form written to the keyring or the insecure file."""
        return json.dumps(
            {
                "access_token": self.access_token.get_secret_value(),
                "refresh_token": self.refresh_token.get_secret_value(),
                "expires_at": self.expires_at.isoformat(),
                "scopes": list(self.scopes),
            },
            sort_keys=True,
        )

    @classmethod
    def from_secret_json(cls, text: str, where: str) -> OAuthTokens:
        """Parse the stored form; a damaged entry becomes an error that shows none of it."""
        try:
            return cls.model_validate_json(text)
        except ValidationError:
            # Raised outside the handler: pydantic's message quotes the input, tokens included.
            pass
        raise CredentialStoreError(
            f"the stored OAuth tokens in {where} are damaged",
            hint=with_lookup_order(f"Run `{command('connect')}` again to replace them."),
        )


class SecretStorage(StrEnum):
    """Where a profile keeps its secrets: chosen at the first write, then every write goes there."""

    KEYRING = "keyring"
    FILE = "file"  # the 0600 file, chosen with --insecure-storage when the keyring is unusable


class CredentialKind(StrEnum):
    """What a resolved credential is, which decides how it is sent."""

    # Each value names a kind of credential (the linter takes them for passwords):
    # an API key is sent as `Authorization: Klaviyo-API-Key ...`, an access token as
    # `Authorization: Bearer ...`, a client secret only authenticates the OAuth client.
    API_KEY = "api_key"
    ACCESS_TOKEN = "access_token"  # noqa: S105
    CLIENT_SECRET = "client_secret"  # noqa: S105


class CredentialSource(StrEnum):
    """Where a credential was found, in lookup order."""

    FLAG = "flag"
    STDIN = "stdin"
    ENV = "env"
    KEYRING = "keyring"
    FILE = "file"


@dataclass(frozen=True)
class Stored(Generic[SecretValue]):
    """A secret read from storage, with where it was found (backend name or file path)."""

    value: SecretValue
    source: CredentialSource
    origin: str


@dataclass(frozen=True)
class ResolvedCredential:
    """The credential a command will use, and where it came from (for errors and `status`).

    `origin` names the flag, the environment variable, the keyring backend or the file path.
    `tokens` is the whole stored OAuth grant when the access token came from storage, so the
    client can refresh it; an access token from the environment cannot be refreshed.
    """

    kind: CredentialKind
    secret: SecretStr
    source: CredentialSource
    origin: str
    tokens: OAuthTokens | None = None

    def describe(self) -> str:
        """Human wording for the source, e.g. "environment variable JOYCTL_KLAVIYO_API_KEY"."""
        if self.source is CredentialSource.KEYRING:
            return plain_store_name(self.origin)
        wording = {
            CredentialSource.FLAG: "flag",
            CredentialSource.STDIN: "standard input via",
            CredentialSource.ENV: "environment variable",
            CredentialSource.KEYRING: "OS keyring",
            CredentialSource.FILE: "insecure file",
        }[self.source]
        return f"{wording} {self.origin}"


# Keyring backends as people know them, by the import path joyctl records (the form
# PYTHON_KEYRING_BACKEND takes, kept in --json output for scripts).
_PLAIN_STORE_NAMES = {
    "keyring.backends.SecretService.Keyring": "the Secret Service keyring (GNOME Keyring, KWallet)",
    "keyring.backends.libsecret.Keyring": "the Secret Service keyring (libsecret)",
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.macOS.Keyring": "the macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
    "keyring.backends.chainer.ChainerBackend": "the OS keyring",
    "keyring.backends.fail.Keyring": "no keyring (none was found)",
    "keyring.backends.null.Keyring": "no keyring (turned off by the null backend)",
    "keyrings.alt.file.PlaintextKeyring": "a plain-text keyring file (keyrings.alt)",
    "keyrings.alt.file.EncryptedKeyring": "an encrypted keyring file (keyrings.alt)",
}
# The built-in sandbox profile keeps the emulator's fake credentials in a file of its own.
_EMULATOR_SECRETS = "EmulatorSecretsFile"


def plain_store_name(backend: str | None) -> str:
    """Where secrets are kept, in plain words: "the macOS Keychain", not a class's path."""
    if not backend:
        return "the OS keyring"
    if backend in _PLAIN_STORE_NAMES:
        return _PLAIN_STORE_NAMES[backend]
    name = backend.rsplit(".", 1)[-1]
    if name == _EMULATOR_SECRETS:
        return "the sandbox profile's data folder (the emulator's own test credentials)"
    return f"the keyring backend {name}"


@dataclass(frozen=True)
class SecretLocation:
    """Where one secret lives: the keyring (origin is the backend) or the file (its path)."""

    username: str
    source: CredentialSource
    origin: str
    note: str | None = None


@dataclass(frozen=True)
class DeleteOutcome:
    """What deleting a secret did; `keyring_unreachable` says why the keyring was not checked."""

    username: str
    removed_from: tuple[CredentialSource, ...]
    keyring_unreachable: str | None = None


@dataclass(frozen=True)
class KeyringStatus:
    backend: str | None
    available: bool
    reason: str | None = None


@dataclass(frozen=True)
class StorageReport:
    """Where each of a profile's secrets lives, for `status` and `diagnose`; `storage` is
    where the next write goes."""

    profile: str
    keyring: KeyringStatus
    file_path: Path
    file_exists: bool
    secrets: tuple[SecretLocation, ...]
    storage: SecretStorage = SecretStorage.KEYRING


@dataclass(frozen=True)
class MigrationReport:
    """The outcome of moving the insecure file's secrets into the keyring."""

    moved: tuple[str, ...]
    conflicts: tuple[str, ...]  # a different value already in the keyring; left in the file
    file_path: Path
    file_removed: bool
    storage: SecretStorage = SecretStorage.KEYRING  # where the profile's writes go afterwards
