"""The items of an operation: phases, tasks (and next steps, completion criteria), their detail,
blockers, and what live checks record on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F
from django.utils import timezone

from ..models import (
    Achievement,
    Blocker,
    Challenge,
    Decision,
    Finding,
    Note,
    Operation,
    Phase,
    PhaseStatus,
    Quote,
    Task,
)
from .activity import Actor
from .base import _create, item_update

# --- phases -----------------------------------------------------------------------------------


def phase_create(*, operation: Operation, number: int, title: str, actor: Actor, **fields: Any) -> Phase:
    return _create(Phase, actor=actor, operation=operation, number=number, title=title, **fields)


def phase_update(*, phase: Phase, actor: Actor, **changes: Any) -> Phase:
    """Update a phase; starting or finishing it stamps the time unless one is given."""
    status = changes.get("status")
    now = timezone.now().replace(microsecond=0)
    if status in (PhaseStatus.IN_PROGRESS, PhaseStatus.COMPLETE) and not phase.started_at:
        changes.setdefault("started_at", now)
    if status == PhaseStatus.COMPLETE and not phase.finished_at:
        changes.setdefault("finished_at", now)
    return item_update(item=phase, actor=actor, **changes)


# --- tasks, next steps and completion criteria ------------------------------------------------------


def task_create(
    *,
    operation: Operation,
    title: str,
    actor: Actor,
    kind: str = Task.Kind.TASK,
    phase: Phase | None = None,
    **fields: Any,
) -> Task:
    if fields.get("done"):
        fields.setdefault("done_at", timezone.now().replace(microsecond=0))
    return _create(Task, actor=actor, operation=operation, phase=phase, kind=kind, title=title, **fields)


def task_set_done(*, task: Task, done: bool, actor: Actor) -> Task:
    """Tick or untick a task, next step or completion criterion."""
    return task_update(task=task, actor=actor, done=done)


def task_update(*, task: Task, actor: Actor, **changes: Any) -> Task:
    """Edit a task; ticking it here stamps `done_at` like `task_set_done`."""
    if "done" in changes and changes["done"] != task.done:
        changes["done_at"] = timezone.now().replace(microsecond=0) if changes["done"] else None
    return item_update(item=task, actor=actor, **changes)


# --- the rest of a phase's detail and the operation's lists ------------------------------------------


def challenge_create(*, phase: Phase, title: str, actor: Actor, **fields: Any) -> Challenge:
    fields.pop("operation", None)  # always the phase's
    return _create(Challenge, actor=actor, operation=phase.operation, phase=phase, title=title, **fields)


def finding_create(
    *, operation: Operation, subject: str, verdict: str, actor: Actor, phase: Phase | None = None, **fields: Any
) -> Finding:
    return _create(Finding, actor=actor, operation=operation, phase=phase, subject=subject, verdict=verdict, **fields)


def decision_create(*, operation: Operation, title: str, actor: Actor, **fields: Any) -> Decision:
    return _create(Decision, actor=actor, operation=operation, title=title, **fields)


def achievement_create(*, operation: Operation, title: str, actor: Actor, **fields: Any) -> Achievement:
    return _create(Achievement, actor=actor, operation=operation, title=title, **fields)


def quote_create(*, operation: Operation, text: str, actor: Actor, **fields: Any) -> Quote:
    return _create(Quote, actor=actor, operation=operation, text=text, **fields)


def note_create(*, operation: Operation, title: str, actor: Actor, **fields: Any) -> Note:
    return _create(Note, actor=actor, operation=operation, title=title, **fields)


# --- blockers ---------------------------------------------------------------------------------------


def blocker_open(*, operation: Operation, title: str, actor: Actor, **fields: Any) -> Blocker:
    fields.setdefault("opened_at", timezone.now().replace(microsecond=0))
    fields["state"] = Blocker.State.OPEN
    return _create(Blocker, actor=actor, operation=operation, title=title, **fields)


def blocker_resolve(*, blocker: Blocker, actor: Actor, status_text: str | None = None) -> Blocker:
    changes: dict[str, Any] = {"state": Blocker.State.RESOLVED, "resolved_at": timezone.now().replace(microsecond=0)}
    if status_text is not None:
        changes["status_text"] = status_text
    if not blocker.is_open:
        return blocker
    return item_update(item=blocker, actor=actor, **changes)


def blocker_reopen(*, blocker: Blocker, actor: Actor) -> Blocker:
    if blocker.is_open:
        return blocker
    return item_update(item=blocker, actor=actor, state=Blocker.State.OPEN, resolved_at=None)


# --- live checks -----------------------------------------------------------------------------------


def item_mark_checked(*, item: Task | Finding, at: dt.datetime, stale_after: dt.timedelta) -> Task | Finding:
    """Record that a live check looked at this finding or criterion at `at`.

    Called by the ops app on every run; a change of verdict or state goes through the usual
    services and the activity log, this only stamps freshness, so it writes no activity entry
    but still moves the operation's version so open dashboards update their "checked" time.
    """
    type(item).objects.filter(pk=item.pk).update(checked_at=at, check_stale_after=stale_after)
    Operation.objects.filter(pk=item.operation_id).update(version=F("version") + 1)
    item.checked_at, item.check_stale_after = at, stale_after
    return item


def item_record_check(*, item: Task | Finding, verdict: str, observed: str) -> Task | Finding:
    """Keep what a live check saw of this finding or criterion beside the team's words, never in
    them (issue #15): `verdict` is a `LiveVerdict`, `observed` the value as the page shows it.

    A new verdict is a change to the item, logged as the acting check's (inside `attributed`) and
    stamped on the item as such. A new value under the same verdict (a latency, a count) only
    refreshes what the page shows, as `item_mark_checked` refreshes the time: a log entry per run
    would bury the changes people make.
    """
    if verdict != item.live_verdict:
        return item_update(item=item, actor=None, live_verdict=verdict, live_observed=observed)
    if observed != item.live_observed:
        type(item).objects.filter(pk=item.pk).update(live_observed=observed)
        item.live_observed = observed
    return item
