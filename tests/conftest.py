"""Isolation for every test: a private JOYCTL_HOME, no inherited joyctl settings, no CI flag."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from joyctl import envvars
from joyctl.context import AppContext
from joyctl.output import Output

# Tests never time: Hypothesis's per-example deadline would fail a sound property on a busy
# 2-core CI runner, so it is off for every property test of the suite.
settings.register_profile("joyctl", deadline=None)
settings.load_profile("joyctl")

# Variables a developer's shell may carry that would change what joyctl does under test.
_USER_VARIABLES = [
    value for name, value in vars(envvars).items() if name.isupper() and isinstance(value, str)
] + ["CI"]


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[object]:
    """No test reaches the developer's real keyring; real Secret Service tests opt in."""
    import keyring

    from tests.credentials.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in _USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "joyctl-home"
    monkeypatch.setenv(envvars.HOME, str(home))
    monkeypatch.setenv("COLUMNS", "100")
    return home


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


class Cli:
    """Runs joyctl in this process through the real boundary, capturing both streams."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return self.run(args, env=env)

    def run(self, args: Sequence[str], *, env: dict[str, str] | None = None) -> Result:
        from joyctl.cli import run

        stdout, stderr = io.StringIO(), io.StringIO()
        environ = {**self.environ, **(env or {})}
        app = AppContext(environ=environ, output=Output(stdout=stdout, stderr=stderr))
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = run(list(args), app)
        return Result(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def cli(isolated_home: Path) -> Iterator[Cli]:
    yield Cli(dict(os.environ))
