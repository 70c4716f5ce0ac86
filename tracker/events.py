"""What happened to an operation, as stable event codes, and the one signal that announces it.

Every change to the tracker passes through an activity entry (`services.activity_record`), so the
tracker's events are derived from it: `events_for` is a pure function of the entry and the kind of
its subject, keyed on codes (`Task.Kind`, the model's name) and never on the labels the feed
shows, so renaming "Completion criterion" cannot change which events fire. Changes that are not
tracker items (a live check flipping, going stale) are announced by their app with `announce`.

Either way `event_happened` is sent with one `Occurrence`, inside the transaction that made the
change. Receivers (webhooks, notifications) write their rows in that transaction and queue their
sends with `transaction.on_commit`, so a rolled-back change is never announced. A change that is
no event sends nothing and costs nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import StrEnum
from typing import Any

from django.db import models
from django.utils import timezone

from .models import ActivityEntry, Blocker, Operation, PhaseStatus, Task
from .signals import event_happened


class Event(StrEnum):
    """The events a team can be told about. The values are part of the webhook API: never rename one."""

    BLOCKER_OPENED = "blocker.opened"
    BLOCKER_RESOLVED = "blocker.resolved"
    TASK_DONE = "task.done"  # tasks and next steps
    TASK_REOPENED = "task.reopened"
    CRITERION_DONE = "criterion.done"
    CRITERION_REOPENED = "criterion.reopened"
    PHASE_COMPLETED = "phase.completed"
    OPERATION_COMPLETED = "operation.completed"
    CHECK_FLIPPED = "check.flipped"  # the ops app
    CHECK_STALE = "check.stale"  # the ops app
    FORECAST_SLIPPED = "forecast.slipped"


@dataclasses.dataclass(frozen=True)
class Occurrence:
    """One event, as every receiver is given it.

    `subject` is {"type", "id", "title"} (None for the operation itself), `changes` maps a field to
    [old, new], `actor` is who or what made it ("ana", "check: VPC DNS", "system"), and `details`
    holds what the event adds (a check's observed value and evidence, a forecast's old and new date).
    """

    operation: Operation
    event: Event
    at: dt.datetime
    subject: dict[str, Any] | None = None
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)
    actor: str = "system"
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


def subject_kind(item: models.Model) -> str:
    """The stable code of what an item is: a task's kind ('task', 'next_step', 'criterion') or its model's name."""
    if isinstance(item, Task):
        return str(item.kind)
    return item._meta.model_name or ""


# What a tick means, by the ticked item's kind.
_DONE_EVENTS = {
    Task.Kind.TASK: (Event.TASK_DONE, Event.TASK_REOPENED),
    Task.Kind.NEXT_STEP: (Event.TASK_DONE, Event.TASK_REOPENED),
    Task.Kind.CRITERION: (Event.CRITERION_DONE, Event.CRITERION_REOPENED),
}


def _change(entry: ActivityEntry, field: str) -> tuple[Any, Any] | None:
    pair = entry.changes.get(field)
    return (pair[0], pair[1]) if isinstance(pair, list | tuple) and len(pair) == 2 else None


def _blocker_events(entry: ActivityEntry) -> list[Event]:
    state = _change(entry, "state")
    if entry.action == ActivityEntry.Action.CREATED:
        return [Event.BLOCKER_OPENED] if state is None or state[1] == Blocker.State.OPEN else []
    if state == (Blocker.State.RESOLVED, Blocker.State.OPEN):
        return [Event.BLOCKER_OPENED]
    if state == (Blocker.State.OPEN, Blocker.State.RESOLVED):
        return [Event.BLOCKER_RESOLVED]
    return []


def _done_events(entry: ActivityEntry, kind: str) -> list[Event]:
    done, reopened = _DONE_EVENTS[Task.Kind(kind)]
    change = _change(entry, "done")
    if change is None:
        return []
    old, new = change
    if new is True and old is not True:  # ticked, or created already done
        return [done]
    if old is True and new is False and entry.action != ActivityEntry.Action.CREATED:
        return [reopened]
    return []


def _phase_events(entry: ActivityEntry) -> list[Event]:
    change = _change(entry, "status")
    if change is not None and change[1] == PhaseStatus.COMPLETE and change[0] != PhaseStatus.COMPLETE:
        return [Event.PHASE_COMPLETED]
    return []


def events_for(entry: ActivityEntry, *, kind: str) -> list[Event]:
    """The events an activity entry is, given its subject's `subject_kind`. No query."""
    if entry.action not in (ActivityEntry.Action.CREATED, ActivityEntry.Action.UPDATED):
        return []
    if kind == "blocker":
        return _blocker_events(entry)
    if kind in _DONE_EVENTS:
        return _done_events(entry, kind)
    if kind == "phase":
        return _phase_events(entry)
    return []


def announce(
    *,
    operation: Operation,
    event: Event | str,
    subject: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    actor: str = "system",
    details: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Occurrence:
    """Send `event_happened` for one event. Call it inside the transaction that makes the change.

    An unknown `event` is a ValueError (a programming error, never a user's).
    """
    occurrence = Occurrence(
        operation=operation,
        event=Event(event),
        at=at or timezone.now(),
        subject=subject,
        changes=changes or {},
        actor=actor,
        details=details or {},
    )
    event_happened.send(sender=Operation, occurrence=occurrence)
    return occurrence


def announce_activity(entry: ActivityEntry, *, subject: models.Model) -> list[Occurrence]:
    """Announce the events an activity entry is (`services.activity_record` calls it for every entry)."""
    events = events_for(entry, kind=subject_kind(subject))
    return [
        announce(
            operation=entry.operation,
            event=event,
            subject={"type": entry.subject_type, "id": entry.subject_id, "title": entry.subject_label},
            changes=entry.changes,
            actor=entry.actor_name,
            at=entry.at,
        )
        for event in events
    ]
