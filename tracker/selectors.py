"""Reads of the tracker. Each returns a queryset with what its callers touch already joined or
prefetched, so no page, export or endpoint issues a query per row (house style rule 3)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import ActivityEntry, Blocker, Operation, Phase, Task


def phases_with_progress() -> QuerySet[Phase]:
    """Phases annotated with the task counts that `Phase.progress` derives from."""
    counted = Q(tasks__kind__in=[Task.Kind.TASK, Task.Kind.CRITERION])
    return Phase.objects.annotate(
        tasks_total=Count("tasks", filter=counted),
        tasks_done=Count("tasks", filter=counted & Q(tasks__done=True)),
    ).order_by("number")


def operation_list() -> QuerySet[Operation]:
    """Operations with their phases' progress and their count of open blockers."""
    return (
        Operation.objects.select_related("current_phase")
        .annotate(open_blockers=Count("blockers", filter=Q(blockers__state=Blocker.State.OPEN)))
        .prefetch_related(Prefetch("phases", queryset=phases_with_progress()))
        .order_by("name")
    )


def operation_with_content() -> QuerySet[Operation]:
    """Operations with everything the export and the dashboard show, in a fixed number of queries."""
    return Operation.objects.select_related("current_phase").prefetch_related(
        Prefetch("phases", queryset=phases_with_progress()),
        Prefetch("tasks", queryset=Task.objects.order_by("position", "id")),
        "challenges",
        "findings",
        "blockers",
        "decisions",
        "achievements",
        "quotes",
        "notes",
    )


def activity_feed(*, operation: Operation, limit: int = 50) -> QuerySet[ActivityEntry]:
    return ActivityEntry.objects.filter(operation=operation).select_related("actor")[:limit]
