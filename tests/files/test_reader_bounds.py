"""Hostile files through the reader: every line bounded, an unclosed quote costs only its line."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from joyctl.errors import DataError
from joyctl.files.formats import FileFormat
from joyctl.files.lines import START, Lines, Oversized
from joyctl.files.reader import Bounds, Position, Record, read_records
from joyctl.files.writer import RecordWriter

CSV, JSONL = FileFormat.CSV, FileFormat.JSONL
MIB = 1024 * 1024
QUOTE_LEFT_OPEN = "not valid CSV: a quoted cell opened on this line does not close"


def read(data: bytes, file_format: FileFormat, **options: Any) -> list[Record]:
    return list(read_records(io.BytesIO(data), file_format, **options))


def csv_file(*rows: str) -> bytes:
    return ("\n".join(["email,metric,note", *rows]) + "\n").encode("utf-8")


# Lines


_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def expected_lines(data: bytes, limit: int) -> list[tuple[str, int]]:
    """Each line as ("text", size) or ("oversized", size), by a plain regular expression."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    found = []
    for match in _LINE.finditer(body):
        raw = match.group()
        kind = "oversized" if len(raw) > limit else raw.decode("utf-8", errors="replace")
        found.append((kind, len(raw)))
    return found


_BYTES = st.lists(
    st.sampled_from([b"a", b"bb", b"\r", b"\n", b"\r\n", b"\xff", b"\xef\xbb\xbf", b"xyz" * 3]),
    max_size=30,
).map(b"".join)


@settings(max_examples=500)
@given(data=_BYTES, limit=st.integers(min_value=1, max_value=12))
def test_lines_of_any_bytes_match_a_plain_split_whatever_the_limit(data: bytes, limit: int) -> None:
    lines = Lines(io.BytesIO(data), START, max_line_bytes=limit)
    found: list[tuple[str, int]] = []
    offsets = []
    while (line := lines.next_line()) is not None:
        if isinstance(line, Oversized):
            found.append(("oversized", line.size))
        else:
            found.append((line, len(line.encode("utf-8", errors="surrogateescape"))))
        offsets.append(lines.offset)

    expected = expected_lines(data, limit)
    assert [kind for kind, _ in found] == [kind for kind, _ in expected]
    assert [size for kind, size in found if kind == "oversized"] == [
        size for kind, size in expected if kind == "oversized"
    ]
    assert offsets == sorted(set(offsets))
    assert not offsets or offsets[-1] == len(data)
    assert lines.line == len(expected)


# JSON Lines


def test_a_twenty_megabyte_line_is_set_aside_and_the_next_is_read() -> None:
    huge = json.dumps({"note": "x" * (20 * MIB)}).encode()
    data = b'{"n": 1}\n' + huge + b'\n{"n": 3}\n'

    found = read(data, JSONL)

    assert [(r.line, r.problem is None) for r in found] == [(1, True), (2, False), (3, True)]
    assert (
        found[1].problem
        == f"the line is {len(huge) + 1:,} bytes; a line may hold at most 8,388,608"
    )
    assert found[1].values["_bytes"] == len(huge) + 1
    assert len(found[1].values["_raw"]) <= 1024
    assert found[2].values == {"n": 3}
    assert found[1].end.offset == len(data) - len(b'{"n": 3}\n')


def test_hostile_json_lines_each_carry_their_reason() -> None:
    lines = [
        '{"n": ' + "9" * 5000 + "}",
        '{"n": ' + str(2**64) + "}",
        '{"n": ' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"n": NaN}',
        '{"n": Infinity}',
        '{"n": 1e999}',
        '{"n": "\\ud800"}',
        '{"n": 2}',
    ]
    found = read(("\n".join(lines) + "\n").encode(), JSONL)

    assert [r.problem for r in found] == [
        "an integer of 5000 digits is beyond 64 bits",
        f"the integer {2**64} is beyond 64 bits",
        "JSON nested deeper than 64 levels",
        "NaN is not a number JSON allows",
        "Infinity is not a number JSON allows",
        "the number '1e999' is too large",
        "JSON text with a lone surrogate (\\ud800 to \\udfff)",
        None,
    ]
    assert found[0].values == {"_raw": lines[0]}


# CSV


def test_an_unclosed_quote_at_the_end_sets_aside_its_line_only() -> None:
    found = read(csv_file("a@x.io,M,ok", 'b@x.io,M,"never closed', "c@x.io,M,fine"), CSV)

    assert [(r.line, r.problem) for r in found] == [
        (2, None),
        (3, f"{QUOTE_LEFT_OPEN} (the file ends inside it)"),
        (4, None),
    ]
    assert found[1].values == {"_raw": 'b@x.io,M,"never closed'}
    assert found[2].values == {"email": "c@x.io", "metric": "M", "note": "fine"}


def test_an_unclosed_quote_before_quoted_cells_is_not_merged_into_them() -> None:
    found = read(csv_file('a@x.io,M,"open', 'b@x.io,M,"one, two"', 'c@x.io,M,"x\ny"'), CSV)

    assert [(r.line, r.problem is None) for r in found] == [(2, False), (3, True), (4, True)]
    assert found[0].problem is not None and found[0].problem.startswith(QUOTE_LEFT_OPEN)
    assert [r.values.get("note") for r in found[1:]] == ["one, two", "x\ny"]


def test_a_quote_left_open_past_the_line_limit_of_a_record() -> None:
    rows = ['a@x.io,M,"open'] + [f"r{n}@x.io,M,{n}" for n in range(6)]
    found = read(csv_file(*rows), CSV, bounds=Bounds(record_lines=3))

    assert found[0].problem == f"{QUOTE_LEFT_OPEN} (it is still open after 3 lines)"
    assert [r.values["note"] for r in found[1:]] == [str(n) for n in range(6)]


def test_a_quoted_cell_may_hold_line_breaks_within_the_bounds() -> None:
    found = read(
        csv_file('a@x.io,M,"one\ntwo\nthree"', "b@x.io,M,x"), CSV, bounds=Bounds(record_lines=3)
    )

    assert [(r.line, r.end.line, r.problem) for r in found] == [(2, 4, None), (5, 5, None)]
    assert found[0].values["note"] == "one\ntwo\nthree"


def test_a_200_kb_cell_is_read_and_a_20_mb_one_set_aside() -> None:
    big, huge = "x" * (200 * 1024), "y" * (20 * MIB)
    found = read(
        csv_file(f"a@x.io,M,{big}", f"b@x.io,M,{huge}", f'c@x.io,M,"{huge}"', "d@x.io,M,z"), CSV
    )

    assert [(r.line, r.problem is None) for r in found] == [
        (2, True),
        (3, False),
        (4, False),
        (5, True),
    ]
    assert found[0].values["note"] == big
    assert found[1].problem is not None and found[1].problem.startswith("the line is 20,971,")
    assert found[3].values["email"] == "d@x.io"


def test_a_quoted_cell_running_into_an_over_long_line() -> None:
    found = read(
        csv_file('a@x.io,M,"open', "z" * 100, "b@x.io,M,ok"), CSV, bounds=Bounds(line_bytes=64)
    )

    assert [r.problem for r in found] == [
        f"{QUOTE_LEFT_OPEN} (it runs into a line of 101 bytes)",
        "the line is 101 bytes; a line may hold at most 64",
        None,
    ]


def test_a_quote_left_open_in_the_header_stops_the_file() -> None:
    for data in (b'email,"metric\na,b\n', b"x" * 100 + b"\n"):
        try:
            read(data, CSV, bounds=Bounds(line_bytes=64, record_lines=1))
        except DataError as exc:
            assert exc.message.startswith("cannot read the CSV header")
        else:
            raise AssertionError("the header was read")


_PLAIN = st.text(st.characters(codec="utf-8", exclude_characters='",\r\n'), max_size=6)


@settings(max_examples=300)
@given(
    rows=st.lists(st.tuples(_PLAIN, _PLAIN).filter(lambda row: "".join(row).strip()), max_size=10),
    poison_at=st.integers(min_value=0, max_value=10),
    poison=st.sampled_from(['"', 'x,"y', '"x,y', 'x,"y""z', ' ,,,"']),
)
def test_an_unclosed_quote_never_swallows_the_rows_after_it(
    rows: list[tuple[str, str]], poison_at: int, poison: str
) -> None:
    text = io.StringIO(newline="")
    writer = RecordWriter(text, CSV, ("a", "b"))
    for a, b in rows:
        writer.write({"a": a, "b": b})
    lines = text.getvalue().split("\n")
    at = 1 + min(poison_at, len(rows))
    lines.insert(at, poison)

    found = read("\n".join(lines).encode("utf-8"), CSV)

    good = [(r.values["a"], r.values["b"]) for r in found if r.problem is None]
    assert good == rows
    bad = [r for r in found if r.problem is not None]
    assert [(r.line, r.values) for r in bad] == [(at + 1, {"_raw": poison})]


_CSV_BYTES = st.lists(
    st.sampled_from([b"a", b",", b'"', b'""', b"\n", b"\r", b"\r\n", b" ", b"\xff", b"xxxxxxxx"]),
    max_size=50,
).map(b"".join)


@settings(max_examples=500)
@given(
    content=_CSV_BYTES,
    bounds=st.builds(Bounds, st.integers(6, 24), st.integers(1, 4)),
    data=st.data(),
)
def test_any_csv_bytes_within_any_bounds_read_on_from_every_position(
    content: bytes, bounds: Bounds, data: st.DataObject
) -> None:
    header = b"h1,h2\n"
    try:
        everything = read(header + content, CSV, bounds=bounds)
    except DataError:
        raise AssertionError("a one-line header is always readable") from None
    offsets = [record.end.offset for record in everything]
    assert offsets == sorted(set(offsets))
    assert all(record.line <= record.end.line for record in everything)
    cut = data.draw(st.integers(min_value=0, max_value=len(everything)), label="records read")
    start = everything[cut - 1].end if cut else Position()
    assert read(header + content, CSV, bounds=bounds, start=start) == everything[cut:]


@settings(max_examples=300)
@given(content=_CSV_BYTES.map(lambda data: data.replace(b",", b"{").replace(b'"', b"[")))
def test_any_json_lines_bytes_read_on_from_every_position(content: bytes) -> None:
    everything = read(content, JSONL, bounds=Bounds(line_bytes=16))
    for index, record in enumerate(everything):
        assert (
            read(content, JSONL, bounds=Bounds(line_bytes=16), start=record.end)
            == everything[index + 1 :]
        )
