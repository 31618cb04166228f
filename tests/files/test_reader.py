"""Reading CSV and JSON Lines files as streams, with exact positions to read on from."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from joyctl.errors import DataError, UsageError
from joyctl.files.formats import FileFormat, choose_format, format_of
from joyctl.files.reader import (
    Position,
    Record,
    file_identity,
    open_binary,
    read_records,
    same_file,
)

CSV, JSONL = FileFormat.CSV, FileFormat.JSONL


def records(path: Path, file_format: FileFormat, **start: int) -> list[Record]:
    with path.open("rb") as handle:
        return list(read_records(handle, file_format, start=Position(**start)))


def test_jsonl_resumes_exactly_after_a_record(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"n": 1}\n\n{"n": "\xc3\xa9"}\n{"n": 3}\n')
    everything = records(path, JSONL)
    assert [(r.line, r.values) for r in everything] == [
        (1, {"n": 1}),
        (3, {"n": "é"}),
        (4, {"n": 3}),
    ]

    rest = records(path, JSONL, offset=everything[0].end.offset, line=everything[0].end.line)

    assert [(r.line, r.values) for r in rest] == [(3, {"n": "é"}), (4, {"n": 3})]
    assert everything[-1].end.offset == path.stat().st_size


def test_jsonl_lines_that_cannot_be_read_carry_their_problem(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"n": 1}\n{oops\n[1, 2]\n{"n": "\xff"}\n')
    problems = [(r.line, r.problem) for r in records(path, JSONL)]
    assert problems == [
        (1, None),
        (2, "not valid JSON (Expecting property name enclosed in double quotes)"),
        (3, "not a JSON object"),
        (4, "not valid UTF-8 text"),
    ]


def test_csv_positions_survive_quoted_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        'email,metric,note\na@example.com,M,"two\nlines"\nb@example.com,M,x\nc@example.com,M\n',
        encoding="utf-8",
    )
    everything = records(path, CSV)
    assert [(r.line, r.end.line) for r in everything] == [(2, 3), (4, 4), (5, 5)]
    assert everything[0].values["note"] == "two\nlines"
    assert everything[2].problem == "2 fields, but the header has 3"

    rest = records(path, CSV, offset=everything[0].end.offset, line=everything[0].end.line)

    assert [r.values.get("email") for r in rest] == ["b@example.com", "c@example.com"]


def test_a_csv_without_a_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty"):
        records(path, CSV)


def test_a_csv_header_naming_a_column_twice_is_refused() -> None:
    with pytest.raises(DataError, match="names a column twice"):
        list(read_records(io.BytesIO(b"Email,email\na,b\n"), CSV))


def test_the_caller_names_the_columns_of_a_csv() -> None:
    def shouted(cells: list[str]) -> list[str]:
        return [cell.upper() for cell in cells]

    found = list(read_records(io.BytesIO(b"a,b\n1,2\n"), CSV, header=shouted))

    assert [record.values for record in found] == [{"A": "1", "B": "2"}]


def test_lines_end_at_lf_crlf_or_a_lone_cr() -> None:
    data = b'{"n": 1}\r\n{"n": 2}\r{"n": 3}\n{"n": 4}'
    found = list(read_records(io.BytesIO(data), JSONL))

    assert [(r.line, r.values["n"], r.end.offset) for r in found] == [
        (1, 1, 10),
        (2, 2, 19),
        (3, 3, 28),
        (4, 4, len(data)),
    ]
    last = list(read_records(io.BytesIO(b'{"n": 5}\r{"n": 6}'), JSONL))
    assert [(r.line, r.values["n"]) for r in last] == [(1, 5), (2, 6)]
    csv_rows = list(read_records(io.BytesIO(b'a,b\r1,"x\ry"\r\n2,z'), CSV))
    assert [(r.line, r.values) for r in csv_rows] == [
        (2, {"a": "1", "b": "x\ry"}),
        (4, {"a": "2", "b": "z"}),
    ]


def test_csv_rows_with_undecodable_bytes_or_blank_cells() -> None:
    data = b"a,b\n , \n1,B\xffb\n2,ok\n"
    found = list(read_records(io.BytesIO(data), CSV))

    assert [(r.line, r.problem) for r in found] == [(3, "not valid UTF-8 text"), (4, None)]
    assert found[0].values == {"a": "1", "b": "B\ufffdb"}


def test_formats_by_name_or_extension() -> None:
    assert FileFormat.named("jsonl") is JSONL
    assert format_of(Path("x.NDJSON")) is JSONL
    assert format_of(Path("x.txt")) is None
    assert choose_format(Path("x.txt"), CSV) is CSV
    assert choose_format(Path("x.csv"), None) is CSV
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        FileFormat.named("xml")
    with pytest.raises(UsageError, match="cannot tell the format of x.txt"):
        choose_format(Path("x.txt"), None)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        open_binary(tmp_path / "nope.csv")


def test_a_changed_or_shorter_file_is_not_the_same(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"n": 1}\n')
    identity = file_identity(path)
    assert same_file(path, identity, offset=9)
    assert not same_file(path, identity, offset=10)  # shorter than where the run stopped

    path.write_bytes(b'{"n": 2}\n')

    assert not same_file(path, identity, offset=0)
