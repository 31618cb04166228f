"""Files of records and files written safely: the helpers every layer shares.

Imports only the standard library and `joyctl.errors`, so the ledger, credentials, the sandbox
and the services can all use it.

Entry points:
- `formats`: `FileFormat` (CSV or JSON Lines), `FileFormat.named` and `choose_format` (by
  `--format`, else by extension).
- `limits`: the bounds on every value read from a file or a record, and the checks that hold
  them: `load_json` (nesting, 64-bit integers, finite numbers), `whole_number`,
  `finite_number`, `moment` and `calendar_date` (inside the calendar); each refuses with a
  `DataError` naming what is wrong.
- `lines`: the physical lines of a file, each bounded, with exact byte offsets.
- `reader`: `read_records` streams a CSV or JSON Lines file as `Record`s, each with the
  `Position` after it to read on from, a record out of bounds carrying its problem;
  `open_binary`, `file_identity` and `same_file`.
- `writer`: `RecordWriter`, the same formats written to a text stream.
- `quarantine`: `QuarantineLog`, the JSON Lines file of records a run could not use, and
  `default_quarantine_path` beside the input.
- `atomic`: `write_atomic` and `replacing`, a file replaced all at once with the mode asked for.
"""
