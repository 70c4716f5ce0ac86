"""The models of a user's workspaces, and the changes their admins make from the pages and the API
(issue #13): moving an alias, linking a model to an operation. Both go through `mlservice.registry`.

Registering a version is not here: it needs a person to review and approve the artifact's types
(`manage.py register_model`). A model outside the user's workspaces does not exist for them; an
operation they cannot see, or one of another workspace, is "No such operation.".
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from tracker.models import Operation, WorkspaceMembership
from tracker.selectors import visible_operations, workspaces_of

from . import registry
from .models import ModelAlias, ModelVersion, RegisteredModel

ADMINS_ONLY = "Only the workspace's admins move its models' aliases or link them to operations."
NO_SUCH_OPERATION = "No such operation."


def models_of(user) -> QuerySet[RegisteredModel]:
    """The models of the user's workspaces, each annotated with `my_role` there (superusers: every
    model, as admin), with their workspace, operation, versions and aliases."""
    role = workspaces_of(user).filter(pk=OuterRef("workspace_id")).values("my_role")[:1]
    return (
        RegisteredModel.objects.annotate(my_role=Subquery(role))
        .filter(my_role__isnull=False)
        .select_related("workspace", "operation")
        .prefetch_related(
            Prefetch("versions", queryset=ModelVersion.objects.order_by("created_at", "pk")),
            Prefetch("aliases", queryset=ModelAlias.objects.select_related("version").order_by("name")),
        )
        .order_by("name")
    )


def may_manage(model: RegisteredModel) -> bool:
    return getattr(model, "my_role", None) == WorkspaceMembership.Role.ADMIN


def require_manager(model: RegisteredModel) -> None:
    if not may_manage(model):
        raise PermissionDenied(ADMINS_ONLY)


def operations_for(model: RegisteredModel, user) -> QuerySet[Operation]:
    """The operations the model may be linked to by `user`: those of its workspace they can see."""
    return visible_operations(user).filter(workspace_id=model.workspace_id).order_by("name")


def model_set_operation(*, model: RegisteredModel, operation_slug: str | None, user) -> RegisteredModel:
    """Link the model to the operation of this slug (None or "": unlink it), for its workspace's admin."""
    require_manager(model)
    operation = None
    if operation_slug:
        operation = operations_for(model, user).filter(slug=operation_slug).first()
        if operation is None:
            raise ValidationError({"operation": NO_SUCH_OPERATION})
    return registry.model_link(model=model, operation=operation)


def model_alias_set(*, model: RegisteredModel, alias: str, version: str, user) -> ModelAlias:
    """Point `alias` of the model at `version` (creating the alias), for its workspace's admin."""
    require_manager(model)
    if not model.versions.filter(version=version).exists():
        raise ValidationError({"version": f"{model.name} has no version {version!r}."})
    try:
        return registry.alias_move(model=model, alias=alias, version=version, actor=user)
    except ValidationError as error:
        raise ValidationError({"alias": error.messages}) from None
