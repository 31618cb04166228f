"""The built-in `sandbox` profile: the emulator started in-process and seeded on first use.

Entry points: `embedded.EmbeddedSandbox` (one command's emulator), `first_use.prepare_ledger`
(seeds the profile the first time a command opens its ledger, through `seeding`),
`seeding.reset_sandbox` (`joyctl sandbox reset`), `embedded.serve` (`joyctl sandbox serve`),
`embedded.sandbox_state` (`joyctl sandbox state`) and `embedded.scenarios` (`joyctl sandbox
scenarios`).
"""
