"""The Klaviyo layer: HTTP client, OAuth, pacing, endpoint facts, webhook signatures, models.

Nothing here imports from services, cli, ledger or engine.
"""
