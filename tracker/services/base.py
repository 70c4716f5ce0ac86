"""The generic create, update and delete every item service is built on, and the progress
history they keep: each validates, saves, logs the change (`activity_record`) in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from ..models import Operation, Phase, ProgressSnapshot, Task
from ..selectors import latest_snapshots, phases_with_progress
from .activity import Actor, Item, _changer_name, _operation_of, _plain, _user, activity_record

# Fields whose values stay out of the activity log: the operation is the log's own key, and a
# public link's token hash is a secret's fingerprint.
_NOT_LOGGED = {"operation", "token_hash", "secret"}


def _next_position(model: type[models.Model], **scope: Any) -> int:
    highest = model.objects.filter(**scope).aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


@transaction.atomic
def _create(model: type[Item], *, actor: Actor, **fields: Any) -> Item:
    item = model(**fields)
    item.updated_by, item.updated_by_name = _user(actor), _changer_name(actor)
    if "position" in {f.name for f in model._meta.fields} and "position" not in fields:
        scope = {"operation": fields["operation"]}
        if fields.get("phase") is not None:
            scope["phase"] = fields["phase"]
        item.position = _next_position(model, **scope)
    item.full_clean()
    item.save()
    changes = {name: [None, _plain(value)] for name, value in fields.items() if name not in _NOT_LOGGED}
    activity_record(operation=_operation_of(item), actor=actor, action="created", subject=item, changes=changes)
    if isinstance(item, (Task, Phase)):
        progress_record(operation=_operation_of(item))
    return item


@transaction.atomic
def item_update(*, item: Item, actor: Actor, **changes: Any) -> Item:
    """Change fields of any tracker item; record only what really changed."""
    originals: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(item, name)
        if old != value:
            originals[name] = old
            setattr(item, name, value)
    if not originals:
        return item
    try:
        item.full_clean()
    except ValidationError:
        for name, old in originals.items():  # leave the caller's object as the database still has it
            setattr(item, name, old)
        raise
    item.updated_by, item.updated_by_name = _user(actor), _changer_name(actor)
    item.save()
    diff = {name: [_plain(old), _plain(changes[name])] for name, old in originals.items()}
    activity_record(operation=_operation_of(item), actor=actor, action="updated", subject=item, changes=diff)
    if isinstance(item, (Task, Phase, Operation)) and _PROGRESS_FIELDS & originals.keys():
        progress_record(operation=_operation_of(item))
    return item


@transaction.atomic
def item_delete(*, item: models.Model, actor: Actor) -> None:
    operation = _operation_of(item)
    activity_record(operation=operation, actor=actor, action="deleted", subject=item)
    item.delete()
    if isinstance(item, (Task, Phase)):
        progress_record(operation=operation)


# --- progress history -----------------------------------------------------------------------------

# Fields whose change can move a progress figure.
_PROGRESS_FIELDS = {"done", "kind", "phase", "stated_progress", "status"}


def progress_record(*, operation: Operation, at: dt.datetime | None = None) -> list[ProgressSnapshot]:
    """Write a snapshot for the operation and each phase whose progress or counts changed.

    Three queries whatever the size: the phases' counts, the latest snapshots, one bulk insert.
    """
    at = at or timezone.now()
    phases = list(phases_with_progress().filter(operation=operation))
    overall_progress = operation.stated_progress
    if overall_progress is None:
        overall_progress = round(sum(p.progress for p in phases) / len(phases)) if phases else 0
    figures = {phase.pk: (phase.progress, phase.tasks_done, phase.tasks_total) for phase in phases}
    figures[None] = (overall_progress, sum(p.tasks_done for p in phases), sum(p.tasks_total for p in phases))
    latest = {snap.phase_id: (snap.progress, snap.tasks_done, snap.tasks_total) for snap in latest_snapshots(operation)}
    new = [
        ProgressSnapshot(operation=operation, phase_id=phase_id, at=at, progress=p, tasks_done=done, tasks_total=total)
        for phase_id, (p, done, total) in figures.items()
        if latest.get(phase_id) != (p, done, total)
    ]
    return ProgressSnapshot.objects.bulk_create(new)
