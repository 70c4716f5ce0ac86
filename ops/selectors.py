"""Every read of the ops app used in more than one place: which AWS environments a user or an
operation may see and use, and an operation's checks with their recent runs and flips.

An environment belongs to one workspace: its members read it, its admins manage it, and only its
operations attach checks to it. Outside the workspace it does not exist: it is not listed, its id
is answered like an id that was never made, and a check or a diagnosis naming it is told "No such
AWS environment." (the same words as for a nonexistent one).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, QuerySet, Subquery

from core.db.joins import select_related_only
from tracker.models import Operation, Workspace, WorkspaceMembership
from tracker.selectors import administered_workspaces, workspaces_of

from .models import AwsEnvironment, Check, CheckFlip, CheckRun

NO_SUCH_ENVIRONMENT = "No such AWS environment."
ADMINS_ONLY = "Only the workspace's admins add, change or delete its AWS environments."
# The ECS diagnosis is this check type's walk (the same AWS calls): an environment allows both or neither.
DIAGNOSIS_TYPE = "ecs_reachability"


def environments_of(user) -> QuerySet[AwsEnvironment]:
    """The environments of the user's workspaces, each annotated with `my_role` there (superusers:
    every environment, as admin)."""
    role = workspaces_of(user).filter(pk=OuterRef("workspace_id")).values("my_role")[:1]
    return AwsEnvironment.objects.annotate(my_role=Subquery(role)).filter(my_role__isnull=False)


def environments_for(operation: Operation) -> QuerySet[AwsEnvironment]:
    """The environments an operation's checks may look at: its workspace's."""
    return AwsEnvironment.objects.filter(workspace_id=operation.workspace_id)


def may_manage(environment: AwsEnvironment) -> bool:
    """Whether the user `environments_of` annotated it for administers its workspace."""
    return getattr(environment, "my_role", None) == WorkspaceMembership.Role.ADMIN


def require_manager(environment: AwsEnvironment) -> None:
    if not may_manage(environment):
        raise PermissionDenied(ADMINS_ONLY)


def workspace_for_new_environment(user, slug: str | None = None) -> Workspace:
    """The workspace a user adds an environment to: the one named, else the only one they administer.

    A workspace they do not belong to is answered like one that does not exist (400); one they
    belong to without administering it, or none administered at all, is a 403."""
    if slug:
        found = workspaces_of(user).filter(slug=slug).first()
        if found is None:
            raise ValidationError({"workspace": f"No such workspace: '{slug}'."})
        if found.my_role != WorkspaceMembership.Role.ADMIN:
            raise PermissionDenied(ADMINS_ONLY)
        return found
    choices = list(administered_workspaces(user)[:2])
    if not choices:
        raise PermissionDenied(ADMINS_ONLY)
    if len(choices) > 1:
        raise ValidationError({"workspace": "You administer several workspaces: name the one to add it to."})
    return choices[0]


# --- checks, their runs and flips -----------------------------------------------------------------

# How many runs and flips of one check its page and the API show, newest first (one number for both).
RECENT_RUNS = 50
# How many of an operation's latest flips its dashboard's live checks panel shows.
RECENT_OPERATION_FLIPS = 8


def _checks_of(operation: Operation) -> QuerySet[Check]:
    """One operation's checks in the model's order. Said outright: the model's default orders by
    operation first, which makes every query join the operations table to sort by its name."""
    return Check.objects.filter(operation=operation).order_by("name", "id")


def checks_of(operation: Operation) -> QuerySet[Check]:
    """An operation's checks with what their rows show (environment, linked items): no query per row."""
    return _checks_of(operation).select_related("environment", "finding", "task", "blocker")


def checks_for_dashboard(operation: Operation) -> QuerySet[Check]:
    """An operation's checks as its dashboard's panel shows them: with the words of the items they
    keep true, and nothing else of those items or of their environments."""
    checks = _checks_of(operation)
    for relation, fields in (("finding", ("subject",)), ("task", ("title", "kind")), ("blocker", ("title",))):
        checks = select_related_only(checks, relation, *fields)
    return checks


def recent_runs(check: Check) -> QuerySet[CheckRun]:
    """The check's latest RECENT_RUNS runs, newest first."""
    return CheckRun.objects.filter(live_check=check)[:RECENT_RUNS]


def recent_flips(check: Check) -> QuerySet[CheckFlip]:
    """The check's latest RECENT_RUNS flips, newest first, each with the run that made it."""
    return CheckFlip.objects.filter(live_check=check).select_related("run")[:RECENT_RUNS]


def operation_flips(operation: Operation) -> QuerySet[CheckFlip]:
    """The latest flips of any of the operation's checks, for its dashboard."""
    return CheckFlip.objects.filter(live_check__operation=operation).select_related("live_check")[
        :RECENT_OPERATION_FLIPS
    ]


def reachability_check(operation: Operation) -> Check | None:
    """The operation's first ECS reachability check, whose target prefills a diagnosis."""
    return Check.objects.filter(operation=operation, type=DIAGNOSIS_TYPE).select_related("environment").first()


def environments_of_workspace(workspace: Workspace) -> QuerySet[AwsEnvironment]:
    return AwsEnvironment.objects.filter(workspace=workspace).order_by("name")
