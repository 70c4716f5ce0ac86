"""The address of the HTTP request being served, for events recorded without the request in hand
(a token saved by DRF's view, a membership changed by a service).

Set from the WSGI environ when Django starts a request (`request_started`) and cleared when it
finishes: no middleware needed. Only the two headers the address is read from are kept.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest

_KEYS = ("REMOTE_ADDR", "HTTP_X_FORWARDED_FOR")
_current: ContextVar[dict[str, str] | None] = ContextVar("audit_request_meta", default=None)


def request_started(sender: Any = None, environ: dict[str, Any] | None = None, **_: Any) -> None:
    _current.set({key: environ[key] for key in _KEYS if key in environ} if environ is not None else None)


def request_finished(sender: Any = None, **_: Any) -> None:
    _current.set(None)


def current_request() -> HttpRequest | None:
    """A bare request carrying the served request's address headers, or None outside a request."""
    meta = _current.get()
    if meta is None:
        return None
    request = HttpRequest()
    request.META = dict(meta)
    return request
