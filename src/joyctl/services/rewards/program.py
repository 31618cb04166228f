"""`joyctl program show|set|history`: the write-review program, versioned in the ledger.

The program lives in the profile's ledger rather than in config.toml so that every change is
recorded with its time next to the rewards it governs ("which rules applied last March?").
The latest `program_versions` row is the program; with no row, the engine's defaults apply.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from joyctl.command_line import command
from joyctl.engine import (
    WriteReviewProgram,
    apply_setting,
    program_from_mapping,
    settable_keys,
)
from joyctl.engine.program import DEFAULT_PROGRAM_ID
from joyctl.errors import ConfigError, DataError
from joyctl.files import limits
from joyctl.ledger.db import transaction
from joyctl.ledger.programs import (
    ProgramVersion,
    latest_program_version,
    program_versions,
    record_program_version,
)


class SettingRow(BaseModel):
    key: str
    value: Any
    type: str
    default: Any
    description: str


class ProgramView(BaseModel):
    program_id: str
    version: int | None
    """The program_versions row in force; None while the defaults apply."""
    changed_at: str | None
    program: WriteReviewProgram
    settings: list[SettingRow]


class ProgramChange(BaseModel):
    changed: bool
    changed_keys: list[str]
    version: int | None
    changed_at: str | None
    program: WriteReviewProgram


class ProgramVersionView(BaseModel):
    version: int
    changed_at: str
    changed_keys: list[str]
    settings: dict[str, Any]


class ProgramHistory(BaseModel):
    program_id: str
    versions: list[ProgramVersionView]


class ProgramNotice(BaseModel):
    """Why reviews earn nothing right now, and the `joyctl program` arguments that change it."""

    problem: str
    fix: str


def current_program(connection: sqlite3.Connection) -> WriteReviewProgram:
    """The program in force, for services that decide rewards."""
    return _load(connection)[0]


def _load(connection: sqlite3.Connection) -> tuple[WriteReviewProgram, ProgramVersion | None]:
    latest = latest_program_version(connection, DEFAULT_PROGRAM_ID)
    if latest is None:
        return WriteReviewProgram(), None
    try:
        return WriteReviewProgram.model_validate(latest.settings), latest
    except ValidationError as exc:
        raise DataError(
            f"program version {latest.id} in the ledger is not valid: {exc.errors()[0]['msg']}",
            hint=f"set the program again with `{command('program', 'set', '--from-file', 'FILE')}`",
        ) from None


def program_notice(
    connection: sqlite3.Connection, now: datetime | None = None
) -> ProgramNotice | None:
    """A warning when the write-review program cannot reward a review written now.

    A new profile's program is off (as in Joy), and every review is then recorded as
    PROGRAM_INACTIVE: `connect`, `status`, `webhooks create` and `webhooks listen` say so.
    """
    program = current_program(connection)
    moment = now or datetime.now(UTC)
    if not program.enabled:
        return ProgramNotice(
            problem="the write-review program is disabled: reviews earn no points"
            " (they are recorded as PROGRAM_INACTIVE)",
            fix="program set enabled true",
        )
    if not program.is_running_at(moment):
        ended = program.ends_at is not None and moment >= program.ends_at
        key = "ends_at" if ended else "starts_at"
        bound = getattr(program, key).isoformat()
        return ProgramNotice(
            problem=f"the write-review program is outside its dates ({key} {bound}):"
            " reviews written now earn no points",
            fix=f"program set {key} none",
        )
    return None


def show_program(connection: sqlite3.Connection) -> ProgramView:
    program, version = _load(connection)
    values = program.model_dump(mode="json")
    rows = [
        SettingRow(
            key=info.key,
            value=values[info.key],
            type=info.type_label,
            default=_plain(info.default),
            description=info.description,
        )
        for info in settable_keys()
    ]
    return ProgramView(
        program_id=program.program_id,
        version=version.id if version else None,
        changed_at=version.changed_at if version else None,
        program=program,
        settings=rows,
    )


def check_setting_names(keys: list[str]) -> None:
    """Refuse unknown or fixed keys before anything is opened (the command checks first)."""
    from joyctl.engine.program_settings import check_keys

    with _naming_known_keys(keys):
        check_keys(keys)


def read_program_file(path: Path) -> dict[str, Any]:
    """The `key = value` lines of a program TOML file, bounded, keys checked."""
    data = _read_toml(path)
    check_setting_names(list(data))
    return data


def set_program_value(connection: sqlite3.Connection, key: str, value: str) -> ProgramChange:
    """Change one setting from its command-line text; validated by the engine's model."""
    with transaction(connection), _naming_known_keys([key]):
        current, version = _load(connection)
        return _record(connection, current, apply_setting(current, key, value), version)


def set_program_from_file(
    connection: sqlite3.Connection, path_or_data: Path | dict[str, Any]
) -> ProgramChange:
    """Change the settings a TOML file names (flat `key = value` lines); others stay as they are."""
    data = _read_toml(path_or_data) if isinstance(path_or_data, Path) else path_or_data
    with transaction(connection), _naming_known_keys(list(data)):
        current, version = _load(connection)
        return _record(connection, current, program_from_mapping(data, base=current), version)


def program_history(connection: sqlite3.Connection, *, limit: int = 20) -> ProgramHistory:
    if limit < 1:
        raise ConfigError("--limit must be at least 1", hint="for example --limit 20")
    versions = program_versions(connection, DEFAULT_PROGRAM_ID, limit=limit)
    return ProgramHistory(
        program_id=DEFAULT_PROGRAM_ID,
        versions=[
            ProgramVersionView(
                version=item.id,
                changed_at=item.changed_at,
                changed_keys=item.changed_keys,
                settings=item.settings,
            )
            for item in versions
        ],
    )


def _record(
    connection: sqlite3.Connection,
    current: WriteReviewProgram,
    updated: WriteReviewProgram,
    version: ProgramVersion | None,
) -> ProgramChange:
    before, after = current.model_dump(mode="json"), updated.model_dump(mode="json")
    changed = [key for key in after if after[key] != before.get(key)]
    if not changed:
        return ProgramChange(
            changed=False,
            changed_keys=[],
            version=version.id if version else None,
            changed_at=version.changed_at if version else None,
            program=current,
        )
    recorded = record_program_version(connection, updated.program_id, after, changed)
    return ProgramChange(
        changed=True,
        changed_keys=changed,
        version=recorded.id,
        changed_at=recorded.changed_at,
        program=updated,
    )


@contextlib.contextmanager
def _naming_known_keys(keys: list[str]) -> Iterator[None]:
    """A refused unknown key lists the keys there are, so a script's author can fix it at once."""
    try:
        yield
    except ConfigError as exc:
        known = [info.key for info in settable_keys()]
        if any(key not in known for key in keys):
            exc.hint = f"{exc.hint}; the keys are {', '.join(known)}"
        raise


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return limits.load_toml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist", hint="check the path") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", hint="check the path") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text", hint="save it as UTF-8") from None
    except DataError as exc:
        raise ConfigError(
            f"{path} is {exc.message}", hint="write one `key = value` per line"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"{path} nests values too deeply", hint="write one `key = value` per line"
        ) from None


def _plain(value: object) -> object:
    """A default as JSON shows it (enums as their text)."""
    return getattr(value, "value", value)
