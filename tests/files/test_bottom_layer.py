"""joyctl.files and joyctl.loopback sit below every layer: the standard library and errors only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import joyctl

SOURCE = Path(joyctl.__file__).parent
MODULES = sorted((SOURCE / "files").glob("*.py")) + [SOURCE / "loopback.py"]
ALLOWED = ("joyctl.errors", "joyctl.files")


def imported(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_imports_only_the_standard_library_and_errors(path: Path) -> None:
    outside = [
        name
        for name in imported(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED)
    ]
    assert outside == [], f"{path.name} imports {', '.join(outside)}"
