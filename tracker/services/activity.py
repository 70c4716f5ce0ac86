"""The activity log and who made a change: every write of the tracker records an `ActivityEntry`
here, which also announces the change as events (tracker.events) and moves the operation's version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.db.models import F

from core.signals import security_event

from .. import events
from ..models import ActivityEntry, Operation, Task

Item = TypeVar("Item", bound=models.Model)
Actor = AbstractBaseUser | None


def _plain(value: Any) -> Any:
    """A field value as JSON for the activity log."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _subject_type(item: models.Model) -> str:
    """'task', 'next step', 'completion criterion', 'blocker'...: what the activity feed calls it."""
    if isinstance(item, Task):
        return item.get_kind_display().lower()
    return str(item._meta.verbose_name)


_attribution: ContextVar[dict[str, Any] | None] = ContextVar("attribution", default=None)


@contextmanager
def attributed(*, actor_name: str, evidence: dict[str, Any]) -> Iterator[None]:
    """Changes made inside are logged as `actor_name`'s, citing `evidence` (a worker acting on a check)."""
    token = _attribution.set({"actor_name": actor_name, "evidence": evidence})
    try:
        yield
    finally:
        _attribution.reset(token)


def activity_record(
    *,
    operation: Operation,
    actor: Actor,
    action: str,
    subject: models.Model,
    changes: dict[str, list[Any]] | None = None,
    actor_name: str = "",
) -> ActivityEntry:
    Operation.objects.filter(pk=operation.pk).update(version=F("version") + 1)
    context = _attribution.get() or {}
    entry = ActivityEntry.objects.create(
        operation=operation,
        actor=_user(actor),
        actor_name=actor_name or context.get("actor_name") or (actor.get_username() if actor is not None else "system"),
        evidence=context.get("evidence", {}),
        action=action,
        subject_type=_subject_type(subject),
        subject_id=subject.pk,
        subject_label=str(subject)[:500],
        changes=changes or {},
    )
    events.announce_activity(entry, subject=subject)
    return entry


def _operation_of(item: models.Model) -> Operation:
    return item if isinstance(item, Operation) else item.operation


def _user(actor: Actor) -> AbstractBaseUser | None:
    return actor if actor is not None and actor.pk else None


# What an imported item says changed it last, as the page shows it beside the item.
IMPORT_NAME = "import"


def _changer_name(actor: Actor) -> str:
    """`updated_by_name` of a change: "" when a person made it (their user is `updated_by`), else
    the check or worker acting, named as the activity log names it ("check: VPC DNS")."""
    if _user(actor) is not None:
        return ""
    context = _attribution.get()
    return context["actor_name"] if context else "system"


def _security_event(sender: type[models.Model], event: str, *, user: Actor = None, **details: Any) -> None:
    """Tell whoever listens (the audit app records it) about a change a security review asks about:
    `core.signals.security_event`, sent in this transaction. The tracker imports no app for it."""
    security_event.send(sender=sender, event=event, user=user, **details)
