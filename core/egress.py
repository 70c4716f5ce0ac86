"""Where this server may open a connection on a user's behalf, and the one way it does.

Webhooks, `http_endpoint` checks, ML inference checks and anything else that connects to an address
a user typed go through here. A user who can make the server connect somewhere, and read the
answer (a check run) or even just whether there was one (a yes/no oracle), can read what only the
server can reach: its own loopback services, the cloud metadata service, the database and Redis,
the private network. So:

- The host is resolved ONCE and every address it gives is judged before any connection. The
  connection then goes to the very address that was judged (`_PinnedHTTPConnection`), never to a
  second lookup, so a name that answers differently the second time (DNS rebinding) gains nothing.
  The Host header, TLS SNI and certificate check still use the host name.
- Never reachable, whatever anyone allows: loopback (127.0.0.0/8, ::1), unspecified (0.0.0.0/8,
  ::), link-local (169.254.0.0/16, where the metadata service answers, and fe80::/10), the IPv6
  metadata address fd00:ec2::254, any IPv6 form that wraps one of those, and this instance's own
  services: the host and port of every database, of REDIS_URL / CELERY_BROKER_URL and the cache,
  and the worker's metrics port (read from the settings at call time; a service on loopback or
  on every interface has its port refused on every internal address, since this host has some).
- Refused unless allowed: every address that is not public: private (RFC 1918, fc00::/7), shared
  (100.64.0.0/10, carrier-grade NAT), benchmarking, documentation, multicast, reserved, and the
  IPv6 forms that embed an IPv4 address (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64
  64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32). For those the embedded IPv4
  address is unwrapped and judged too (a wrapped loopback address is loopback), and the wrapper
  range itself stays refused: write the IPv4 address instead.
  A workspace's `egress_allow` list opens internal CIDRs, addresses or host names (optionally
  with a port) for that workspace's checks (`Policy.for_checks`; `validate_allow_entry` checks
  an entry); the operator's WEBHOOK_ALLOW_PRIVATE_TARGETS opens every internal address for webhooks.
- Every redirect is a new request judged the same way, followed only where the caller asks
  (`max_redirects`); the time limit is one deadline for everything (lookup, connect, TLS, every
  read, every hop: a server that drips a byte a second is cut off at the deadline), and at most
  `max_bytes` of a body are read. No proxy from the environment is used and nothing is retried.

One hole, for the test suite only: EGRESS_TEST_ALLOW_LOOPBACK (True only in
config/settings/test.py, refused by config/settings/production.py) makes plain 127.0.0.0/8 and ::1
reachable like a public address, so the tests' local servers answer. Wrapped loopback forms and
this instance's services stay refused even then.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3.exceptions
from django.conf import settings
from django.core.exceptions import ValidationError
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util import Timeout, parse_url

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_SERVICE_CACHE_SECONDS = 60.0


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


# --- this instance's own services ---------------------------------------------------------------------

_DEFAULT_PORTS = {
    "postgresql": 5432,
    "postgis": 5432,
    "mysql": 3306,
    "oracle": 1521,
    "redis": 6379,
    "rediss": 6379,
    "valkey": 6379,
    "valkeys": 6379,
    "amqp": 5672,
    "amqps": 5671,
    "pyamqp": 5672,
    "librabbitmq": 5672,
    "sentinel": 26379,
}
_service_addresses: dict[tuple[str, int], tuple[float, tuple[IP, ...]]] = {}
_service_lock = threading.Lock()


def _service_urls() -> Iterable[str]:
    yield getattr(settings, "REDIS_URL", "") or ""
    broker = getattr(settings, "CELERY_BROKER_URL", "") or ""
    yield from (broker if isinstance(broker, list | tuple) else str(broker).split(";"))
    yield getattr(settings, "CELERY_RESULT_BACKEND", "") or ""
    for cache in getattr(settings, "CACHES", {}).values():
        location = cache.get("LOCATION", "")
        yield from (location if isinstance(location, list | tuple) else [location])


def _service_hosts() -> list[tuple[str, int]]:
    """(host, port) of every service of this instance the settings name."""
    found = []
    for database in getattr(settings, "DATABASES", {}).values():
        host = str(database.get("HOST") or "")
        engine = str(database.get("ENGINE") or "")
        port = database.get("PORT") or next((p for name, p in _DEFAULT_PORTS.items() if name in engine), None)
        if host and not host.startswith("/") and port:
            found.append((host, int(port)))
    for url in _service_urls():
        if not isinstance(url, str) or "://" not in url:
            continue
        try:
            parts = urlsplit(url.strip())
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme.split("+")[0].lower())
        except ValueError:
            continue
        if parts.hostname and port:
            found.append((parts.hostname, port))
    metrics_port = getattr(settings, "WORKER_METRICS_PORT", None)
    if metrics_port:
        found.append((str(getattr(settings, "WORKER_METRICS_ADDRESS", "") or "0.0.0.0"), int(metrics_port)))
    return found


def _service_lookup(host: str, port: int) -> tuple[IP, ...]:
    address = literal(host)
    if address is not None:
        return (address,)
    now = time.monotonic()
    hit = _service_addresses.get((host, port))
    if hit is not None and hit[0] > now:
        return hit[1]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = tuple(dict.fromkeys(_ip(info[4][0]) for info in infos))
    except (OSError, UnicodeError, ValueError):
        addresses = ()  # nothing can connect to a name that does not resolve
    with _service_lock:
        _service_addresses[(host, port)] = (now + _SERVICE_CACHE_SECONDS, addresses)
    return addresses


def instance_services() -> list[tuple[IP | None, int]]:
    """(address, port) of every service of this instance; None for "any internal address": a
    service that listens on loopback or on every interface may well answer on this host's private
    addresses too, which no list of ours names."""
    services: list[tuple[IP | None, int]] = []
    for host, port in _service_hosts():
        for address in _service_lookup(host, port):
            local = address.is_loopback or address.is_unspecified or _never(address, wrapped=True)
            services.append((None if local else address, port))
    return services


def _is_service(ip: IP, port: int, services: list[tuple[IP | None, int]]) -> bool:
    for address, service_port in services:
        if service_port != port:
            continue
        if address is None and (_never(ip, wrapped=True) or _internal_raw(ip)):
            return True
        if address is not None and address == ip:
            return True
    return False


_SERVICE = "one of this instance's own services"


def _reaches_a_service(ip: IP, port: int) -> bool:
    """Whether ip:port (or the IPv4 address it wraps) is one of this instance's services."""
    services = instance_services()
    wrapper = _wrapper(ip)
    return any(_is_service(address, port, services) for address in [ip, *(wrapper[1] if wrapper else [])])


def _internal_raw(ip: IP) -> bool:
    """Not public, the test setting aside."""
    return any(ip.version == n.version and ip in n for n, _ in INTERNAL) or _wrapper(ip) is not None or not ip.is_global


# --- allow-lists ------------------------------------------------------------------------------------------

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
    port_text = None
    bracketed = _BRACKETED.match(text)
    if bracketed:
        text, port_text = bracketed.group(1), bracketed.group(2)
        if ":" not in text:
            raise ValueError("Brackets are for IPv6 addresses only, e.g. [fd12::5]:8080.")
    elif text.count(":") == 1:
        text, port_text = text.split(":")
    port = _port(port_text) if port_text is not None else None
    if "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as error:
            loose = None
            try:
                loose = ipaddress.ip_network(text, strict=False)
            except ValueError:
                pass
            if loose is not None:
                raise ValueError(f"{text} has host bits set; did you mean {loose}?") from None
            raise ValueError(f"{text!r} is not a CIDR ({error}).") from None
        return AllowEntry(network=network, port=port)
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


# --- the policy -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """What one caller may reach beyond public addresses: allow-list entries (a workspace's checks)
    or every internal address (webhooks with WEBHOOK_ALLOW_PRIVATE_TARGETS). Never the NEVER ones."""

    allow: tuple[AllowEntry, ...] = ()
    internal: bool = False
    # How a refusal of an internal address ends, for the people who read it.
    hint: str = "not public"

    @classmethod
    def for_checks(cls, egress_allow: Iterable[Any] | None = ()) -> Policy:
        return cls(
            allow=parse_allow_list(egress_allow),
            hint="not public, and not in this workspace's egress allow-list",
        )

    @classmethod
    def for_webhooks(cls) -> Policy:
        return cls(internal=bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False)), hint="not public")

    def refusal(self, address: str | IP, port: int, host: str = "") -> tuple[str, bool] | None:
        """(why, never) when this policy may not connect to address:port for `host`; None to go ahead."""
        ip = _ip(address)
        reason = _never(ip)
        if reason:
            return reason, True
        if _reaches_a_service(ip, port):
            return _SERVICE, True
        internal = self._internal_refusal(ip, port, host)
        return (internal, False) if internal else None

    def _internal_refusal(self, ip: IP, port: int, host: str) -> str | None:
        reason = _internal(ip)
        if reason is None or self.internal:
            return None
        if _wrapper(ip) is None and any(entry.allows(ip, port, host) for entry in self.allow):
            return None
        return reason


class EgressError(Exception):
    """Nothing was (or could be) asked of the target. Not an OSError: urllib3 must not retry it."""

    code = "EgressError"


class InvalidURL(EgressError):
    code = "InvalidURL"


class Refused(EgressError):
    """The policy refuses an address of the host. The message names the host and the kind of
    address, never the address a name resolved to (that would map our internal DNS for anyone)."""

    code = "TargetRefused"

    def __init__(self, host: str, reason: str, *, never: bool, is_literal: bool, hint: str = "not public"):
        self.host, self.reason, self.never, self.is_literal = host, reason, never, is_literal
        verb = "is" if is_literal else "resolves to"
        why = "which is never reachable" if never else f"which is {hint}"
        super().__init__(f"{host} {verb} {reason}, {why}")


class Unresolvable(EgressError):
    code = "NameResolution"

    def __init__(self, host: str, detail: str = ""):
        self.host = host
        super().__init__(f"{host} does not resolve" + (f" ({detail})" if detail else ""))


class TimedOut(EgressError):
    code = "Timeout"


class ConnectFailed(EgressError):
    code = "ConnectionError"


class TransportFailed(EgressError):
    """TLS, a broken or malformed answer: something answered, but not HTTP we could read."""

    code = "ProtocolError"


class TooManyRedirects(EgressError):
    code = "TooManyRedirects"


def never_reachable(host: str, port: int | None = None) -> str | None:
    """Why an IP-literal host can never be reached by anyone (no DNS is asked); None otherwise.
    For a check saved before its workspace's allow-list is known: internal addresses are judged at run time."""
    address = literal(host)
    if address is None:
        return None
    reason = _never(address)
    if reason:
        return reason
    if port is not None and _reaches_a_service(address, port):
        return _SERVICE
    return None


class _Deadline:
    """One time limit for a whole fetch. Past it, every socket of the fetch is shut down, so a read
    blocked on a server that answers a byte at a time returns at once."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + max(0.0, seconds)
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.expired = False

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.expired or self.remaining() <= 0

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self._timer is None:
                self._timer = threading.Timer(max(0.0, self.remaining()), self._expire)
                self._timer.daemon = True
                self._timer.start()
            expired = self.expired
        if expired:
            self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


def _lookup(host: str, port: int, deadline: _Deadline) -> list[IP]:
    """One getaddrinfo, within the deadline (a resolver that hangs does not hold the caller)."""
    outcome: dict[str, Any] = {}

    def ask() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=ask, name="egress-lookup", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline.remaining()))
    if thread.is_alive():
        raise TimedOut(f"looking up {host} took longer than the time allowed")
    error = outcome.get("error")
    if isinstance(error, OSError | UnicodeError):
        raise Unresolvable(host, str(error))
    if error is not None:
        raise error
    try:
        return list(dict.fromkeys(_ip(info[4][0]) for info in outcome["infos"]))
    except (ValueError, IndexError, TypeError):
        raise Unresolvable(host, "an answer that is no address") from None


def resolve(host: str, port: int, policy: Policy, *, deadline: _Deadline | None = None) -> list[IP]:
    """Every address of `host` (one lookup; none for an IP literal), each judged by the policy.
    Raises Refused when any of them is refused (a name is trusted whole or not at all), Unresolvable."""
    host = host.strip("[]")
    address = literal(host)
    if address is not None:
        addresses = [address]
    else:
        if not host:
            raise InvalidURL("The URL has no host name.")
        addresses = _lookup(host, port, deadline or _Deadline(30.0))
        if not addresses:
            raise Unresolvable(host, "no address")
    for ip in addresses:
        refused = policy.refusal(ip, port, host)
        if refused:
            raise Refused(host, refused[0], never=refused[1], is_literal=address is not None, hint=policy.hint)
    return addresses


def check_target(url: str, policy: Policy, *, timeout: float = 10.0) -> list[IP]:
    """Resolve and judge a URL's host now (when a webhook is saved); the same refusals as `fetch`."""
    target = parse(url)
    return resolve(target.dns_host, target.port, policy, deadline=_Deadline(timeout))


# --- connecting to the address that was judged ----------------------------------------------------------


def _connect(conn: HTTPConnection, addresses: tuple[IP, ...], deadline: _Deadline) -> socket.socket:
    errors: list[OSError] = []
    for address in addresses:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise urllib3.exceptions.ConnectTimeoutError(conn, f"Connection to {conn.host} timed out.")
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            limit = conn.timeout if isinstance(conn.timeout, int | float) else remaining
            sock.settimeout(max(0.001, min(remaining, limit)))
            sock.connect((str(address), conn.port))
            peer = _ip(sock.getpeername()[0])
        except TimeoutError:
            sock.close()
            raise urllib3.exceptions.ConnectTimeoutError(conn, f"Connection to {conn.host} timed out.") from None
        except OSError as error:
            sock.close()
            errors.append(error)
            continue
        if peer != address:  # cannot happen: connect() was given this address
            sock.close()
            raise Refused(conn.host, "another address than the one judged", never=True, is_literal=False)
        deadline.watch(sock)
        return sock
    raise urllib3.exceptions.NewConnectionError(conn, f"Failed to establish a new connection: {errors[-1]}")


class _Pinned:
    """Connects to the pre-judged addresses, never to a fresh lookup of the host name."""

    def __init__(self, *args: Any, egress_addresses: tuple[IP, ...] = (), egress_deadline: _Deadline, **kwargs: Any):
        self._egress_addresses = egress_addresses
        self._egress_deadline = egress_deadline
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        return _connect(self, self._egress_addresses, self._egress_deadline)


class _PinnedHTTPConnection(_Pinned, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_Pinned, HTTPSConnection):
    """TLS is negotiated with the host name (SNI) and the certificate checked against it."""


class _PinnedPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedSecurePool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


# --- fetching ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a target answered: its status and headers, and at most `max_bytes` of its body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool  # the body went on past max_bytes
    elapsed_ms: int  # from the first lookup to the end of the read
    url: str  # the URL that answered (after the redirects followed)
    redirects: tuple[str, ...] = field(default=())

    @property
    def encoding(self) -> str:
        content_type = self.headers.get("Content-Type", "")
        match = re.search(r"charset=[\"']?([-\w.:]+)", content_type, re.IGNORECASE)
        return match.group(1) if match else "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.body.decode(self.encoding, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class URLTarget:
    """Where a URL points, as the request will use it (one parser, urllib3's, for the lookup and the
    connection alike: two parsers reading one URL two ways is how filters are slipped past)."""

    scheme: str
    host: str  # as urllib3 wants it: lowercase, IDNA, IPv6 in brackets
    dns_host: str
    port: int
    request_uri: str


def url_problem(url: str) -> str:
    """What makes `url` unusable for any request from here ("" when nothing): http(s) only, a host,
    no user name or password (a check's URL is shown on pages), a valid port."""
    try:
        parse(url)
    except InvalidURL as error:
        return str(error)
    return ""


def parse(url: str) -> URLTarget:
    """The URL's scheme, host and port, or InvalidURL saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
        parsed = parse_url(url)
    except (ValueError, urllib3.exceptions.LocationParseError) as error:
        raise InvalidURL(f"not a valid URL ({error}).") from None
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise InvalidURL("must start with http:// or https://.")
    if "@" in parts.netloc:
        raise InvalidURL("must not contain a user name or password.")
    if not parts.hostname or not parsed.host:
        raise InvalidURL("has no host name.")
    port = parsed.port or (443 if scheme == "https" else 80)
    return URLTarget(scheme, parsed.host, parsed.host.strip("[]"), port, parsed.request_uri or "/")


def fetch(
    method: str,
    url: str,
    *,
    policy: Policy,
    timeout: float,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    max_redirects: int = 0,
) -> Answer:
    """One request (and the redirects the caller allows), every hop judged by `policy` and connected
    to the address judged, all within `timeout` seconds in total and `max_bytes` of body.

    Raises an EgressError: InvalidURL, Refused, Unresolvable, TimedOut, ConnectFailed,
    TransportFailed or TooManyRedirects. A 3xx is returned as it is when `max_redirects` is 0."""
    deadline = _Deadline(timeout)
    started = time.monotonic()
    headers = dict(headers or {})
    hops: list[str] = []
    try:
        while True:
            status, answer_headers, data, truncated = _one(method, url, policy, deadline, headers, body, max_bytes)
            location = answer_headers.get("Location")
            if status in REDIRECT_STATUSES and location and max_redirects > 0:
                if len(hops) >= max_redirects:
                    raise TooManyRedirects(f"more than {max_redirects} redirects")
                hops.append(url)
                following = urljoin(url, location.strip())
                if urlsplit(following).hostname != urlsplit(url).hostname:
                    headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
                if status == 303 or (status in (301, 302) and method.upper() == "POST"):
                    method, body = "GET", None
                    headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
                url = following
                continue
            elapsed_ms = round((time.monotonic() - started) * 1000)
            return Answer(status, answer_headers, data, truncated, elapsed_ms, url, tuple(hops))
    finally:
        deadline.cancel()


def _one(
    method: str,
    url: str,
    policy: Policy,
    deadline: _Deadline,
    headers: dict[str, str],
    body: bytes | None,
    max_bytes: int,
) -> tuple[int, Any, bytes, bool]:
    target = parse(url)
    addresses = tuple(resolve(target.dns_host, target.port, policy, deadline=deadline))
    remaining = deadline.remaining()
    if remaining <= 0:
        raise TimedOut("the time allowed ran out before the request was sent")
    pinned: dict[str, Any] = {"egress_addresses": addresses, "egress_deadline": deadline}
    if target.scheme == "https":
        pool: HTTPConnectionPool = _PinnedSecurePool(
            target.host,
            target.port,
            timeout=Timeout(connect=remaining, read=remaining),
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            **pinned,
        )
    else:
        pool = _PinnedPool(
            target.host,
            target.port,
            timeout=Timeout(connect=remaining, read=remaining),
            maxsize=1,
            retries=False,
            **pinned,
        )
    response = None
    try:
        response = pool.urlopen(
            method,
            target.request_uri,
            body=body,
            headers={"Accept-Encoding": "identity", **headers},
            retries=False,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
            decode_content=True,
        )
        data = bytearray()
        truncated = False
        while True:
            if deadline.passed():
                raise TimedOut("the time allowed ran out while reading the answer")
            chunk = response.read(min(64 * 1024, max_bytes + 1 - len(data)), decode_content=True)
            if not chunk:
                break
            data.extend(chunk)
            if len(data) > max_bytes:
                del data[max_bytes:]
                truncated = True
                break
        if deadline.expired:  # the deadline cut the stream short: what was read is not the answer
            raise TimedOut("the time allowed ran out while reading the answer")
        return response.status, response.headers, bytes(data), truncated
    except EgressError:
        raise
    except urllib3.exceptions.NewConnectionError as error:
        if deadline.passed():
            raise TimedOut("the time allowed ran out while connecting") from None
        reason = "connection refused" if "refused" in str(error).lower() else f"could not connect ({_cause(error)})"
        raise ConnectFailed(f"{target.dns_host}:{target.port}: {reason}") from None
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        raise TimedOut("the time allowed ran out") from None
    except urllib3.exceptions.SSLError as error:
        raise TransportFailed(f"TLS with {target.dns_host} failed ({_cause(error)})") from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        if deadline.passed():
            raise TimedOut("the time allowed ran out") from None
        raise TransportFailed(f"{target.dns_host}:{target.port}: {_cause(error)}") from None
    finally:
        if response is not None:
            response.release_conn()
        pool.close()


def _cause(error: BaseException) -> str:
    """The innermost reason of a urllib3 error, without the connection object's repr."""
    text = str(error)
    if ": " in text and text.startswith("<"):
        text = text.split(": ", 1)[1]
    return text[:300]
