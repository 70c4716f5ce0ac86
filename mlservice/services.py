"""Every write of mlservice that a person or the inference path makes (house style rule 2).

- From the pages and the API (issue #13), for the workspace's admins: moving an alias
  (`model_alias_set`), linking a model to an operation (`model_set_operation`). Both go through
  `mlservice.registry`, which also registers versions: that needs a person to review and approve
  the artifact's types (`manage.py register_model`), so it has no page. A model outside the user's
  workspaces does not exist for them; an operation they cannot see, or one of another workspace,
  is "No such operation.".
- From the inference path (`mlservice.serving`): `alias_last_good_set`, the version a default
  alias was last served well by, once per move per process.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from tracker.models import WorkspaceMembership

from . import registry
from .models import ModelAlias, RegisteredModel
from .selectors import operations_for

ADMINS_ONLY = "Only the workspace's admins move its models' aliases or link them to operations."
NO_SUCH_OPERATION = "No such operation."


def may_manage(model: RegisteredModel) -> bool:
    """`model` comes from `selectors.models_of`, which annotates the user's role in its workspace."""
    return getattr(model, "my_role", None) == WorkspaceMembership.Role.ADMIN


def require_manager(model: RegisteredModel) -> None:
    if not may_manage(model):
        raise PermissionDenied(ADMINS_ONLY)


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


def alias_last_good_set(*, alias_id: int, version_id: int) -> None:
    """Record that the alias's version `version_id` was served well, so that a fresh process that
    cannot load the alias's version knows what to fall back on. One conditional UPDATE, no read:
    it runs on the inference path (once per move per process), and concurrent workers that record
    the same version write nothing twice."""
    ModelAlias.objects.filter(pk=alias_id).exclude(last_good_id=version_id).update(last_good_id=version_id)
