"""`joyctl backfill events|profiles|status`: history into Klaviyo, paced, resumable, exactly once.

Entry points: `events.backfill_events` (events from the ledger or a file), `plan.plan_events`
(`--dry-run`), `profiles.backfill_profiles` (profile properties by bulk import job) and
`runs` (start, resume and end a run, `backfill status`). The checkpoint is the run's row in the
ledger (`joyctl.ledger.runs.save_progress`), moved past each request Klaviyo accepted (in
`events.py` after each accepted chunk, in `profiles.py` after each finished job) and read back by
`runs.resume_run`.
"""
