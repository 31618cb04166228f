"""A store's raw export through `--map`, the header checked up front, quarantine files resent,
dry runs that exit as the run would, and `--source -` for stdin."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joyctl.errors import UsageError
from joyctl.services.backfill.columns import FIELDS, parse_mapping
from tests.backfill.support import METRIC, Shop, recorded_sequence, write_csv, write_events

RAW_HEADER = ["Customer Email", "Activity", "Date", "Points", "seq"]
MAP = ["--map", "email=Customer Email", "--map", "metric=Activity", "--map", "time=Date",
       "--map", "value=Points"]  # fmt: skip


def _raw_export(path: Path, rows: int, *, blank_every: int = 0) -> Path:
    def email(n: int) -> str:
        return "" if blank_every and n % blank_every == 0 else f"c{n}@example.com"

    return write_csv(
        path,
        RAW_HEADER,
        ([email(n), METRIC, "2025-03-01T12:00:00Z", str(n), str(n)] for n in range(rows)),
    )


def _sequence(shop: Shop) -> list[int]:
    return sorted(int(seq) for seq in recorded_sequence(shop.server))  # CSV cells are text


def test_a_raw_export_is_sent_through_map(shop: Shop, tmp_path: Path) -> None:
    source = _raw_export(tmp_path / "export.csv", 50)

    summary = shop.data("backfill", "events", "--source", str(source), *MAP)

    assert (summary["sent"], summary["quarantined"]) == (50, 0)
    assert _sequence(shop) == list(range(50))  # unmapped columns become properties


def test_a_header_without_the_needed_fields_is_refused_naming_its_columns(
    shop: Shop, tmp_path: Path
) -> None:
    source = _raw_export(tmp_path / "export.csv", 50)

    result = shop("backfill", "events", "--source", str(source))

    assert result.exit_code == 3
    assert "its columns: Customer Email, Activity, Date, Points, seq" in result.stderr
    assert "--map email=COLUMN" in result.stderr
    assert shop.server.inspect()["events"]["total"] == 0
    assert shop.data("backfill", "status") == []  # refused before a run was started


def test_map_naming_a_column_the_file_lacks_is_a_usage_error(shop: Shop, tmp_path: Path) -> None:
    source = _raw_export(tmp_path / "export.csv", 5)
    result = shop("backfill", "events", "--source", str(source), *MAP, "--map", "id=Order")
    assert result.exit_code == 2
    assert "no column 'Order'" in result.stderr


def test_the_dry_run_exits_as_the_run_would_and_counts_what_it_does_not_list(
    shop: Shop, tmp_path: Path
) -> None:
    source = _raw_export(tmp_path / "export.csv", 1_000, blank_every=4)  # 250 lack an email

    plan = shop("backfill", "events", "--source", str(source), *MAP, "--dry-run")
    run = shop("backfill", "events", "--source", str(source), *MAP)

    assert plan.exit_code == run.exit_code == 7
    listed = [line for line in plan.stdout.splitlines() if line.startswith("would quarantine")]
    assert len(listed) == 100
    assert "and 150 more records would be quarantined" in plan.stdout
    assert "warning: 250 records would be quarantined" in plan.stderr
    clean = shop("backfill", "events", "--source", str(source), *MAP, "--dry-run", "--since",
                 "2030-01-01")  # fmt: skip
    assert clean.exit_code == 7  # a record without an email cannot even be filtered


def test_a_clean_file_dry_runs_with_exit_0(shop: Shop, tmp_path: Path) -> None:
    source = write_events(tmp_path / "history.jsonl", 20)
    assert shop("backfill", "events", "--source", str(source), "--dry-run").exit_code == 0


def test_a_quarantine_file_is_a_source_once_its_records_are_fixed(
    shop: Shop, tmp_path: Path
) -> None:
    source = _raw_export(tmp_path / "export.csv", 40, blank_every=5)
    first = shop("backfill", "events", "--source", str(source), *MAP)
    assert first.exit_code == 7
    quarantine = Path(f"{source}.quarantine.jsonl")
    assert f"--source {quarantine}" in first.stderr  # the hint says how to send them again
    fixed = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    for entry in fixed:
        entry["record"]["email"] = f"fixed{entry['line']}@example.com"
    quarantine.write_text("".join(json.dumps(e) + "\n" for e in fixed), encoding="utf-8")

    again = shop.data("backfill", "events", "--source", str(quarantine))

    assert (again["sent"], again["quarantined"]) == (8, 0)
    assert _sequence(shop) == list(range(40))


def test_an_unfixed_quarantine_file_quarantines_its_records_again(
    shop: Shop, tmp_path: Path
) -> None:
    source = _raw_export(tmp_path / "export.csv", 10, blank_every=5)
    shop("backfill", "events", "--source", str(source), *MAP)
    quarantine = Path(f"{source}.quarantine.jsonl")

    again = shop("--json", "backfill", "events", "--source", str(quarantine))

    assert again.exit_code == 7
    assert json.loads(again.stdout)["data"]["quarantined"] == 2
    reasons = Path(f"{quarantine}.quarantine.jsonl").read_text(encoding="utf-8")
    assert "email or external_id is required" in reasons


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_stdin_is_a_source_with_format(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    source = _raw_export(tmp_path / "export.csv", 30)
    _stdin(monkeypatch, source.read_bytes())

    summary = shop.data("backfill", "events", "--source", "-", "--format", "csv", *MAP)

    assert summary["sent"] == 30
    kept = isolated_home / "data" / "profiles" / "shop" / "backfill"
    assert [p.name for p in kept.glob("stdin-*")] == []  # kept only while a run may need it


def test_stdin_without_format_is_refused(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, b"{}\n")
    result = shop("backfill", "events", "--source", "-")
    assert result.exit_code == 2
    assert "--format" in result.stderr


def test_quarantine_to_stdout_is_refused(shop: Shop, tmp_path: Path) -> None:
    source = write_events(tmp_path / "history.jsonl", 2)
    result = shop("backfill", "events", "--source", str(source), "--quarantine", "-")
    assert result.exit_code == 2
    assert "--quarantine cannot be -" in result.stderr


FIELD = st.sampled_from(FIELDS)
COLUMN = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="="), min_size=1
).filter(lambda text: text.strip() != "")


@given(st.dictionaries(FIELD, COLUMN, max_size=len(FIELDS)))
def test_map_options_parse_back_to_what_they_say(mapping: dict[str, str]) -> None:
    columns = [column.strip().lower() for column in mapping.values()]
    pairs = [f"{field}={column}" for field, column in mapping.items()]
    if len(set(columns)) < len(columns):
        with pytest.raises(UsageError, match="twice"):
            parse_mapping(pairs)
        return
    assert parse_mapping(pairs) == {field: column.strip() for field, column in mapping.items()}


@given(st.text(max_size=30))
def test_any_map_text_parses_or_is_a_usage_error(text: str) -> None:
    try:
        parsed = parse_mapping([text])
    except UsageError:
        return
    [(field, column)] = parsed.items()
    assert field in FIELDS and column and "=" in text
