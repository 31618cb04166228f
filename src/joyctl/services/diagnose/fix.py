"""`diagnose --fix`: apply the safe fixes in order, then check again.

The order follows the chain of causes: reconnect (grant the missing scopes), subscribe the
review webhook, replay the reviews that never arrived, push the outbox to Klaviyo. Each step
runs only if the checks before it say it is needed. The effects themselves (a login, a
subscription, a replay, a push) are handed in by the caller, so this module decides what to do
and in which order, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from joyctl.errors import JoyctlError
from joyctl.services.diagnose.model import DiagnoseReport, Status

StepStatus = Literal["planned", "done", "failed", "skipped"]


class FixStep(BaseModel):
    id: str
    command: str
    status: StepStatus
    detail: str = ""


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
    push_command: str


def _status(report: DiagnoseReport, check_id: str) -> Status | None:
    return next((check.status for check in report.checks if check.id == check_id), None)


def _needs_reconnect(report: DiagnoseReport) -> bool:
    failing = {"credentials", "authentication", "account", "review_scopes"}
    return any(_status(report, check) is Status.FAIL for check in failing)


def planned_steps(report: DiagnoseReport, plan: FixPlan) -> list[FixStep]:
    """What --fix would do for this report, in order."""
    steps = []
    if _needs_reconnect(report):
        steps.append(FixStep(id="reconnect", command="joyctl connect", status="planned"))
    if _status(report, "review_webhook") is not Status.PASS:
        endpoint = plan.webhook_endpoint or "URL (set it: joyctl config set webhook_endpoint URL)"
        command = f"joyctl webhooks create --endpoint {endpoint}"
        steps.append(FixStep(id="webhook", command=command, status="planned"))
    if _status(report, "missed_reviews") is not Status.PASS:
        since = f" --since {plan.replay_since}" if plan.replay_since else ""
        steps.append(
            FixStep(id="replay", command=f"joyctl reviews replay{since}", status="planned")
        )
    steps.append(FixStep(id="push", command=plan.push_command, status="planned"))
    return steps


def apply_fixes(report: DiagnoseReport, plan: FixPlan, actions: FixActions) -> FixReport:
    """Run the planned steps in order; a failed step stops the ones that depend on it."""
    steps = planned_steps(report, plan)
    for index, step in enumerate(steps):
        steps[index] = _run(step, plan, actions)
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
