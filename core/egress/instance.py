"""This instance's own services (its databases, Redis, the broker, the caches, the worker's metrics
port), read from the settings at call time: never reachable from here, allow-list or not."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings

from .addresses import IP, _internal_raw, _ip, _never, _wrapper, literal

_SERVICE_CACHE_SECONDS = 60.0
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
