"""`joyctl smoke`: an end-to-end check of a Klaviyo test account for CI.

Entry points: `run.run_smoke` (the runner), `steps.STEPS` (what is checked, in order), `model`
(the options and the state the steps share) and `junit` (the JUnit XML report).
"""
