"""Renderers shared by the reviews commands."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from joyctl.command_line import command
from joyctl.output import Output, counted

if TYPE_CHECKING:
    from joyctl.services.rewards.reviews import RunSummary


def render_summary(out: Output, summary: RunSummary) -> None:
    rejected = ", ".join(f"{reason} {count}" for reason, count in summary.rejected.items())
    written = "" if summary.committed else " (nothing written)"
    out.info(
        f"{counted(summary.reviews, 'review')}: {summary.awarded:,} awarded"
        f" ({counted(summary.points, 'point')}, {counted(summary.customers, 'customer')}),"
        f" {summary.revoked:,} revoked, {summary.unchanged:,} unchanged{written}"
    )
    if rejected:
        out.info(f"rejected: {rejected}")
    if summary.held:
        out.info(f"held for approval: {summary.held} (see `{command('reviews', 'pending')}`)")


def rule_values_text(values: Mapping[str, object]) -> str:
    return ", ".join(f"{key}={value}" for key, value in values.items())
