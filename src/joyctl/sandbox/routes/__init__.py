"""The emulator's HTTP routes: one module per Klaviyo resource family, plus `/__sandbox/` control.

`routing.resolve` picks the handler for a request from the shared endpoint table; handlers read
and change the store (`joyctl.sandbox.store`) and answer JSON:API documents.
"""
