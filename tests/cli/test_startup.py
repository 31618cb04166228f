"""`joyctl --version` and `--help` stay fast: no HTTP, validation, keyring or SQLite imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("httpx", "pydantic", "keyring", "sqlite3")

PROBE = """
import contextlib, io, json, sys
from joyctl.cli import run
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = run(sys.argv[1:])
loaded = sorted({name.split('.')[0] for name, module in sys.modules.items() if module})
print(json.dumps({"code": code, "loaded": loaded}))
"""


def _loaded(args: list[str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout)
    assert report["code"] == 0
    loaded: list[str] = report["loaded"]
    return loaded


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_fast_paths_import_nothing_heavy(args: list[str]) -> None:
    assert [name for name in HEAVY if name in _loaded(args)] == []


def test_group_help_loads_no_services_or_io_libraries() -> None:
    # Typer coerces option values through pydantic, so a group's help may load pydantic
    # itself; what must stay out are joyctl's services and the HTTP, keyring and SQLite stacks.
    done = subprocess.run(
        [sys.executable, "-c", PROBE.replace("name.split('.')[0]", "name"), "config", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout)["loaded"]
    assert [name for name in loaded if name.startswith("joyctl.services")] == []
    assert [name for name in ("httpx", "keyring", "sqlite3") if name in loaded] == []


def test_klaviyo_client_loads_without_httpx_command_line_client() -> None:
    # httpx imports its own CLI (rich, pygments) when it can; joyctl keeps it out of every start.
    probe = (
        "import sys, joyctl.klaviyo.client; print(sorted(m for m in sys.modules if sys.modules[m]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in done.stdout.strip("[]\n").replace("'", "").split(", ")}
    assert "httpx" in loaded
    assert [name for name in ("rich", "pygments") if name in loaded] == []


def test_python_dash_m_prints_the_version() -> None:
    from joyctl import __version__

    done = subprocess.run(
        [sys.executable, "-m", "joyctl", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout == f"joyctl {__version__}\n"
