"""The joyctl commands joyctl prints for a person to run, each written so it runs as printed.

Fixes, hints, plans and resume lines all name joyctl commands. A printed command must act on
the store the printing command acted on: `joyctl --profile mystore diagnose` that prints
`joyctl program set enabled true` would have the reader change the default profile instead.
So every printed command is rendered by `command()`, which names `--profile NAME` whenever
the profile is not the default one (the one joyctl uses with neither `--profile` nor
`JOYCTL_PROFILE`), and quotes each word for a POSIX shell.

One joyctl process acts on one profile, so the profile to name is a fact of the whole process:
the cli layer records it (`name_profile`) once settings are resolved, and layers that never see
the settings (a Klaviyo error's hint, a credential lookup) still print runnable commands.
"""

from __future__ import annotations

import shlex
from enum import Enum
from typing import Final


class _Active(Enum):
    PROFILE = "the profile this process acts on"


ACTIVE: Final = _Active.PROFILE
"""`command(..., profile=ACTIVE)`: the profile this process acts on, named unless the default."""

_named: str | None = None


def name_profile(profile: str | None) -> None:
    """The profile printed commands name from now on; None when it is the default one."""
    global _named
    _named = profile


def named_profile() -> str | None:
    return _named


def command(*words: str, profile: str | _Active | None = ACTIVE) -> str:
    """`joyctl [--profile NAME] WORDS...`, quoted for a shell.

    `profile` is ACTIVE (the default: this process's profile, named unless it is the default
    one), an explicit name (always named, for a command about another profile), or None for a
    command that acts on no profile in particular (`profiles list`, `sandbox scenarios`).
    Placeholders a person fills in (`URL`, `REVIEW_ID`) need no quoting and get none.
    """
    chosen = _named if profile is ACTIVE else profile
    parts = ["joyctl"]
    if isinstance(chosen, str) and chosen:
        parts += ["--profile", shlex.quote(chosen)]
    parts += [shlex.quote(word) for word in words]
    return " ".join(parts)


def then(*commands: str) -> str:
    """Commands to run one after another, as one shell line (each runs only if the last worked)."""
    return " && ".join(commands)
