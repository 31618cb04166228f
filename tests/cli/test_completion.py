"""`joyctl completion SHELL` prints the script completions/ holds, and bash completes with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tools.generate_docs import ROOT, SHELLS

from tests.conftest import Cli


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_the_printed_script_is_the_one_in_the_source_tree(cli: Cli, shell: str) -> None:
    result = cli("completion", shell)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (ROOT / "completions" / SHELLS[shell]).read_text(encoding="utf-8")
    assert "_JOYCTL_COMPLETE" in result.stdout


def test_an_unknown_shell_is_a_usage_error(cli: Cli) -> None:
    result = cli("completion", "tcsh")
    assert result.exit_code == 2
    assert "bash" in result.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_loads_the_script_and_completes_commands(tmp_path: Path) -> None:
    # An installed `joyctl` on PATH, as the script calls it back by name.
    launcher = tmp_path / "bin" / "joyctl"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec {sys.executable} -m joyctl "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    script = (
        "source <(joyctl completion bash)\n"
        "COMP_WORDS=(joyctl back); COMP_CWORD=1; _joyctl_completion joyctl\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
        "COMP_WORDS=(joyctl backfill ev); COMP_CWORD=2; _joyctl_completion joyctl\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{launcher.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    assert done.stdout.split() == ["backfill", "events"]
