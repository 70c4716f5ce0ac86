"""An address of this host that is not loopback, for a local server that processes other than
pytest's must reach: a webhook receiver, an endpoint a worker's checks call.

Those processes run the local or production settings, where core.egress never lets a check or a
webhook reach loopback (only config/settings/test.py, this process's, opens it). They reach this
host on its own network address instead, as a private one allowed the way an operator allows it:
WEBHOOK_ALLOW_PRIVATE_TARGETS for webhooks, a workspace's egress allow-list for checks.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import cache

import pytest


@cache
def host_address() -> str | None:
    """A non-loopback IPv4 address a server can listen on here, or None (a host with loopback only)."""
    candidates: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            candidates.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        candidates += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    for address in dict.fromkeys(candidates):
        ip = ipaddress.ip_address(address)
        if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
            continue
        try:
            with socket.socket() as listener:
                listener.bind((address, 0))
        except OSError:
            continue
        return address
    return None


def required_host_address() -> str:
    """host_address(), or skip the test: it needs this host reachable on a non-loopback address."""
    address = host_address()
    if address is None:
        pytest.skip("this host has no address but loopback, which checks and webhooks never reach")
    return address
