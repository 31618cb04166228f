"""The effects `joyctl diagnose --fix` may have, built from the command's context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from joyctl.commands._deps import connection_deps, diagnose_deps
from joyctl.context import AppContext
from joyctl.output import counted

if TYPE_CHECKING:
    from joyctl.services.diagnose.fix import FixActions


def fix_actions(app: AppContext, since: str | None) -> FixActions:
    from joyctl.services.diagnose import run_checks
    from joyctl.services.diagnose.fix import FixActions
    from joyctl.services.diagnose.run import build_probe

    return FixActions(
        reconnect=lambda: _reconnect(app),
        create_webhook=lambda endpoint: _create_webhook(app, endpoint),
        replay=lambda: _replay(app),
        push=lambda: _push(app),
        rediagnose=lambda: run_checks(build_probe(diagnose_deps(app), since)),
    )


def _reconnect(app: AppContext) -> str:
    from joyctl.services.connection.connect import connect_oauth
    from joyctl.services.connection.oauth_login import OAuthLogin

    def tell(text: str) -> None:
        app.output.stderr.write(text + "\n")

    login = OAuthLogin(
        tell=tell,
        open_browser=True,
        paste=None,
        timeout=300.0,
        interactive=app.interactive,
        unattended=app.unattended,
    )
    result = connect_oauth(connection_deps(app), login)
    return f"connected to {result.account.id} with {len(result.scopes)} scopes"


def _create_webhook(app: AppContext, endpoint: str) -> str:
    from joyctl.services.webhooks.subscriptions import create_subscription

    view = create_subscription(
        app.klaviyo().client,
        app.credentials(),
        app.ledger(),
        endpoint_url=endpoint,
        topic_ids=[],
        environ=app.environ,
    )
    return f"webhook {view.id} subscribed to {', '.join(view.topics)}"


def _replay(app: AppContext) -> str:
    from joyctl.services.rewards.program import current_program
    from joyctl.services.rewards.replay import ReplayFilter, replay_reviews
    from joyctl.services.rewards.reviews import program_connection_facts

    ledger = app.ledger()
    facts = program_connection_facts(dict(app.settings.profile.connection), ledger)
    summary = replay_reviews(
        app.klaviyo().client,
        ledger,
        current_program(ledger),
        facts,
        ReplayFilter(since=facts.connected_at),
        dry_run=False,
        data_dir=app.paths.profile_data_dir(app.settings.profile.name),
    )
    reviews, points = counted(summary.reviews, "review"), counted(summary.points, "point")
    return f"{reviews}: {summary.awarded:,} awarded ({points})"


def _push(app: AppContext) -> str:
    from joyctl.services.outbox.pusher import push_outbox

    report = push_outbox(app.klaviyo().client, app.ledger())
    sent = f"{report.events_sent} events and {report.profiles_sent} profile updates sent"
    return sent if not report.pending else f"{sent}; {report.pending} still waiting"
