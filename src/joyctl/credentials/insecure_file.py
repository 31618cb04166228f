"""The opt-in plain-text secrets file, for machines without a usable keyring.

Used for writing only when the user passed --insecure-storage. The file holds keyring
usernames mapped to secrets, is created with mode 0600 in a 0700 folder, and is replaced
atomically: the new content is written to a temporary file opened with mode 0600 from the
start, then renamed over the old one, so no reader ever sees it half-written or with looser
permissions.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

from joyctl.command_line import command
from joyctl.credentials.model import with_lookup_order
from joyctl.errors import CredentialStoreError
from joyctl.files.atomic import write_atomic
from joyctl.paths import make_private_folder

FILE_NAME = "credentials.json"
FILE_FORMAT = "joyctl-credentials/1"
FILE_MODE = 0o600
FOLDER_MODE = 0o700

_WARNING = (
    "Plain-text joyctl secrets. Do not share or commit this file. "
    "Move them to the OS keyring with: joyctl auth migrate"
)

log = logging.getLogger(__name__)


class InsecureFile:
    """Secrets in `<folder>/credentials.json`, keyed by keyring username."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME

    def exists(self) -> bool:
        return self.path.is_file()

    def read_all(self) -> dict[str, str]:
        """Every stored secret; empty when the file does not exist."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise self._error("could not be read", exc) from None
        self._tighten_permissions()
        return self._parse(text)

    def get(self, username: str) -> str | None:
        return self.read_all().get(username)

    def put(self, username: str, secret: str) -> None:
        entries = self.read_all()
        entries[username] = secret
        self._write(entries)

    def remove(self, username: str) -> bool:
        """Drop one secret (and the file with its last one); False when it was not there."""
        entries = self.read_all()
        if username not in entries:
            return False
        del entries[username]
        self._write(entries)
        return True

    def _parse(self, text: str) -> dict[str, str]:
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        entries = document.get("secrets") if isinstance(document, dict) else None
        if not isinstance(entries, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in entries.items()
        ):
            # No detail from the parser: its messages can quote the file's content.
            raise CredentialStoreError(
                f"the insecure credentials file {self.path} is damaged",
                hint=with_lookup_order(
                    f"Delete it and store the secrets again (`{command('connect')}`)."
                ),
            )
        return dict(entries)

    def _write(self, entries: dict[str, str]) -> None:
        try:
            if not entries:
                self.path.unlink(missing_ok=True)
                return
            self._prepare_folder()
            document = {"format": FILE_FORMAT, "warning": _WARNING, "secrets": entries}
            text = json.dumps(document, indent=2, sort_keys=True) + "\n"
            write_atomic(self.path, text, mode=FILE_MODE)
        except OSError as exc:
            raise self._error("could not be written", exc) from None

    def _prepare_folder(self) -> None:
        folder = self.path.parent
        # The profile's own folder, made exactly 0700 even if it existed; parents made 0700 too.
        make_private_folder(folder)
        if os.name == "posix" and stat.S_IMODE(folder.stat().st_mode) != FOLDER_MODE:
            os.chmod(folder, FOLDER_MODE)

    def _tighten_permissions(self) -> None:
        if os.name != "posix":
            return
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            log.warning(
                "%s was readable by other users (mode %o); restricting it to %o",
                self.path,
                mode,
                FILE_MODE,
            )
            os.chmod(self.path, FILE_MODE)

    def _error(self, what: str, exc: OSError) -> CredentialStoreError:
        reason = exc.strerror or type(exc).__name__
        return CredentialStoreError(
            f"the insecure credentials file {self.path} {what}: {reason}",
            hint=with_lookup_order(f"Check the permissions of {self.path.parent}."),
        )
