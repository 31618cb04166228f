"""The progress bar at an 80-column terminal: a real bar, whole times, the counts below it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.backfill.conftest import ShopFactory
from tests.backfill.support import write_events
from tests.terminal import Terminal

BAR_LINE = re.compile(r"^backfill events\s+(?P<bar>[━╸╺ ]+)\s+(?P<share>\d+)%\s+\d:\d\d:\d\d\s+")
COUNTS = re.compile(r"^  [\d,]+ sent, [\d,]+ already sent, [\d,]+ quarantined, [\d,]+ requests")


def test_the_bar_is_usable_at_80_columns(make_shop: ShopFactory, tmp_path: Path) -> None:
    shop = make_shop(rate_limits="x50", faults="latency=60ms", seed=11)
    source = write_events(tmp_path / "history.jsonl", 6_000)
    args = ["-p", "shop", "backfill", "events", "--source", str(source), "--batch-size", "200"]

    terminal = Terminal(args, {**os.environ, **shop.env}, columns=80)

    assert terminal.finish() == 0, terminal.text
    lines = terminal.lines()
    bars = [match for line in lines if (match := BAR_LINE.match(line))]
    assert bars, "\n".join(lines)
    assert all(len(match.group("bar").strip()) >= 20 for match in bars)  # never squeezed
    counts = [line for line in lines if COUNTS.match(line)]
    assert counts
    assert all(len(match.string) <= 80 for match in bars) and all(len(c) <= 80 for c in counts)
    assert "…" not in terminal.text
    assert "sent          6,000 events" in terminal.text  # the summary, after the bar is gone
