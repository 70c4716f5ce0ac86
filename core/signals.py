"""Signals that carry security events up to whoever listens (the audit app), so that no app imports it.

An app that does something a security reviewer asks about afterwards (a role granted, a workspace's
egress widened) sends `security_event`; core's own 403 handlers send `permission_denied`. The
`audit` app connects its receivers to both in its `AppConfig.ready` and records each as an
`AuditEntry`: the senders know nothing of it, and with no receiver nothing is recorded.

Both are sent synchronously, inside the sender's transaction: a receiver's row is rolled back with
the change it describes, and a receiver that raises makes the change fail, as a direct call would.

- `security_event`: `event` (an `audit.models.AuditEntry.Event` value, e.g. "membership_granted"),
  `user` (who acted, or None for the system), optionally `request`, and the event's details as
  further keyword arguments (JSON-serialisable, never a secret). `sender`: the model the event is
  about.
- `permission_denied`: a real 403 (a permission check said no; not a 401, not a throttle, not an
  outsider's 404): `request`, `user` (None when anonymous), and the details `method`, `path`,
  `operation`, `reason` and, from the API, `view`. `sender`: the handler's module.
"""

from __future__ import annotations

from django.dispatch import Signal

security_event = Signal()
permission_denied = Signal()
