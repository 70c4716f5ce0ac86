"""`record`: the one way an audit entry is written."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from core.client import client_address
from core.request_id import get_request_id

from . import context
from .models import AuditEntry

logger = logging.getLogger("snailtrail.audit")

Event = AuditEntry.Event

# Never stored, whatever a caller passes: a secret has no place in an audit log.
_SECRET_KEYS = {"password", "token", "key", "secret", "credentials"}


def _who(user: Any, username: str | None) -> tuple[int | None, str]:
    if user is not None and getattr(user, "pk", None) is not None:
        return user.pk, user.get_username()
    return None, (username or "")[:150]


def record(
    event: str, *, request: Any = None, user: Any = None, username: str | None = None, **details: Any
) -> AuditEntry:
    """Write an entry for `event` and log it on `snailtrail.audit` (INFO, once committed).

    `user` is who acted (None for the system or an anonymous caller); `username` names who was
    tried when there is no user (a failed login). The source address is the request's, or the
    address of the request being served when there is no `request`.
    """
    user_pk, name = _who(user, username)
    source = request if request is not None else context.current_request()
    clean = {key: value for key, value in details.items() if key.lower() not in _SECRET_KEYS}
    entry = AuditEntry.objects.create(
        event=Event(event),
        user_pk=user_pk,
        username=name,
        source_address=(client_address(source) if source is not None else "")[:100],
        request_id=get_request_id() or getattr(request, "request_id", None) or "",
        details=clean,
    )
    payload = {
        "event": entry.event.value if isinstance(entry.event, Event) else entry.event,
        "at": entry.at.isoformat(),
        "user_id": entry.user_pk,
        "username": entry.username,
        "source_address": entry.source_address,
        "request_id": entry.request_id or None,
        "details": entry.details,
    }
    # A change rolled back never happened: its line is not written either.
    transaction.on_commit(
        lambda: logger.info("audit %s by %s", payload["event"], payload["username"] or "-", extra={"audit": payload}),
        robust=True,
    )
    return entry
