"""The client's address of a request: what the throttles count by and what the audit log records."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str:
    """The client's address as the throttles find it: with NUM_PROXIES (API_NUM_PROXIES) set, DRF's
    pick from X-Forwarded-For; without, REMOTE_ADDR alone (the throttles would then take a whole
    X-Forwarded-For, which the client writes: not an address to record). Works on a Django request
    as on a DRF one."""
    if api_settings.NUM_PROXIES is None:
        return request.META.get("REMOTE_ADDR") or ""
    return BaseThrottle().get_ident(request) or ""
