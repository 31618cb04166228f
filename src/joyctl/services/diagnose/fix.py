"""`diagnose --fix`: apply the safe fixes in order, then check again.

The order follows the chain of causes: reconnect (grant the missing scopes), subscribe the
review webhook, replay the reviews that never arrived, push the outbox to Klaviyo. Each step
runs only if the checks before it say it is needed. The effects themselves (a login, a
subscription, a replay, a push) are handed in by the caller, so this module decides what to do
and in which order, and nothing else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel

from joyctl.command_line import command
from joyctl.errors import JoyctlError
from joyctl.services.diagnose.model import DiagnoseReport, FixStep, Status

if TYPE_CHECKING:
    from joyctl.settings import Profile

__all__ = ["FixActions", "FixPlan", "FixReport", "FixStep", "PlannedFixes", "apply_fixes"]


class FixReport(BaseModel):
    before: DiagnoseReport
    steps: list[FixStep]
    after: DiagnoseReport | None


class PlannedFixes(BaseModel):
    """What --fix would run, shown with the report when there is no terminal to ask on."""

    planned: list[FixStep]
    report: DiagnoseReport


@dataclass(frozen=True)
class FixActions:
    """The effects a fix may have; each returns a one-line description of what it did."""

    reconnect: Callable[[], str]
    create_webhook: Callable[[str], str]
    replay: Callable[[], str]
    push: Callable[[], str]
    rediagnose: Callable[[], DiagnoseReport]


@dataclass(frozen=True)
class FixPlan:
    webhook_endpoint: str | None
    replay_since: str | None


def fix_plan_for(profile: Profile, connection: sqlite3.Connection) -> FixPlan:
    """Where the webhook goes, and since when reviews are replayed: the first connection."""
    from joyctl.services.rewards.reviews import program_connection_facts

    first = program_connection_facts(dict(profile.connection), connection).connected_at
    since = first.isoformat(timespec="seconds") if first else None
    return FixPlan(profile.webhook_endpoint, since)


def _status(report: DiagnoseReport, check_id: str) -> Status | None:
    return next((check.status for check in report.checks if check.id == check_id), None)


def _needs_reconnect(report: DiagnoseReport) -> bool:
    failing = {"credentials", "authentication", "account", "review_scopes"}
    return any(_status(report, check) is Status.FAIL for check in failing)


def planned_steps(report: DiagnoseReport, plan: FixPlan) -> list[FixStep]:
    """What --fix would do for this report, in order, each step as the command that takes it."""
    steps = []
    if _needs_reconnect(report):
        steps.append(FixStep(id="reconnect", command=command("connect"), status="planned"))
    if _status(report, "review_webhook") is not Status.PASS:
        steps.append(_webhook_step(plan))
    if _status(report, "missed_reviews") is not Status.PASS:
        since = ("--since", plan.replay_since) if plan.replay_since else ()
        replay = command("reviews", "replay", *since)
        steps.append(FixStep(id="replay", command=replay, status="planned"))
    if steps or _status(report, "outbox") is not Status.PASS:  # the steps above fill it
        push = command("reviews", "replay", "--push")
        steps.append(FixStep(id="push", command=push, status="planned"))
    return steps


def _webhook_step(plan: FixPlan) -> FixStep:
    create = command("webhooks", "create", "--endpoint", plan.webhook_endpoint or "URL")
    note = ""
    if not plan.webhook_endpoint:
        setting = command("config", "set", "webhook_endpoint", "URL")
        note = f"--fix skips this step until the profile has a webhook_endpoint: `{setting}`"
    return FixStep(id="webhook", command=create, status="planned", detail=note)


def repair_for(report: DiagnoseReport, plan: FixPlan) -> list[FixStep]:
    """The whole repair when something fails or warns and --fix can mend it; else nothing."""
    if not (report.summary.failed or report.summary.warnings):
        return []
    return planned_steps(report, plan)


def apply_fixes(report: DiagnoseReport, plan: FixPlan, actions: FixActions) -> FixReport:
    """Run the planned steps in order; a failed step stops the ones that depend on it."""
    steps = planned_steps(report, plan)
    for index, step in enumerate(steps):
        steps[index] = _run(step.model_copy(update={"detail": ""}), plan, actions)
        if steps[index].status == "failed":
            for later in range(index + 1, len(steps)):
                steps[later] = steps[later].model_copy(
                    update={"status": "skipped", "detail": f"after {step.id} failed"}
                )
            break
    return FixReport(before=report, steps=steps, after=actions.rediagnose())


def _run(step: FixStep, plan: FixPlan, actions: FixActions) -> FixStep:
    effects: dict[str, Callable[[], str]] = {
        "reconnect": actions.reconnect,
        "webhook": lambda: _create_webhook(plan, actions),
        "replay": actions.replay,
        "push": actions.push,
    }
    try:
        detail = effects[step.id]()
    except _Skip as skip:
        return step.model_copy(update={"status": "skipped", "detail": str(skip)})
    except JoyctlError as error:
        return step.model_copy(update={"status": "failed", "detail": error.message})
    return step.model_copy(update={"status": "done", "detail": detail})


class _Skip(Exception):
    """A step that cannot run here and is left to a person."""


def _create_webhook(plan: FixPlan, actions: FixActions) -> str:
    if not plan.webhook_endpoint:
        raise _Skip("no webhook_endpoint is set for this profile")
    return actions.create_webhook(plan.webhook_endpoint)
