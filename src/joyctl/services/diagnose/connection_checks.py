"""Checks 1-4: credentials, authentication, the account, and the scopes review rewards need."""

from __future__ import annotations

from joyctl.api_contract import FEATURE_SCOPES
from joyctl.credentials import CredentialSource, ResolvedCredential
from joyctl.errors import AuthError, PlanGateError
from joyctl.klaviyo.models import Account
from joyctl.klaviyo.resources.accounts import get_account
from joyctl.klaviyo.resources.reviews import list_reviews
from joyctl.klaviyo.resources.webhooks import list_webhooks
from joyctl.services.diagnose.model import CheckResult, failed, passed, skipped, warned
from joyctl.services.diagnose.probe import Probe

RECONNECT = "joyctl connect"


def check_credentials(probe: Probe) -> CheckResult:
    title = "Credentials are present and stored safely"
    found = probe.credential()
    if not found.ok:
        return failed("credentials", title, [found.problem], found.hint or RECONNECT)
    credential = found.value
    if not isinstance(credential, ResolvedCredential):
        evidence = [f"no Klaviyo credential for profile {probe.profile.name}"]
        return failed("credentials", title, evidence, RECONNECT)
    kind = "OAuth grant" if credential.tokens is not None else credential.kind.value
    where = credential.describe()
    if probe.profile.builtin:
        where = "the sandbox profile's data folder (the emulator's own test credentials)"
    evidence = [f"{kind} from {where}"]
    if credential.source is CredentialSource.FILE:
        return warned(
            "credentials", title, [*evidence, "stored in a plain file"], "joyctl auth migrate"
        )
    return passed("credentials", title, *evidence)


def account(probe: Probe) -> Account | None:
    fetched = probe.remote("account", get_account)
    return fetched.value if fetched.ok else None


def check_authentication(probe: Probe) -> CheckResult:
    title = "Klaviyo accepts the credentials (token valid, refresh working)"
    if not isinstance(probe.credential().value, ResolvedCredential):
        return skipped("authentication", title, "no credentials to try")
    fetched = probe.remote("account", get_account)
    if not fetched.ok:
        evidence = [f"GET /api/accounts failed: {fetched.problem}"]
        if isinstance(fetched.error, AuthError):
            evidence += [fetched.hint] if fetched.hint else []
            return failed("authentication", title, evidence, RECONNECT)
        return failed("authentication", title, evidence, fetched.hint or RECONNECT)
    found: Account = fetched.value
    name = found.organization_name or "unnamed"
    kind = "test account" if found.test_account else "live account"
    return passed("authentication", title, f"GET /api/accounts: {found.id} ({name}, {kind})")


def check_account_match(probe: Probe) -> CheckResult:
    title = "Connected to the account recorded at connect time"
    current = account(probe)
    if current is None:
        return skipped("account", title, "Klaviyo did not answer GET /api/accounts")
    recorded = probe.profile.connection.get("account_id")
    if not recorded:
        evidence = [f"Klaviyo says {current.id}; nothing was recorded at connect time"]
        return warned("account", title, evidence, RECONNECT)
    if recorded != current.id:
        evidence = [f"recorded {recorded}, but the credentials belong to {current.id}"]
        return failed("account", title, evidence, f"joyctl disconnect && {RECONNECT}")
    return passed("account", title, f"account {current.id} as recorded")


def check_review_scopes(probe: Probe) -> CheckResult:
    title = "The grant has the scopes review rewards need"
    required = [s for s in FEATURE_SCOPES["review_rewards"] if s in _wanted(probe)]
    granted = probe.granted_scopes()
    evidence: list[str] = []
    missing: list[str] = []
    if granted is not None:
        missing = [scope for scope in required if scope not in granted]
        evidence.append(f"granted: {' '.join(granted) or 'nothing'}")
        if missing:
            evidence.append(f"missing: {' '.join(missing)}")
            evidence += _cutover_evidence(probe)
    if account(probe) is not None:
        evidence += _probe_review_endpoints(probe)
    gate = _plan_gated(probe) if account(probe) is not None else None
    if gate:
        fix = "connect with OAuth (`joyctl connect`): a private key needs Advanced KDP for webhooks"
        return failed("review_scopes", title, [*evidence, gate], fix)
    if missing or any(line.startswith("403") for line in evidence):
        fix = f"{RECONNECT} (approve every requested permission; reconnecting replaces the grant)"
        return failed("review_scopes", title, evidence, fix)
    return passed("review_scopes", title, *evidence)


def _wanted(probe: Probe) -> list[str]:
    return probe.profile.required_scopes or list(FEATURE_SCOPES["review_rewards"])


def _cutover_evidence(probe: Probe) -> list[str]:
    connected = probe.connected_at
    cutover = probe.profile.review_permission_cutover
    if connected is None:
        return []
    line = f"connected {connected.date().isoformat()}"
    if cutover:
        line += f", before the review-permission change of {cutover[:10]}"
    return [line + ": Klaviyo now requires extra permissions for review webhooks"]


def _probe_review_endpoints(probe: Probe) -> list[str]:
    lines = []
    probes = {
        "GET /api/webhooks": probe.remote("webhooks", list_webhooks),
        "GET /api/reviews": probe.remote(
            "reviews_probe", lambda client: list(list_reviews(client, limit=1, page_size=1))
        ),
    }
    for label, fetched in probes.items():
        if fetched.ok:
            lines.append(f"{label}: 200")
        elif fetched.error is not None and fetched.error.code in ("missing_scope", "plan_gate"):
            lines.append(f"403 on {label}: {fetched.problem}")
        elif fetched.error is not None:
            lines.append(f"{label} failed: {fetched.problem}")
    return lines


def _plan_gated(probe: Probe) -> str | None:
    fetched = probe.remote("webhooks", list_webhooks)
    if isinstance(fetched.error, PlanGateError):
        return "the 403 on webhooks is Klaviyo's Advanced KDP plan gate, not a missing scope"
    return None
