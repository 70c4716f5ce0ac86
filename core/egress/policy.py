"""The policy of one caller: what it may reach beyond public addresses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .addresses import IP, _internal, _ip, _never, _wrapper
from .allow import AllowEntry, parse_allow_list
from .instance import _SERVICE, _reaches_a_service


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
