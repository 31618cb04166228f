"""Email marketing consent: a profile's `subscriptions` field, and bulk subscribe/suppress jobs.

Both jobs answer 202 and take up to 1,000 profiles; Klaviyo applies them shortly after.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import EmailConsent
from joyctl.klaviyo.resources._shared import expect_accepted, path_id


def email_consent(client: KlaviyoClient, profile_id: str) -> EmailConsent:
    """The profile's email marketing consent and suppressions."""
    document = client.get(
        f"/api/profiles/{path_id(profile_id)}", {"additional-fields[profile]": "subscriptions"}
    )
    attributes = (document.get("data") or {}).get("attributes") or {}
    marketing = ((attributes.get("subscriptions") or {}).get("email") or {}).get("marketing") or {}
    return EmailConsent(
        consent=marketing.get("consent"),
        can_receive=bool(marketing.get("can_receive_email_marketing")),
        suppressions=[
            str(item.get("reason")) for item in marketing.get("suppression") or [] if item
        ],
    )


def subscribe_emails(client: KlaviyoClient, emails: Sequence[str]) -> None:
    """Subscribe each email to email marketing (this also lifts an unsubscribe suppression)."""
    profiles: list[dict[str, Any]] = [
        {
            "type": "profile",
            "attributes": {
                "email": email,
                "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}},
            },
        }
        for email in emails
    ]
    body = {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": {"profiles": {"data": profiles}},
        }
    }
    expect_accepted(client.request("POST", "/api/profile-subscription-bulk-create-jobs", body=body))


def suppress_emails(client: KlaviyoClient, emails: Sequence[str]) -> None:
    """Suppress each email (USER_SUPPRESSED): no marketing email reaches it."""
    profiles = [{"type": "profile", "attributes": {"email": email}} for email in emails]
    body = {
        "data": {
            "type": "profile-suppression-bulk-create-job",
            "attributes": {"profiles": {"data": profiles}},
        }
    }
    client.post("/api/profile-suppression-bulk-create-jobs", body)
