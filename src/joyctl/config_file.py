"""Reading and writing config.toml: profiles and settings, never secrets."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from joyctl.errors import ConfigError
from joyctl.files.atomic import write_atomic
from joyctl.paths import make_private_folder


def read_config(path: Path) -> dict[str, Any]:
    """The parsed file, or an empty table when it does not exist yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}", hint="check the file's permissions"
        ) from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}",
            hint="fix the file by hand, or move it away to start from defaults",
        ) from exc


def write_config(path: Path, data: dict[str, Any]) -> None:
    """Atomically replace the file, so a crash never leaves half a config behind.

    The file is 0600, in a folder made 0700: profiles name accounts and clients.
    """
    import tomli_w

    make_private_folder(path.parent, tighten_from=path.parent)  # joyctl's own config folder
    write_atomic(path, tomli_w.dumps(_drop_none(data)), mode=0o600)


def _drop_none(value: Any) -> Any:
    # TOML has no null: an unset value is simply absent.
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value
