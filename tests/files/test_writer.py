"""Writing records as CSV (header, columns in order) or JSON Lines (the record's own keys)."""

from __future__ import annotations

import io

from joyctl.files.formats import FileFormat
from joyctl.files.writer import RecordWriter


def written(file_format: FileFormat, *records: dict[str, object]) -> str:
    text = io.StringIO(newline="")
    writer = RecordWriter(text, file_format, ("email", "referred", "points"))
    for values in records:
        writer.write(values)
    return text.getvalue()


def test_csv_has_a_header_and_the_columns_in_order() -> None:
    text = written(
        FileFormat.CSV,
        {"points": 5, "email": "a@example.com", "referred": True},
        {"email": "b@example.com", "referred": None},
    )

    assert text == "email,referred,points\na@example.com,true,5\nb@example.com,,\n"


def test_a_csv_cell_holding_line_breaks_is_quoted() -> None:
    text = written(FileFormat.CSV, {"email": "a\nb"}, {"email": "c\rd", "points": 1})

    assert text.splitlines(keepends=True)[1:] == ['"a\n', 'b",,\n', '"c\r', 'd","","1"\n']


def test_json_lines_keep_the_records_own_keys_and_text() -> None:
    text = written(FileFormat.JSONL, {"email": "é@example.com", "extra": [1]}, {})

    assert text == '{"email": "é@example.com", "extra": [1]}\n{}\n'
