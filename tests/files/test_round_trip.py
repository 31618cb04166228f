"""Properties of the writer and reader together: what is written reads back, from any position."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from joyctl.errors import DataError
from joyctl.files.formats import FileFormat
from joyctl.files.limits import MAX_INTEGER, MIN_INTEGER
from joyctl.files.reader import START, Position, Record, read_records
from joyctl.files.writer import RecordWriter

COLUMNS = ("email", "note", "points")

_CSV_RECORDS = st.lists(st.fixed_dictionaries({name: st.text() for name in COLUMNS}), max_size=12)
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=MIN_INTEGER, max_value=MAX_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
_JSON_RECORDS = st.lists(st.dictionaries(st.text(), _JSON_VALUES, max_size=4), max_size=12)
_FILES = st.one_of(
    st.tuples(st.just(FileFormat.CSV), _CSV_RECORDS),
    st.tuples(st.just(FileFormat.JSONL), _JSON_RECORDS),
)


def written(file_format: FileFormat, records: list[dict[str, Any]]) -> bytes:
    text = io.StringIO(newline="")
    writer = RecordWriter(text, file_format, COLUMNS)
    for values in records:
        writer.write(values)
    return text.getvalue().encode("utf-8")


def read(data: bytes, file_format: FileFormat, start: Position = START) -> list[Record]:
    return list(read_records(io.BytesIO(data), file_format, start=start))


def kept(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records a reader yields: a CSV row of nothing but blanks is a blank line."""
    return [values for values in records if any(str(value).strip() for value in values.values())]


@settings(max_examples=300)
@given(file=_FILES)
def test_what_is_written_reads_back_with_rising_positions(
    file: tuple[FileFormat, list[dict[str, Any]]],
) -> None:
    file_format, records = file
    data = written(file_format, records)

    found = read(data, file_format)

    expected = kept(records) if file_format is FileFormat.CSV else records
    assert [record.values for record in found] == expected
    assert all(record.problem is None for record in found)
    offsets = [record.end.offset for record in found]
    assert offsets == sorted(set(offsets))
    assert all(record.line <= record.end.line for record in found)
    if expected and expected[-1] is records[-1]:
        assert offsets[-1] == len(data)  # the last record ends the file


@settings(max_examples=200)
@given(file=_FILES, data=st.data())
def test_reading_on_from_any_position_gives_exactly_the_rest(
    file: tuple[FileFormat, list[dict[str, Any]]], data: st.DataObject
) -> None:
    file_format, records = file
    content = written(file_format, records)
    everything = read(content, file_format)
    cut = data.draw(st.integers(min_value=0, max_value=len(everything)), label="records read")
    start = everything[cut - 1].end if cut else START

    rest = read(content, file_format, start)

    assert rest == everything[cut:]


_ANY_BYTES = st.lists(
    st.sampled_from([b"a", b",", b'"', b"{", b"}", b"\n", b"\r", b" ", b"\xff", b"\xc3\xa9", b"1"]),
    max_size=40,
).map(b"".join)


@settings(max_examples=300)
@given(content=_ANY_BYTES, file_format=st.sampled_from(FileFormat), data=st.data())
def test_any_bytes_read_as_records_or_a_refused_header(
    content: bytes, file_format: FileFormat, data: st.DataObject
) -> None:
    try:
        everything = read(content, file_format)
    except DataError:
        assert file_format is FileFormat.CSV  # only a CSV header can stop the reading
        return
    offsets = [record.end.offset for record in everything]
    assert offsets == sorted(set(offsets)) and all(0 < at <= len(content) for at in offsets)
    cut = data.draw(st.integers(min_value=0, max_value=len(everything)), label="records read")
    start = everything[cut - 1].end if cut else START
    assert read(content, file_format, start) == everything[cut:]
