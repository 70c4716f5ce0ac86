"""A workspace's egress allow-list: its entries (a CIDR, an address or a host name, optionally with a
port), how they are parsed, and which of them can never be honoured."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from .addresses import IP, NEVER, WRAPPERS, Network, literal
from .instance import _SERVICE, _reaches_a_service, _service_hosts

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_BRACKETED = re.compile(r"^\[([^\]]+)\](?::(\d+))?$")
# Names that mean this host or the metadata service wherever they are looked up.
_NEVER_NAMES = {
    "localhost",
    "localhost.localdomain",
    "ip6-localhost",
    "ip6-loopback",
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
}


@dataclass(frozen=True)
class AllowEntry:
    """One entry of a workspace's egress allow-list: a network or an exact host name, and a port or any."""

    network: Network | None = None
    host: str | None = None
    port: int | None = None

    def allows(self, ip: IP, port: int, host: str) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return _host_key(host) == self.host
        return self.network is not None and ip.version == self.network.version and ip in self.network

    def __str__(self) -> str:
        what = self.host or (
            str(self.network.network_address)
            if self.network is not None and self.network.num_addresses == 1
            else str(self.network)
        )
        if self.port is None:
            return what
        return f"[{what}]:{self.port}" if ":" in what else f"{what}:{self.port}"


def _host_key(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{text!r} is not a port (1 to 65535).")
    return int(text)


def parse_allow_entry(text: str) -> AllowEntry:
    """The entry, or ValueError saying what is wrong with it (its syntax only; see validate_allow_entry)."""
    if not isinstance(text, str):
        raise ValueError("An entry is a text: a CIDR, an IP address or a host name, optionally with :port.")
    text = text.strip().lower()
    if not text:
        raise ValueError("An entry cannot be empty.")
    if len(text) > 300 or any(c.isspace() for c in text):
        raise ValueError(f"{text[:60]!r} is not a CIDR, an IP address or a host name.")
    if "://" in text or "@" in text or "?" in text or "#" in text:
        raise ValueError(f"{text!r} is a URL: give a host name, an IP address or a CIDR, optionally with :port.")
    text, port = _split_port(text)
    if "/" in text:
        return AllowEntry(network=_network(text), port=port)
    address = literal(text)
    if address is not None:
        if "%" in text:
            raise ValueError(f"{text!r}: scoped addresses are link-local, never reachable.")
        return AllowEntry(network=ipaddress.ip_network(address), port=port)
    host = text.rstrip(".")
    labels = host.split(".")
    if ":" in host or not all(_HOST_LABEL.match(label) for label in labels) or len(host) > 253:
        raise ValueError(f"{text!r} is not a CIDR, an IP address or a host name.")
    if all(label.isdigit() for label in labels) or _inet_aton(host):
        raise ValueError(f"{text!r} looks like an IPv4 address in an unusual form; write it as a.b.c.d.")
    return AllowEntry(host=host, port=port)


def _split_port(text: str) -> tuple[str, int | None]:
    """The host part of an entry and its port, if it has one ("[fd12::5]:8080", "10.0.0.0/8:9090")."""
    port_text = None
    bracketed = _BRACKETED.match(text)
    if bracketed:
        text, port_text = bracketed.group(1), bracketed.group(2)
        if ":" not in text:
            raise ValueError("Brackets are for IPv6 addresses only, e.g. [fd12::5]:8080.")
    elif text.count(":") == 1:
        text, port_text = text.split(":")
    return text, (_port(port_text) if port_text is not None else None)


def _network(text: str) -> Network:
    """A CIDR, strictly: one with host bits set is refused with the range it probably meant."""
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        loose = None
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            pass
        if loose is not None:
            raise ValueError(f"{text} has host bits set; did you mean {loose}?") from None
        raise ValueError(f"{text!r} is not a CIDR ({error}).") from None


def _inet_aton(text: str) -> bool:
    try:
        socket.inet_aton(text)
    except OSError:
        return False
    return True


def validate_allow_entry(text: str) -> str:
    """The entry as stored (normalised), or ValidationError saying why it cannot be honoured.

    An entry is a CIDR ("10.20.0.0/16"), an IP address ("10.20.0.5", "fd12::5") or a host name
    ("grafana.internal", matched exactly against the URL's host, whose addresses it then allows),
    each optionally with a port ("10.20.0.0/16:9090", "[fd12::5]:8080", "grafana.internal:3000").
    Refused: anything else, and entries that could never be honoured: loopback, link-local (the
    metadata service), unspecified addresses and the names that mean them, a range that includes
    any of those, the IPv6 forms that wrap an IPv4 address (list the IPv4 address), and this
    instance's own database, Redis and metrics endpoints.
    """
    try:
        entry = parse_allow_entry(text)
    except ValueError as error:
        raise ValidationError(str(error), code="invalid") from None
    never = "never reachable, allow-list or not"
    if entry.host is not None:
        if entry.host in _NEVER_NAMES or entry.host.endswith(".localhost"):
            raise ValidationError(f"{entry.host} names this host or the metadata service: {never}.", code="never")
        for host, port in _service_hosts():
            if _host_key(host) == entry.host and entry.port in (None, port):
                raise ValidationError(
                    f"{entry} is one of this instance's own services: {never}. Name another port.", code="never"
                )
        return str(entry)
    network = entry.network
    assert network is not None
    for never_network, label in NEVER:
        if never_network.version != network.version or not network.overlaps(never_network):
            continue
        if never_network.num_addresses == 1 and network.num_addresses > 1:
            continue  # fd00::/8 holds the metadata address: that one stays refused, the rest is honoured
        if network.subnet_of(never_network):  # type: ignore[arg-type]
            raise ValidationError(f"{entry} is {label}: {never}.", code="never")
        raise ValidationError(
            f"{entry} includes {never_network} ({label}), {never}; list a narrower range.", code="never"
        )
    if network.version == 6:
        for wrapper, label, _ in WRAPPERS:
            if network.overlaps(wrapper):
                what = f"is {label}" if network.subnet_of(wrapper) else f"includes {wrapper} ({label}es)"
                raise ValidationError(
                    f"{entry} {what}, never allowed as such: list the IPv4 address or range itself.",
                    code="wrapper",
                )
    if (
        network.num_addresses == 1
        and entry.port is not None
        and _reaches_a_service(network.network_address, entry.port)
    ):
        raise ValidationError(f"{entry} is {_SERVICE}: {never}.", code="never")
    return str(entry)


def parse_allow_list(entries: Iterable[Any] | None) -> tuple[AllowEntry, ...]:
    """The usable entries of a stored list; an entry that does not parse (any more) allows nothing."""
    parsed = []
    for text in entries or ():
        try:
            parsed.append(parse_allow_entry(text))
        except ValueError:
            continue
    return tuple(parsed)
