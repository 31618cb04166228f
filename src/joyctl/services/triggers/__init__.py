"""Joy's loyalty triggers: which are enabled, ledger changes that queue them, firing one on
purpose, and the Klaviyo flows they start.

Entry points: `catalogue.list_triggers` / `set_triggers`, `feed.queue_entry_trigger` /
`queue_tier_change` (called by the ledger writers), `fire.fire_trigger`, `flows.trigger_flows`.
Why an email did not go out is diagnose's (`services/diagnose/trigger_checks.py`).
"""
