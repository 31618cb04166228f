"""Atomic file writes: the old file or the new one, the mode asked for, no temporary left."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from joyctl.files.atomic import replacing, write_atomic

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable and writable."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_text_or_bytes_replace_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_atomic(path, "first é")
    assert path.read_text(encoding="utf-8") == "first é"

    write_atomic(path, b"\x00second")

    assert path.read_bytes() == b"\x00second"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_stream_replaces_the_file_when_its_block_ends(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old", encoding="utf-8")
    with replacing(path, newline="") as handle:
        handle.write("a\r\nb\n")
        assert path.read_text(encoding="utf-8") == "old"  # not yet

    assert path.read_bytes() == b"a\r\nb\n"


@posix_only
@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_the_file_has_the_mode_asked_for_from_the_start(
    tmp_path: Path, open_umask: None, mode: int
) -> None:
    path = tmp_path / "secret.json"
    modes_at_rename: list[int] = []
    real_replace = os.replace

    def checking_replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        modes_at_rename.append(mode_of(Path(source)))
        real_replace(source, target)

    with mock.patch.object(os, "replace", checking_replace):
        write_atomic(path, "x", mode=mode)

    assert modes_at_rename == [mode]
    assert mode_of(path) == mode


@posix_only
def test_the_default_mode_is_private(tmp_path: Path, open_umask: None) -> None:
    write_atomic(tmp_path / "config.toml", "a = 1\n")
    assert mode_of(tmp_path / "config.toml") == 0o600


class Interrupted(Exception):
    """A failure part-way through a write."""


@settings(max_examples=60, deadline=None)
@given(
    old=st.text(max_size=50),
    pieces=st.lists(st.text(max_size=20), max_size=5),
    failure=st.sampled_from(["writing", "fsync", "replace"]),
    data=st.data(),
)
def test_a_write_that_fails_part_way_leaves_the_old_file_and_no_temporary(
    old: str, pieces: list[str], failure: str, data: st.DataObject
) -> None:
    stop_after = data.draw(st.integers(min_value=0, max_value=len(pieces)), label="pieces written")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file.txt"
        path.write_bytes(old.encode("utf-8"))
        breaking = (
            mock.patch.object(os, failure, side_effect=Interrupted)
            if failure != "writing"
            else contextlib.nullcontext()
        )
        with pytest.raises(Interrupted), breaking, replacing(path, newline="") as handle:
            for piece in pieces[:stop_after]:
                handle.write(piece)
            if failure == "writing":
                raise Interrupted

        assert path.read_bytes() == old.encode("utf-8")
        assert os.listdir(folder) == ["file.txt"]
