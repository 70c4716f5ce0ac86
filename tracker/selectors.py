"""Reads of the tracker. Each returns a queryset with what its callers touch already joined or
prefetched, so no page, export or endpoint issues a query per row (house style rule 3)."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When

from core.db.joins import select_related_only

from .lib.forecast import Forecast, forecast_completion
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
    Workspace,
    WorkspaceMembership,
)
from .summary import forecast_sentence


def phases_with_progress() -> QuerySet[Phase]:
    """Phases annotated with the task counts that `Phase.progress` derives from."""
    counted = Q(tasks__kind__in=[Task.Kind.TASK, Task.Kind.CRITERION])
    return Phase.objects.annotate(
        tasks_total=Count("tasks", filter=counted),
        tasks_done=Count("tasks", filter=counted & Q(tasks__done=True)),
    ).order_by("number")


def with_changer(queryset: QuerySet) -> QuerySet:
    """Rows joined with the user who last changed each (`updated_by`), of whom only the username is
    read: the page shows who changed an item by name. Joining all eleven columns of a user, on nine
    queries of the dashboard, was a fifth of its CPU (compiling them and building the users)."""
    return select_related_only(queryset, "updated_by", get_user_model().USERNAME_FIELD)


def _signed_in(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def workspaces_of(user) -> QuerySet[Workspace]:
    """The workspaces a user belongs to, each annotated with `my_role` (superusers: every one, as admin)."""
    if not _signed_in(user):
        return Workspace.objects.none()
    if user.is_superuser:
        return Workspace.objects.annotate(my_role=Value(WorkspaceMembership.Role.ADMIN))
    role = WorkspaceMembership.objects.filter(workspace=OuterRef("pk"), user=user).values("role")[:1]
    return Workspace.objects.annotate(my_role=Subquery(role)).filter(my_role__isnull=False)


def administered_workspaces(user) -> QuerySet[Workspace]:
    return workspaces_of(user).filter(my_role=WorkspaceMembership.Role.ADMIN)


def workspace_for_new_operation(user, slug: str | None = None) -> Workspace:
    """The workspace a user creates an operation in: the one named, else their only one.

    A workspace they do not belong to is answered like one that does not exist."""
    from django.core.exceptions import ValidationError

    mine = workspaces_of(user)
    if slug:
        found = mine.filter(slug=slug).first()
        if found is None:
            raise ValidationError({"workspace": f"No such workspace: '{slug}'."})
        return found
    choices = list(mine[:2])
    if not choices:
        raise ValidationError({"workspace": "You belong to no workspace yet: an instance admin adds you to one."})
    if len(choices) > 1:
        raise ValidationError({"workspace": "You belong to several workspaces: name the one to create it in."})
    return choices[0]


def operation_named(*, workspace: Workspace, base_slug: str, user=None) -> QuerySet[Operation]:
    """The operations of a workspace whose names make `base_slug` (the import's "same name"), of
    those `user` can see when given. Callers compare `slugify(name)` too: a suffixed slug of
    another name may start with the same letters."""
    found = Operation.objects.filter(workspace=workspace, slug__startswith=base_slug)
    if user is not None:
        found = found.filter(pk__in=visible_operations(user).values("pk"))
    return found.order_by("pk")


def workspace_member_named(*, workspace: Workspace, username: str):
    """The member of `workspace` with this username, or None (also for a user of another workspace)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username, workspace_memberships__workspace=workspace).first()


def workspace_members(*, workspace: Workspace) -> QuerySet[WorkspaceMembership]:
    return WorkspaceMembership.objects.filter(workspace=workspace).select_related("user").order_by("user__username")


def visible_operations(user) -> QuerySet[Operation]:
    """The operations a user may see, each annotated with `my_role` (superusers: every one, as admin).

    Inside their workspaces: the operations they have a role in, and every operation of a workspace
    they administer (as admin). Nothing outside their workspaces, whatever rows say otherwise."""
    if not _signed_in(user):
        return Operation.objects.none()
    if user.is_superuser:
        return Operation.objects.annotate(my_role=Value(Membership.Role.ADMIN))
    member_of = WorkspaceMembership.objects.filter(user=user).values("workspace")
    admin_of = member_of.filter(role=WorkspaceMembership.Role.ADMIN)
    role = Membership.objects.filter(operation=OuterRef("pk"), user=user).values("role")[:1]
    return (
        Operation.objects.filter(workspace__in=member_of)
        .annotate(my_role=Case(When(workspace__in=admin_of, then=Value(Membership.Role.ADMIN)), default=Subquery(role)))
        .filter(my_role__isnull=False)
    )


def operation_list(user) -> QuerySet[Operation]:
    """The user's operations with their phases' progress and their count of open blockers."""
    return (
        visible_operations(user)
        .select_related("current_phase", "workspace")
        .annotate(open_blockers=Count("blockers", filter=Q(blockers__state=Blocker.State.OPEN)))
        .prefetch_related(Prefetch("phases", queryset=phases_with_progress()))
        .order_by("name")
    )


def operation_with_content(base: QuerySet[Operation] | None = None) -> QuerySet[Operation]:
    """Operations with everything the export and the dashboard show, in a fixed number of queries.

    Each item comes with the user who last changed it (`updated_by`), which the page shows.
    """

    base = Operation.objects.all() if base is None else base.prefetch_related(None)  # its own, if any, replaced
    return with_changer(base.select_related("current_phase")).prefetch_related(
        Prefetch("phases", queryset=with_changer(phases_with_progress())),
        *(_items(model) for model in (Task, Challenge, Finding, Blocker, Decision, Achievement, Quote, Note)),
    )


def operation_for_dashboard(base: QuerySet[Operation] | None = None) -> QuerySet[Operation]:
    """Like `operation_with_content`, but with only the tasks the dashboard lists: the current phase's
    and the next steps. The phases' progress comes from counts, so a 5,000-task operation does not
    build 5,000 task objects to show a hundred (bench/dashboard.py: large/small went from 4.4x to ~2x).
    """
    shown = Q(kind=Task.Kind.NEXT_STEP) | Q(phase_id=F("operation__current_phase_id"))
    tasks = with_changer(Task.objects.filter(shown)).order_by("position", "id")
    # Built here rather than taken from `operation_with_content` and dropped: building its eight
    # prefetch querysets was 5% of the page's CPU. Who changed what is joined only where the page
    # says it (tasks, challenges, findings, blockers, decisions, achievements): not for the
    # operation, its phases or its quotes. On the phases' counting query the join also made SQLite
    # group by the user's columns: 4 -> 9 ms for 50 phases.
    base = Operation.objects.all() if base is None else base.prefetch_related(None)  # its own, if any, replaced
    return base.select_related("current_phase").prefetch_related(
        Prefetch("phases", queryset=phases_with_progress()),
        Prefetch("tasks", queryset=tasks),
        # Not the notes: no dashboard, summary or public page shows them.
        *(_items(model) for model in (Challenge, Finding, Blocker, Decision, Achievement)),
        _items(Quote, changer=False),
    )


def _items(model, *, changer: bool = True) -> Prefetch:
    """An operation's items of one kind, in document order, with who last changed each (`changer`)."""
    related_name = model._meta.get_field("operation").remote_field.related_name
    rows = with_changer(model.objects.all()) if changer else model.objects.all()
    return Prefetch(related_name, queryset=rows.order_by("position", "id"))


def activity_feed(*, operation: Operation, limit: int = 50) -> QuerySet[ActivityEntry]:
    """The latest entries, newest first. Who made each is its `actor_name` and `actor_id`: the user's
    row is not joined, so no one's password hash or e-mail rides into the shared cache with them."""
    return ActivityEntry.objects.filter(operation=operation)[:limit]


def memberships_of(*, operation: Operation) -> QuerySet[Membership]:
    return Membership.objects.filter(operation=operation).select_related("user").order_by("user__username")


def public_link_operation(token: str) -> Operation | None:
    """The operation an active public link opens, or None; the token is compared by its hash. The
    operation carries `shows_infrastructure`, the link's choice, for the page's live checks."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    link = (
        PublicLink.objects.filter(token_hash=digest, revoked_at__isnull=True)
        .only("operation_id", "shows_infrastructure")
        .first()
    )
    if link is None:
        return None
    operation = operation_for_dashboard().filter(pk=link.operation_id).first()
    if operation is not None:
        operation.shows_infrastructure = link.shows_infrastructure
    return operation


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


def operation_forecast(*, operation: Operation, now: dt.datetime, open_primary_blockers: int) -> tuple[Forecast, str]:
    """The operation's completion forecast from its own progress history (one query), and the one
    sentence the dashboard says it in: for the apps that report on an operation (notify's reports)."""
    history = ProgressSnapshot.objects.filter(operation=operation, phase__isnull=True).order_by("at", "id")
    forecast = forecast_completion(
        [(s.at, s.progress) for s in history.only("at", "progress")],
        now=now,
        open_primary_blockers=open_primary_blockers,
    )
    return forecast, forecast_sentence(forecast, "The operation")
