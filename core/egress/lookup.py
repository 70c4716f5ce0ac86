"""Resolving a host once, within the deadline, and judging every address it gives."""

from __future__ import annotations

import socket
import threading
from typing import Any

from .addresses import IP, _ip, literal
from .deadline import _Deadline
from .errors import InvalidURL, Refused, TimedOut, Unresolvable
from .policy import Policy
from .urls import parse


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
