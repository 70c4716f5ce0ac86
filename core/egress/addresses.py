"""Which addresses are never reachable, which are not public, and the IPv6 forms that wrap an IPv4
address: the judgement of one IP address, with no lookup and no connection."""

from __future__ import annotations

import ipaddress

from django.conf import settings

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*pairs: tuple[str, str]) -> tuple[tuple[Network, str], ...]:
    return tuple((ipaddress.ip_network(cidr), label) for cidr, label in pairs)


_LOOPBACK = "a loopback address"
_LINK_LOCAL = "a link-local address"
# Never reachable: no allow-list, no setting opens these (EGRESS_TEST_ALLOW_LOOPBACK aside, for
# plain loopback in the test suite).
NEVER = _nets(
    ("127.0.0.0/8", _LOOPBACK),
    ("::1/128", _LOOPBACK),
    ("0.0.0.0/8", "an unspecified address"),
    ("::/128", "an unspecified address"),
    ("169.254.0.0/16", f"{_LINK_LOCAL} (the cloud metadata service answers there)"),
    ("fe80::/10", _LINK_LOCAL),
    ("fd00:ec2::254/128", "the cloud metadata service's address"),
)
# Not public: refused unless a workspace's allow-list (checks) or the operator (webhooks) allows them.
INTERNAL = _nets(
    ("10.0.0.0/8", "a private address"),
    ("172.16.0.0/12", "a private address"),
    ("192.168.0.0/16", "a private address"),
    ("fc00::/7", "a private (unique-local) address"),
    ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("2001:2::/48", "a benchmarking address"),
    ("192.0.2.0/24", "a documentation address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("ff00::/8", "a multicast address"),
    ("192.0.0.0/24", "a reserved address"),
    ("192.88.99.0/24", "a reserved address"),
    ("240.0.0.0/4", "a reserved address"),
    ("100::/64", "a reserved address"),
    ("fec0::/10", "a reserved (site-local) address"),
)


def _low32(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]


def _nat64_local(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """64:ff9b:1::/48 may use any RFC 6052 prefix length from /48 on: every place the IPv4 could be."""
    x = int(ip)
    return [
        ipaddress.IPv4Address(value)
        for value in (
            ((x >> 64) & 0xFFFF) << 16 | (x >> 40) & 0xFFFF,  # /48
            ((x >> 64) & 0xFF) << 24 | (x >> 32) & 0xFFFFFF,  # /56
            (x >> 24) & 0xFFFFFFFF,  # /64
            x & 0xFFFFFFFF,  # /96
        )
    ]


def _sixtofour(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    return [ip.sixtofour] if ip.sixtofour is not None else []


def _teredo(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    return list(ip.teredo) if ip.teredo is not None else []


# IPv6 ranges that carry an IPv4 address: refused as such, and the IPv4 address inside judged too.
WRAPPERS = tuple(
    (ipaddress.IPv6Network(cidr), label, unwrap)
    for cidr, label, unwrap in (
        ("::ffff:0:0/96", "an IPv4-mapped IPv6 address", _low32),
        ("::ffff:0:0:0/96", "an IPv4-translated IPv6 address", _low32),
        ("64:ff9b::/96", "a NAT64 address", _low32),
        ("64:ff9b:1::/48", "a local-use NAT64 address", _nat64_local),
        ("2002::/16", "a 6to4 address", _sixtofour),
        ("2001::/32", "a Teredo address", _teredo),
        ("::/96", "an IPv4-compatible IPv6 address", _low32),  # after ::1 and ::, which are NEVER
    )
)


def _test_loopback() -> bool:
    # The production settings refuse to start with it; a production settings module never honours it.
    if str(getattr(settings, "SETTINGS_MODULE", "") or "").endswith(".production"):
        return False
    return getattr(settings, "EGRESS_TEST_ALLOW_LOOPBACK", False) is True


def _plain_loopback(ip: IP) -> bool:
    return ip.version == 4 and ip in NEVER[0][0] or ip.version == 6 and ip in NEVER[1][0]


def _wrapper(ip: IP) -> tuple[str, list[ipaddress.IPv4Address]] | None:
    if ip.version != 6:
        return None
    for network, label, unwrap in WRAPPERS:
        if ip in network:
            return label, unwrap(ip)  # type: ignore[arg-type]
    return None


def _never(ip: IP, *, wrapped: bool = False) -> str | None:
    """Why no one may ever connect to this address (None: it is not one of those)."""
    if not wrapped and _plain_loopback(ip) and _test_loopback():
        return None
    for network, label in NEVER:
        if ip.version == network.version and ip in network:
            return label
    wrapper = _wrapper(ip)
    if wrapper is not None:
        label, inner = wrapper
        for address in inner:
            reason = _never(address, wrapped=True)
            if reason:
                return f"{label} wrapping {reason}"
    return None


def _internal(ip: IP) -> str | None:
    """Why the address is not public (None: it is), whatever allows it. NEVER addresses are not asked."""
    if _plain_loopback(ip) and _test_loopback():
        return None
    for network, label in INTERNAL:
        if ip.version == network.version and ip in network:
            return label
    wrapper = _wrapper(ip)
    if wrapper is not None:
        return wrapper[0]
    if not ip.is_global or ip.is_multicast:
        return "not a public address"
    return None


def is_public(address: str | IP) -> bool:
    """Whether anyone may be sent to this address without an allow-list (the default rule)."""
    ip = _ip(address)
    return _never(ip) is None and _internal(ip) is None


def _ip(address: str | IP) -> IP:
    if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return address
    ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])  # fe80::1%eth0 carries a scope
    return ip


def literal(host: str) -> IP | None:
    """The address a URL's host is, when it is an IP literal ("[::1]" too); else None."""
    try:
        return _ip(host)
    except ValueError:
        return None


def _internal_raw(ip: IP) -> bool:
    """Not public, the test setting aside."""
    return any(ip.version == n.version and ip in n for n, _ in INTERNAL) or _wrapper(ip) is not None or not ip.is_global
