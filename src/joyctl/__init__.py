"""joyctl: administer a Shopify loyalty program and its Klaviyo integration."""

import sys

__version__ = "0.1.0"

# httpx imports its optional command-line client whenever click, rich and pygments are
# installed, as they are beside Typer: about 30 ms of every start of a command that talks to
# Klaviyo. joyctl never runs that client. A None entry in sys.modules makes that one optional
# import fail as it would without those packages, so httpx leaves it out (`httpx.main` then only
# says the client is unavailable). setdefault: a process that already loaded it keeps it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
