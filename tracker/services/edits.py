"""The writes people make from the pages and the API, each typed and keyword-only: tick, untick,
rename, move to another phase, edit a task, a phase, a blocker, a finding, a decision or an
achievement. (Blockers are resolved and
reopened with `blocker_resolve` / `blocker_reopen`, the current phase moved with
`operation_set_current_phase`.)

An edit names only what it changes: a field left at `KEEP` is left as it is (`None` is a value
some fields take: a task with no phase is a next step). Each is one change in the activity log,
with the rules of `task_update` / `phase_update` (ticking stamps `done_at`, finishing a phase its
`finished_at`). The generic `item_update` stays for the admin, whose form may change any field.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from django.core.exceptions import ValidationError

from ..models import Achievement, Blocker, Decision, Finding, Phase, Task
from .activity import Actor
from .base import item_update
from .items import phase_update, task_set_done, task_update


class Keep(enum.Enum):
    """The default of an edit's fields: leave the field as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _given(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not KEEP}


def _same_operation(item: Task | Finding, phase: Phase | None) -> None:
    """An item moves between the phases of its own operation only (never into another's)."""
    if phase is not None and phase.operation_id != item.operation_id:
        raise ValidationError({"phase": "That phase belongs to another operation."})


def task_tick(*, task: Task, actor: Actor) -> Task:
    """Mark a task, next step or completion criterion done (a no-op when it is)."""
    return task_set_done(task=task, done=True, actor=actor)


def task_untick(*, task: Task, actor: Actor) -> Task:
    """Reopen a task, next step or completion criterion (a no-op when it is open)."""
    return task_set_done(task=task, done=False, actor=actor)


def task_rename(*, task: Task, title: str, actor: Actor) -> Task:
    """Give a task another title (one line; the model's length limit applies)."""
    if "\n" in title or not title.strip():
        raise ValidationError({"title": "A title is one line of text, not empty."})
    return task_update(task=task, actor=actor, title=title)


def task_move(*, task: Task, phase: Phase | None, actor: Actor) -> Task:
    """Move a task to another phase of its operation (None: out of every phase, as a next step is)."""
    _same_operation(task, phase)
    return task_update(task=task, actor=actor, phase=phase)


def task_edit(
    *,
    task: Task,
    actor: Actor,
    title: str | Keep = KEEP,
    detail: str | Keep = KEEP,
    done: bool | Keep = KEEP,
    phase: Phase | None | Keep = KEEP,
    kind: str | Keep = KEEP,
    group: str | Keep = KEEP,
    icon: str | Keep = KEEP,
) -> Task:
    """Change any of the fields people edit on a task (the API's PATCH)."""
    if phase is not KEEP:
        _same_operation(task, phase)
    changes = _given(title=title, detail=detail, done=done, phase=phase, kind=kind, group=group, icon=icon)
    return task_update(task=task, actor=actor, **changes)


def phase_edit(
    *,
    phase: Phase,
    actor: Actor,
    number: int | Keep = KEEP,
    title: str | Keep = KEEP,
    status: str | Keep = KEEP,
    stated_progress: int | None | Keep = KEEP,
    duration: dt.timedelta | None | Keep = KEEP,
    started_at: dt.datetime | None | Keep = KEEP,
    finished_at: dt.datetime | None | Keep = KEEP,
    current_focus: str | Keep = KEEP,
    achievement: str | Keep = KEEP,
) -> Phase:
    """Change any of the fields people edit on a phase (the API's PATCH); starting or finishing it
    stamps the time unless one is given."""
    changes = _given(
        number=number,
        title=title,
        status=status,
        stated_progress=stated_progress,
        duration=duration,
        started_at=started_at,
        finished_at=finished_at,
        current_focus=current_focus,
        achievement=achievement,
    )
    return phase_update(phase=phase, actor=actor, **changes)


def blocker_edit(
    *,
    blocker: Blocker,
    actor: Actor,
    title: str | Keep = KEEP,
    severity: str | Keep = KEEP,
    description: str | Keep = KEEP,
    impact: str | Keep = KEEP,
    status_text: str | Keep = KEEP,
) -> Blocker:
    """Change what a blocker says (its state changes only with `blocker_resolve` / `blocker_reopen`)."""
    changes = _given(title=title, severity=severity, description=description, impact=impact, status_text=status_text)
    return item_update(item=blocker, actor=actor, **changes)


def finding_edit(
    *,
    finding: Finding,
    actor: Actor,
    phase: Phase | None | Keep = KEEP,
    subject: str | Keep = KEEP,
    observed: str | Keep = KEEP,
    expected: str | Keep = KEEP,
    verdict: str | Keep = KEEP,
    note: str | Keep = KEEP,
) -> Finding:
    """Change what a finding says (what a live check saw is kept beside it, never written here)."""
    if phase is not KEEP:
        _same_operation(finding, phase)
    changes = _given(phase=phase, subject=subject, observed=observed, expected=expected, verdict=verdict, note=note)
    return item_update(item=finding, actor=actor, **changes)


def decision_edit(
    *,
    decision: Decision,
    actor: Actor,
    group: str | Keep = KEEP,
    title: str | Keep = KEEP,
    detail: str | Keep = KEEP,
) -> Decision:
    """Change a recorded decision."""
    return item_update(item=decision, actor=actor, **_given(group=group, title=title, detail=detail))


def achievement_edit(
    *,
    achievement: Achievement,
    actor: Actor,
    category: str | Keep = KEEP,
    icon: str | Keep = KEEP,
    title: str | Keep = KEEP,
    detail: str | Keep = KEEP,
) -> Achievement:
    """Change an achievement."""
    changes = _given(category=category, icon=icon, title=title, detail=detail)
    return item_update(item=achievement, actor=actor, **changes)
