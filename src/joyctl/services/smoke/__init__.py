"""`joyctl smoke`: an end-to-end check of a Klaviyo test account for CI.

Entry points: `run.run_smoke` (the runner), `steps.STEPS` (what is checked, in order) and `junit`
(the JUnit XML report).
"""
