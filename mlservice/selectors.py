"""The reads of mlservice used in more than one place (house style rule 3).

- `models_of` / `operations_for`: the models a person sees and the operations they may link one
  to (the workspace page, the models API).
- `registry_rows`: the whole registry in three queries, for `serving.Router`'s snapshot (every
  worker reads it at most every MLSERVICE_REFRESH_SECONDS; the inference path never queries).
"""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from tracker.models import Operation
from tracker.selectors import visible_operations, workspaces_of

from .models import ModelAlias, ModelVersion, RegisteredModel


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


def operations_for(model: RegisteredModel, user) -> QuerySet[Operation]:
    """The operations the model may be linked to by `user`: those of its workspace they can see."""
    return visible_operations(user).filter(workspace_id=model.workspace_id).order_by("name")


def registry_rows(
    alias_name: str,
) -> tuple[dict[int, RegisteredModel], dict[int, dict[str, ModelVersion]], dict[int, ModelAlias]]:
    """Every model by pk; its versions by label, newest first (each with `.model` set, no query);
    its alias called `alias_name`, when it has one. Three queries."""
    models = {m.pk: m for m in RegisteredModel.objects.all()}
    versions: dict[int, dict[str, ModelVersion]] = {pk: {} for pk in models}
    for row in ModelVersion.objects.order_by("model_id", "-created_at", "-pk"):
        if row.model_id in models:  # a model registered between the two queries waits for the next read
            row.model = models[row.model_id]
            versions[row.model_id][row.version] = row
    aliases = {a.model_id: a for a in ModelAlias.objects.filter(name=alias_name)}
    return models, versions, aliases
