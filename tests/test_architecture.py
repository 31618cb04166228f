"""The layer rules of ARCHITECTURE.md, held by the test command.

Import rules are import-linter contracts in pyproject.toml (`lint-imports` runs them in the
README's test command). This module proves the contracts really bite, by planting a forbidden
import in a copy of the source and watching `lint-imports` name it, and checks the one rule
import-linter cannot express: SQL runs only in `ledger/` and in the emulator's own store.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "joyctl"
# Packages that may run SQL: the ledger, and the emulator's store (the emulator is not joyctl's
# ledger; it keeps its own state).
SQL_HOMES = (SOURCE / "ledger", SOURCE / "sandbox" / "store")
SQL_METHODS = {"execute", "executemany", "executescript"}
# `lint-imports` itself, run by the interpreter of this test so the copied source can go first.
LINT_IMPORTS = (
    "import sys; from importlinter.cli import lint_imports_command as run; sys.exit(run())"
)


def _lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    # The copy is put first on the path so import-linter analyses it, not the installed package.
    env = {"PYTHONPATH": str(source_root), "PATH": str(Path(sys.executable).parent)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            LINT_IMPORTS,
            "--config",
            str(ROOT / "pyproject.toml"),
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("src")
    shutil.copytree(SOURCE, root / "joyctl", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_the_contracts_hold() -> None:
    result = _lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "planted", "named"),
    [
        ("services/rewards/pipeline.py", "import rich\n", "rich"),
        ("services/backfill/events.py", "from joyctl import cli\n", "joyctl.cli"),
        ("services/webhooks/listen.py", "import typer\n", "typer"),
        ("ledger/points.py", "from joyctl.services.rewards import pipeline\n", "joyctl.services"),
        ("klaviyo/client.py", "import joyctl.ledger.db\n", "joyctl.ledger"),
        ("engine/rules.py", "import sqlite3\n", "sqlite3"),
        ("settings.py", "import joyctl.klaviyo.endpoints\n", "joyctl.klaviyo"),
    ],
)
def test_a_planted_import_fails_naming_it(
    source_copy: Path, module: str, planted: str, named: str
) -> None:
    target = source_copy / "joyctl" / module
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(original + "\n" + planted, encoding="utf-8")
        result = _lint_imports(source_copy)
    finally:
        target.write_text(original, encoding="utf-8")
    dotted = "joyctl." + module.removesuffix(".py").replace("/", ".")
    assert result.returncode != 0
    assert f"{dotted} -> {named}" in result.stdout


def _sql_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SQL_METHODS
    ]


def test_sql_runs_only_in_the_ledger_and_the_emulator_store() -> None:
    outside = [
        call
        for path in sorted(SOURCE.rglob("*.py"))
        if not any(path.is_relative_to(home) for home in SQL_HOMES)
        for call in _sql_calls(path)
    ]
    assert outside == [], "SQL outside ledger/: " + ", ".join(outside)
