"""Writing records as CSV or JSON Lines to an open text stream, in the form the reader reads.

CSV gets a header row of the given columns, then one row per record with its values in that
order (missing or None values empty, booleans `true`/`false`); JSON Lines gets one object per
line with the record's own keys, non-ASCII text as it is.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from typing import IO, Any

from joyctl.files.formats import FileFormat


class RecordWriter:
    """Writes records in one format to an open text stream (opened with newline="")."""

    def __init__(self, handle: IO[str], file_format: FileFormat, columns: Sequence[str]) -> None:
        self._handle = handle
        self._format = file_format
        self._columns = tuple(columns)
        self._csv = csv.writer(handle, lineterminator="\n")
        # The csv module quotes a cell holding LF but not one holding a lone CR, which a reader
        # takes for a line end; a row with one is written fully quoted.
        self._csv_quoted = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
        if file_format is FileFormat.CSV:
            self._csv.writerow(self._columns)

    def write(self, values: Mapping[str, Any]) -> None:
        if self._format is FileFormat.JSONL:
            self._handle.write(json.dumps(dict(values), ensure_ascii=False) + "\n")
            return
        cells = [_csv_cell(values.get(name)) for name in self._columns]
        quoted = any("\r" in cell for cell in cells)
        (self._csv_quoted if quoted else self._csv).writerow(cells)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
