"""Where a webhook may point when the service refuses private targets (a guard against SSRF).

A public deployment must not let any enterprise make it POST into its own network: to the
loopback interface, a private or link-local range (cloud metadata services live at
169.254.169.254), or any other address that is not globally routable. With private targets
refused (``Settings.webhook_private_targets``) a webhook is refused when its host resolves to
such an address, at registration and again before each delivery, because a name's addresses
may change in between. The sandbox allows them by default: integrators receive on their own
machines.

What this does not stop: a name that resolves to a public address when checked and to a
private one a moment later, when the HTTP client connects ("DNS rebinding"). Pinning the
checked address into the connection would; for that, put the service behind an egress proxy.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def private_address(url: str) -> str | None:
    """The first address of the URL's host that is not globally routable, or None.

    A host that does not resolve is not refused here: its delivery fails and is retried like
    any other unreachable receiver."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):  # gaierror is an OSError; ValueError: bad port
        return None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])  # (no IPv6 zone)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if not address.is_global:
            return str(address)
    return None
