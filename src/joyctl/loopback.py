"""Whether a host name or address stays on this machine (loopback), for binding and URLs.

Used wherever plain http or an open port is acceptable only on loopback: the sandbox server,
the emulator's webhook endpoints, and joyctl's own webhook subscriptions and receiver.
"""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """`localhost`, or an IPv4 or IPv6 loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
