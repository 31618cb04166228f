"""The connected account (`GET /api/accounts`, always exactly one)."""

from __future__ import annotations

from joyctl.klaviyo.client import KlaviyoClient
from joyctl.klaviyo.models import Account
from joyctl.klaviyo.resources._shared import parse_one


def get_account(client: KlaviyoClient) -> Account:
    """The account the credential belongs to; also proves the credential works."""
    return parse_one(Account, client.get("/api/accounts"))
