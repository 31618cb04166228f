"""Packages that load their names on first use: every exported name resolves, and one module
of the package does not pull in the others."""

from __future__ import annotations

import json
import subprocess
import sys
from types import ModuleType

import pytest

import joyctl.engine
import joyctl.sandbox


@pytest.mark.parametrize("package", [joyctl.engine, joyctl.sandbox], ids=lambda p: p.__name__)
def test_every_exported_name_resolves_to_its_module_s_object(package: ModuleType) -> None:
    for name in package.__all__:
        value = getattr(package, name)
        assert value is vars(package)[name]  # kept after the first look-up
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        package.missing  # noqa: B018


def test_the_program_loads_without_the_rules_or_the_history() -> None:
    probe = (
        "import json, sys; from joyctl.engine import WriteReviewProgram;"
        " print(json.dumps(sorted(m for m in sys.modules if m.startswith('joyctl.engine'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == ["joyctl.engine", "joyctl.engine.program"]
