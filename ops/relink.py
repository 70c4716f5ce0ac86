"""Checks survive a tracker replaced by a new import of its document (`import_tracker --replace`).

The import deletes the operation's items and creates them again; just before, the checks let go
of the items they keep true and remember them by their words (a finding's subject, a task's kind
and title, a blocker's title); just after, they take the new items with the same words.
"""

from __future__ import annotations

from django.db.models import Q

from tracker.models import Blocker, Finding, Operation, Task

from .models import Check

Held = list[tuple[int, str | None, tuple[str, str] | None, str | None]]


def hold_links(sender, *, operation: Operation, **kwargs) -> Held:
    checks = (
        Check.objects.filter(operation=operation)
        .filter(Q(finding__isnull=False) | Q(task__isnull=False) | Q(blocker__isnull=False))
        .select_related("finding", "task", "blocker")
    )
    held = [
        (
            check.pk,
            check.finding.subject if check.finding else None,
            (check.task.kind, check.task.title) if check.task else None,
            check.blocker.title if check.blocker else None,
        )
        for check in checks
    ]
    Check.objects.filter(pk__in=[row[0] for row in held]).update(finding=None, task=None, blocker=None)
    return held


def relink(sender, *, operation: Operation, state: Held, **kwargs) -> None:
    if sender is not hold_links or not state:
        return
    findings: dict[str, int] = {}
    for pk, subject in Finding.objects.filter(operation=operation).values_list("pk", "subject"):
        findings.setdefault(subject, pk)
    tasks: dict[tuple[str, str], int] = {}
    for pk, kind, title in Task.objects.filter(operation=operation).values_list("pk", "kind", "title"):
        tasks.setdefault((kind, title), pk)
    blockers: dict[str, int] = {}
    for pk, title in Blocker.objects.filter(operation=operation).values_list("pk", "title"):
        blockers.setdefault(title, pk)
    for check_id, subject, task, blocker in state:
        Check.objects.filter(pk=check_id).update(
            finding_id=findings.get(subject) if subject else None,
            task_id=tasks.get(task) if task else None,
            blocker_id=blockers.get(blocker) if blocker else None,
        )
