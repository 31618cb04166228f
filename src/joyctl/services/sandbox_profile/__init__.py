"""The built-in `sandbox` profile: the emulator started in-process and seeded on first use.

Entry points: `embedded.EmbeddedSandbox` (one command's emulator), `embedded.ensure_seeded`,
`embedded.reset_sandbox` (`joyctl sandbox reset`), `embedded.serve` (`joyctl sandbox serve`) and
`embedded.scenarios` (`joyctl sandbox scenarios`).
"""
