"""Events the tracker derives rather than records: an operation completed, a forecast slipped.

- `operation.completed`: when a `phase.completed` leaves no phase of the operation unfinished.
- `forecast.slipped`: after every committed change that moves progress (a tick, a reopened task,
  a completed phase), the operation's completion forecast is made with and without the newest point; if the estimate
  moved later by at least MIN_SLIP, the slip is announced with the old and new dates and the new
  range. Receivers set their own threshold (a notification channel's "slipped by more than N
  days" measures from the date it was last told, so small slips add up).

`operation.completed` is announced inside the transaction of the change that caused it
(tracker.events); a slip, which needs the change's progress snapshot, in its own just after.
TrackerConfig.ready wires both receivers, so webhooks can subscribe to these events whether or
not the notify app is installed, and the services stay as they are.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.db import transaction

from . import events
from .lib.forecast import Forecast, forecast_completion
from .models import Blocker, Operation, Phase, PhaseStatus, ProgressSnapshot

MIN_SLIP = dt.timedelta(hours=12)


def phase_completed(*, occurrence: events.Occurrence, **_: Any) -> None:
    if occurrence.event != events.Event.PHASE_COMPLETED:
        return
    operation = occurrence.operation
    phases = Phase.objects.filter(operation=operation)
    if phases.exists() and not phases.exclude(status=PhaseStatus.COMPLETE).exists():
        events.announce(operation=operation, event=events.Event.OPERATION_COMPLETED, actor=occurrence.actor)


def _forecast(operation: Operation, history: list[ProgressSnapshot], now: dt.datetime) -> Forecast:
    blockers = Blocker.objects.filter(
        operation=operation, state=Blocker.State.OPEN, severity=Blocker.Severity.PRIMARY
    ).count()
    return forecast_completion([(s.at, s.progress) for s in history], now=now, open_primary_blockers=blockers)


def forecast_slip(operation: Operation, *, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The details of a slip the newest progress point made, or None (no slip, or no forecast)."""
    history = list(ProgressSnapshot.objects.filter(operation=operation, phase__isnull=True).order_by("at", "id"))
    if len(history) < 2:
        return None
    now = now or history[-1].at
    before = _forecast(operation, history[:-1], history[-1].at)
    after = _forecast(operation, history, now)
    if before.estimate is None or after.estimate is None or after.estimate - before.estimate < MIN_SLIP:
        return None
    return {
        "old": before.estimate.isoformat(),
        "new": after.estimate.isoformat(),
        "slip_days": (after.estimate - before.estimate).total_seconds() / 86_400,
        "earliest": after.earliest.isoformat() if after.earliest else None,
        "latest": after.latest.isoformat() if after.latest else None,
    }


_PROGRESS_EVENTS = {
    events.Event.TASK_DONE,
    events.Event.TASK_REOPENED,
    events.Event.CRITERION_DONE,
    events.Event.CRITERION_REOPENED,
    events.Event.PHASE_COMPLETED,
}


def progress_event(*, occurrence: events.Occurrence, **_: Any) -> None:
    """A tick or a completed phase moves progress, but its snapshot is written after the event
    (services write the activity entry first, then `progress_record`): the forecast is judged once
    the change is committed, once per operation however many ticks the transaction made, and the
    slip announced in a transaction of its own."""
    if occurrence.event not in _PROGRESS_EVENTS:
        return
    pk = occurrence.operation.pk
    for entry in transaction.get_connection().run_on_commit:  # (savepoints, callback, robust)
        queued = entry[1]
        if isinstance(queued, partial) and queued.func is _judge and queued.args == (pk,):
            return  # this transaction already judges it once it commits (a rollback drops both)
    transaction.on_commit(partial(_judge, pk), robust=True)


def _judge(operation_id: int) -> None:
    operation = Operation.objects.filter(pk=operation_id).first()
    if operation is None:
        return
    with transaction.atomic():
        details = forecast_slip(operation)
        if details:
            events.announce(operation=operation, event=events.Event.FORECAST_SLIPPED, details=details)
