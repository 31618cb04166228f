"""docs/cli.md and completions/ match the app, and every command and option has help text."""

from __future__ import annotations

from typing import Any

import pytest
from tools.generate_docs import ROOT, expected_files, root_command, walk

COMMANDS = list(walk(root_command()))


def test_generated_files_are_current() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path, text in expected_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run `python tools/generate_docs.py` and commit the result"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_and_parameter_has_help(path: tuple[str, ...], command: Any) -> None:
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
    missing = [
        param.name for param in command.params if not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == [], f"{' '.join(path)}: parameters without help: {missing}"
