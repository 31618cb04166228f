"""Checks 1-4: credentials, authentication, the account, and the scopes review rewards need."""

from __future__ import annotations

from joyctl.api_contract import FEATURE_SCOPES
from joyctl.command_line import command, then
from joyctl.credentials import CredentialSource, ResolvedCredential
from joyctl.errors import AuthError, PlanGateError
from joyctl.klaviyo.models import Account
from joyctl.klaviyo.resources.accounts import get_account
from joyctl.klaviyo.resources.reviews import list_reviews
from joyctl.klaviyo.resources.webhooks import list_webhooks
from joyctl.services.diagnose.model import CheckResult, failed, passed, skipped, warned
from joyctl.services.diagnose.probe import Probe


def reconnect() -> str:
    return command("connect")


def check_credentials(probe: Probe) -> CheckResult:
    title = "Credentials are present and stored safely"
    found = probe.credential()
    if not found.ok:
        return failed("credentials", title, [found.problem], reconnect(), found.hint)
    credential = found.value
    if not isinstance(credential, ResolvedCredential):
        evidence = [f"no Klaviyo credential for profile {probe.profile.name}"]
        return failed("credentials", title, evidence, reconnect())
    kind = "OAuth grant" if credential.tokens is not None else credential.kind.value
    where = credential.describe()
    if probe.profile.builtin:
        where = "the sandbox profile's data folder (the emulator's own test credentials)"
    evidence = [f"{kind} from {where}"]
    if credential.source is CredentialSource.FILE:
        return warned(
            "credentials", title, [*evidence, "stored in a plain file"], command("auth", "migrate")
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
            return failed("authentication", title, evidence, reconnect(), fetched.hint)
        if fetched.hint:
            return failed("authentication", title, evidence, None, fetched.hint)
        return failed("authentication", title, evidence, reconnect())
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
        return warned("account", title, evidence, reconnect())
    if recorded != current.id:
        evidence = [f"recorded {recorded}, but the credentials belong to {current.id}"]
        return failed("account", title, evidence, then(command("disconnect"), reconnect()))
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
    reached = account(probe) is not None
    probed = _probe_review_endpoints(probe) if reached else []
    evidence += [line for _, line in probed]
    if reached and _plan_gated(probe):
        gate = "the 403 on webhooks is Klaviyo's Advanced KDP plan gate, not a missing scope"
        advice = "a private key needs Advanced KDP for webhooks; an OAuth connection does not"
        return failed("review_scopes", title, [*evidence, gate], reconnect(), advice)
    if missing or any(outcome == "denied" for outcome, _ in probed):
        advice = "approve every requested permission; reconnecting replaces the grant"
        return failed("review_scopes", title, evidence, reconnect(), advice)
    if granted is None and not (probed and all(outcome == "ok" for outcome, _ in probed)):
        return skipped("review_scopes", title, _unknown_scopes(probe, evidence))
    return passed("review_scopes", title, *evidence)


def _unknown_scopes(probe: Probe, evidence: list[str]) -> str:
    """Why the scopes cannot be known: nothing grants them, or nothing could be asked."""
    if not isinstance(probe.credential().value, ResolvedCredential):
        return "not connected: there is no grant to check"
    if account(probe) is None:
        return "Klaviyo could not be reached to try the review endpoints"
    failures = "; ".join(evidence) or "no answer"
    return (
        f"the credential's scopes are not recorded and the review endpoints did not say: {failures}"
    )


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


def _probe_review_endpoints(probe: Probe) -> list[tuple[str, str]]:
    """Each review endpoint's outcome (ok, denied or failed) and the evidence line for it."""
    lines = []
    probes = {
        "GET /api/webhooks": probe.remote("webhooks", list_webhooks),
        "GET /api/reviews": probe.remote(
            "reviews_probe", lambda client: list(list_reviews(client, limit=1, page_size=1))
        ),
    }
    for label, fetched in probes.items():
        if fetched.ok:
            lines.append(("ok", f"{label}: 200"))
        elif fetched.error is not None and fetched.error.code in ("missing_scope", "plan_gate"):
            lines.append(("denied", f"403 on {label}: {fetched.problem}"))
        else:
            lines.append(("failed", f"{label} failed: {fetched.problem}"))
    return lines


def _plan_gated(probe: Probe) -> bool:
    fetched = probe.remote("webhooks", list_webhooks)
    return isinstance(fetched.error, PlanGateError)
