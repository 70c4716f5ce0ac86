"""Reads of the tracker. Each returns a queryset with what its callers touch already joined or
prefetched, so no page, export or endpoint issues a query per row (house style rule 3)."""

from __future__ import annotations

import hashlib

from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value

from .models import (
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
    ProgressSnapshot,
    PublicLink,
    Quote,
    Task,
)


def phases_with_progress() -> QuerySet[Phase]:
    """Phases annotated with the task counts that `Phase.progress` derives from."""
    counted = Q(tasks__kind__in=[Task.Kind.TASK, Task.Kind.CRITERION])
    return Phase.objects.annotate(
        tasks_total=Count("tasks", filter=counted),
        tasks_done=Count("tasks", filter=counted & Q(tasks__done=True)),
    ).order_by("number")


def visible_operations(user) -> QuerySet[Operation]:
    """The operations a user may see, each annotated with `my_role` (superusers: every one, as admin)."""
    if not user.is_authenticated or not user.is_active:
        return Operation.objects.none()
    if user.is_superuser:
        return Operation.objects.annotate(my_role=Value(Membership.Role.ADMIN))
    role = Membership.objects.filter(operation=OuterRef("pk"), user=user).values("role")[:1]
    return Operation.objects.annotate(my_role=Subquery(role)).filter(memberships__user=user)


def operation_list(user) -> QuerySet[Operation]:
    """The user's operations with their phases' progress and their count of open blockers."""
    return (
        visible_operations(user)
        .select_related("current_phase")
        .annotate(open_blockers=Count("blockers", filter=Q(blockers__state=Blocker.State.OPEN)))
        .prefetch_related(Prefetch("phases", queryset=phases_with_progress()))
        .order_by("name")
    )


def operation_with_content(base: QuerySet[Operation] | None = None) -> QuerySet[Operation]:
    """Operations with everything the export and the dashboard show, in a fixed number of queries.

    Each item comes with the user who last changed it (`updated_by`), which the page shows.
    """

    base = Operation.objects.all() if base is None else base
    return base.select_related("current_phase", "updated_by").prefetch_related(
        Prefetch("phases", queryset=phases_with_progress().select_related("updated_by")),
        *(_items(model) for model in (Task, Challenge, Finding, Blocker, Decision, Achievement, Quote, Note)),
    )


def operation_for_dashboard(base: QuerySet[Operation] | None = None) -> QuerySet[Operation]:
    """Like `operation_with_content`, but with only the tasks the dashboard lists: the current phase's
    and the next steps. The phases' progress comes from counts, so a 5,000-task operation does not
    build 5,000 task objects to show a hundred (bench/dashboard.py: large/small went from 4.4x to ~2x).
    """
    shown = Q(kind=Task.Kind.NEXT_STEP) | Q(phase_id=F("operation__current_phase_id"))
    tasks = Task.objects.filter(shown).select_related("updated_by").order_by("position", "id")
    return (
        operation_with_content(base)
        .prefetch_related(None)
        .prefetch_related(
            Prefetch("phases", queryset=phases_with_progress().select_related("updated_by")),
            Prefetch("tasks", queryset=tasks),
            # Not the notes: no dashboard, summary or public page shows them.
            *(_items(model) for model in (Challenge, Finding, Blocker, Decision, Achievement, Quote)),
        )
    )


def _items(model) -> Prefetch:
    """An operation's items of one kind, in document order, with who last changed each."""
    related_name = model._meta.get_field("operation").remote_field.related_name
    return Prefetch(related_name, queryset=model.objects.select_related("updated_by").order_by("position", "id"))


def activity_feed(*, operation: Operation, limit: int = 50) -> QuerySet[ActivityEntry]:
    return ActivityEntry.objects.filter(operation=operation).select_related("actor")[:limit]


def memberships_of(*, operation: Operation) -> QuerySet[Membership]:
    return Membership.objects.filter(operation=operation).select_related("user").order_by("user__username")


def public_link_operation(token: str) -> Operation | None:
    """The operation an active public link opens, or None; the token is compared by its hash."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    link = PublicLink.objects.filter(token_hash=digest, revoked_at__isnull=True).only("operation_id").first()
    return None if link is None else operation_for_dashboard().filter(pk=link.operation_id).first()


def latest_snapshots(operation: Operation) -> QuerySet[ProgressSnapshot]:
    """The newest snapshot of the operation and of each of its phases."""
    newest = (
        ProgressSnapshot.objects.filter(operation=operation)
        .values("phase_id")
        .annotate(newest=Max("id"))
        .values("newest")
    )
    return ProgressSnapshot.objects.filter(id__in=Subquery(newest))


def progress_history(*, operation: Operation) -> QuerySet[ProgressSnapshot]:
    return ProgressSnapshot.objects.filter(operation=operation).order_by("at", "id")
