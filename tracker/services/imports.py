"""An operation made, or remade, from a parsed tracker document in one transaction and a fixed
number of queries whatever its size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, models, router, transaction

from .. import signals
from ..lib import document as d
from ..models import (
    Achievement,
    ActivityEntry,
    Blocker,
    Challenge,
    Decision,
    Finding,
    Membership,
    Note,
    Operation,
    Phase,
    Quote,
    Task,
    Workspace,
)
from ..selectors import operation_named
from .activity import IMPORT_NAME, Actor, _user, activity_record
from .base import progress_record
from .operations import _free_slug, _slug_for

# Rows per INSERT: large enough that 5,000 tasks take a few statements, small enough to stay under
# PostgreSQL's 65,535 parameters per statement (13 columns x 2,000 rows).
BULK_BATCH = 2000


class OperationExists(Exception):
    def __init__(self, slug: str):
        self.slug = slug
        super().__init__(f"an operation '{slug}' already exists (replace it to import over it)")


class AddressTaken(Exception):
    """Another import took the address this one chose, between its look and its insert."""

    def __init__(self, slug: str):
        self.slug = slug
        # Nothing about whose: it may be another workspace's operation, made at that very moment.
        super().__init__(f"the address '{slug}' was taken while this import ran; import again")


@transaction.atomic
def operation_import(
    *, document: d.TrackerDocument, workspace: Workspace, actor: Actor, replace: bool = False
) -> Operation:
    """Create an operation from a parsed document in a workspace, or with `replace` rewrite the
    operation of the same name there.

    Only an operation of the same name that the actor can see counts as existing: one elsewhere, or
    one in this workspace they are not a member of, is never confirmed; the new operation gets a
    free address instead. One transaction and a fixed number of queries whatever the size: the rows
    are bulk-created. Replacing keeps the operation row (and so its id, members and activity
    history) and swaps its content.
    """
    document = d.normalize(document)
    base = _slug_for(document.name)
    operation = _locked_operation(workspace=workspace, base=base, actor=actor)
    if operation is not None and not replace:
        raise OperationExists(operation.slug)
    action = ActivityEntry.Action.REPLACED if operation is not None else ActivityEntry.Action.IMPORTED
    held: list = []
    if operation is None:
        operation = Operation(workspace=workspace, slug=_free_slug(base))
    else:
        held = signals.content_replacing.send(sender=Operation, operation=operation)
        _delete_content(operation)
    _assign_operation_fields(operation, document)
    operation.updated_by, operation.updated_by_name = _user(actor), IMPORT_NAME
    operation.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            operation.save()
    except IntegrityError:
        # Another import took the address between our look and our insert.
        raise AddressTaken(operation.slug) from None
    counts = _create_content(operation, document, by=_user(actor))
    for receiver, state in held:
        signals.content_replaced.send(sender=receiver, operation=operation, state=state)
    progress_record(operation=operation)
    if action == ActivityEntry.Action.IMPORTED and _user(actor):
        Membership.objects.create(operation=operation, user=actor, role=Membership.Role.ADMIN)
    activity_record(
        operation=operation,
        actor=actor,
        action=action,
        subject=operation,
        changes={name: [None, count] for name, count in counts.items() if count},
    )
    return operation


def _locked_operation(*, workspace: Workspace, base: str, actor: Actor) -> Operation | None:
    """The operation of the workspace whose name makes `base` and that the actor can see, locked
    until the import commits, or None."""
    candidates = operation_named(workspace=workspace, base_slug=base, user=_user(actor))
    for operation in candidates.select_for_update():
        if _slug_for(operation.name) == base:
            return operation
    return None


def _delete_content(operation: Operation) -> None:
    """Delete the items, leaves first, one statement each whatever the size.

    `_raw_delete` is Django's own fast delete. `QuerySet.delete()` would fetch every row first:
    other apps point at tasks, findings and blockers (ops' checks, on_delete=SET_NULL), and it
    cannot know they let go of them (`content_replacing`, sent before this), so 5,000 tasks took
    90 queries instead of one.
    """
    for model in (Task, Challenge, Finding, Blocker, Decision, Achievement, Quote, Note):
        model.objects.filter(operation=operation)._raw_delete(using=router.db_for_write(model))
    Phase.objects.filter(operation=operation).delete()  # its progress history cascades


# What an operation row holds of a document; the rest goes into the related rows.
_CONTENT_LISTS = ("phases", "next_steps", "decisions", "blockers", "achievements", "quotes", "notes")


def _assign_operation_fields(operation: Operation, document: d.TrackerDocument) -> None:
    for name, value in d.item_fields(document, exclude=("sections", "current_phase", *_CONTENT_LISTS)).items():
        setattr(operation, name, value)
    operation.layout = [d.item_fields(section) for section in document.sections]
    operation.current_phase = None  # set once the phases exist


def _positioned(rows: Iterable[models.Model]) -> list[models.Model]:
    """Number rows in document order and check their fields (lengths, choices) without queries."""
    rows = list(rows)
    for position, row in enumerate(rows):
        row.position = position
        row.clean_fields(exclude=["operation", "phase", "updated_by"])
    return rows


def _checked(row: models.Model) -> models.Model:
    row.clean_fields(exclude=["operation", "updated_by"])
    return row


def _create_content(
    operation: Operation, document: d.TrackerDocument, *, by: AbstractBaseUser | None
) -> dict[str, int]:
    own = {"operation": operation, "updated_by": by, "updated_by_name": IMPORT_NAME}
    phases = Phase.objects.bulk_create(
        _checked(
            Phase(
                **own,
                duration=dt.timedelta(seconds=p.duration_seconds) if p.duration_seconds is not None else None,
                **d.item_fields(p, exclude=("duration_seconds", *d.PHASE_ITEM_LISTS)),
            )
        )
        for p in document.phases
    )
    by_number = {phase.number: phase for phase in phases}
    if document.current_phase is not None:
        operation.current_phase = by_number[document.current_phase]
        operation.save(update_fields=["current_phase"])

    tasks: list[Task] = []
    challenges: list[Challenge] = []
    findings: list[Finding] = []
    for p in document.phases:
        on = {**own, "phase": by_number[p.number]}
        tasks += _positioned(Task(**on, kind=Task.Kind.TASK, **d.item_fields(t)) for t in p.tasks)
        tasks += _positioned(Task(**on, kind=Task.Kind.CRITERION, **d.item_fields(t)) for t in p.completion_criteria)
        challenges += _positioned(Challenge(**on, **d.item_fields(c)) for c in p.challenges)
        findings += _positioned(Finding(**on, **d.item_fields(f)) for f in p.findings)
    tasks += _positioned(Task(**own, kind=Task.Kind.NEXT_STEP, **d.item_fields(s)) for s in document.next_steps)
    blockers = (
        Blocker(
            **own,
            state=Blocker.State.RESOLVED if b.resolved else Blocker.State.OPEN,
            **d.item_fields(b, exclude=("resolved",)),
        )
        for b in document.blockers
    )
    created = {
        "phases": phases,
        "tasks": Task.objects.bulk_create(tasks, batch_size=BULK_BATCH),
        "challenges": Challenge.objects.bulk_create(challenges, batch_size=BULK_BATCH),
        "findings": Finding.objects.bulk_create(findings, batch_size=BULK_BATCH),
        "decisions": Decision.objects.bulk_create(
            _positioned(Decision(**own, **d.item_fields(x)) for x in document.decisions)
        ),
        "blockers": Blocker.objects.bulk_create(_positioned(blockers)),
        "achievements": Achievement.objects.bulk_create(
            _positioned(Achievement(**own, **d.item_fields(x)) for x in document.achievements)
        ),
        "quotes": Quote.objects.bulk_create(_positioned(Quote(**own, text=q) for q in document.quotes)),
        "notes": Note.objects.bulk_create(_positioned(Note(**own, **d.item_fields(n)) for n in document.notes)),
    }
    return {name: len(rows) for name, rows in created.items()}
