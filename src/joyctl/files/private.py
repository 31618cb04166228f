"""Private files and folders: only their owner may read them, whatever the umask says.

The ledger, exports, quarantine files, bundles and credentials hold customers' emails, points
and secrets. Every layer creates such files, so this lives at the bottom with the standard
library only.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

# The ledger, exports, quarantine files, bundles and credentials hold customers' emails, points
# and secrets: only their owner may read them, whatever the umask says.
PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_folder(folder: Path, *, tighten_from: Path | None = None) -> Path:
    """Create `folder` and its missing parents with mode 0700.

    Existing folders keep their mode (a folder the user chose is theirs), except the levels
    from `tighten_from` down to `folder`: joyctl's own folders, which an older joyctl left
    open to everyone, are made 0700.
    """
    missing: list[Path] = []
    level = folder
    while not level.exists() and level.parent != level:
        missing.append(level)
        level = level.parent
    for created in reversed(missing):
        # Another process may have made it a moment ago; it is joyctl's all the same.
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=PRIVATE_FOLDER_MODE)
        restrict_to_owner(created, PRIVATE_FOLDER_MODE, always=True)
    if tighten_from is not None:
        for own in (tighten_from, *_levels_between(tighten_from, folder)):
            restrict_to_owner(own, PRIVATE_FOLDER_MODE)
    return folder


def restrict_to_owner(path: Path, mode: int = PRIVATE_FILE_MODE, *, always: bool = False) -> None:
    """Set `mode` when the path is open to group or others (or `always`); POSIX only."""
    if os.name != "posix":
        return  # Windows keeps files in the user's profile, private by its ACLs
    if always or path.stat().st_mode & 0o077:
        os.chmod(path, mode)


def _levels_between(top: Path, folder: Path) -> list[Path]:
    try:
        parts = folder.relative_to(top).parts
    except ValueError:
        return []
    return [top.joinpath(*parts[: index + 1]) for index in range(len(parts))]
