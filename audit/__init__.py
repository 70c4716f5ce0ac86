"""The audit log of security events: who logged in, out or failed to, who was refused (a real 403),
which API tokens were made or deleted, and who was given, changed or lost a role in an operation.

Each event is one `AuditEntry` row (who, what, when in UTC, the source address, the request id)
and one INFO line on the `snailtrail.audit` logger, written by `record`. A password or a token is
never part of either. Every entry comes from a signal (`receivers`): this app imports no other app,
and no app imports it (core.signals, docs/architecture.md).
"""

from __future__ import annotations

from typing import Any


def record(event: str, *, request: Any = None, user: Any = None, username: str | None = None, **details: Any):
    """Record one security event (see `audit.services.record`)."""
    from .services import record as _record  # the models load with the apps, not with this package

    return _record(event, request=request, user=user, username=username, **details)
