"""Renderers shared by the reviews commands."""

from __future__ import annotations

from typing import Any

from joyctl.output import Output


def render_summary(out: Output, summary: Any) -> None:
    rejected = ", ".join(f"{reason} {count}" for reason, count in summary.rejected.items())
    written = "" if summary.committed else " (nothing written)"
    out.info(
        f"{summary.reviews} reviews: {summary.awarded} awarded ({summary.points} points,"
        f" {summary.customers} customers), {summary.revoked} revoked,"
        f" {summary.unchanged} unchanged{written}"
    )
    if rejected:
        out.info(f"rejected: {rejected}")


def rule_values_text(values: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in values.items())
