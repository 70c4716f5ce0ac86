"""Every write to the model registry (house style rule 2): registering a version, moving an alias.

Registration is the trust gate: the artifact must be a skops file, every type skops cannot vouch
for (`skops.io.get_untrusted_types`) must be approved by the person registering it, and the approved
list is stored in the database, never read back from the artifact (MLflow's GHSA-w582-9x45-8mpx).

A model belongs to the workspace it was first registered in: its later versions are registered in
that workspace only, and it is linked only to operations of that workspace (whose dashboards show
it). Callers are the operator (`register_model`, `demo_model`), who names the workspace.

scikit-learn and skops are imported by `register_version`, where a model is registered, not with
this module: moving an alias, the admin and every page that imports it stay cheap to start.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from tracker.models import Operation, Workspace

from . import artifacts
from .models import ModelAlias, ModelVersion, RegisteredModel


class UntrustedTypes(ValidationError):
    """The artifact holds types nobody approved; `types` lists them, sorted."""

    def __init__(self, uri: str, types: list[str]) -> None:
        self.types = types
        super().__init__(
            f"{uri} holds types that were not approved: {', '.join(types)}. "
            "Review them, then pass each one with --trust to register it.",
            code="untrusted_types",
        )


def _check_skops_file(path: Path, uri: str) -> dict[str, Any]:
    """The artifact's schema if it is a skops file; pickle, joblib and anything else are refused."""
    if not zipfile.is_zipfile(path):
        raise ValidationError(
            f"{uri} is not a skops file (pickle and joblib files are refused: save the model with skops.io.dump).",
            code="not_skops",
        )
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("schema.json"))
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ValidationError(f"{uri} is a zip file but not a skops file (no readable schema.json).") from exc


def _recorded_sklearn_version(schema: dict[str, Any]) -> str | None:
    """The scikit-learn version the estimator was saved with: skops keeps the `_sklearn_version` that
    scikit-learn puts in every estimator's state. Read from the JSON schema, no code runs."""
    try:
        node = schema["content"]["content"]["_sklearn_version"]
        value = json.loads(node["content"]) if node.get("is_json") else node["content"]
    except (KeyError, TypeError, ValueError):
        return None
    return value if isinstance(value, str) and value else None


def _input_dtype(model: Any) -> str:
    """float64 unless the fitted parameters say otherwise (scikit-learn computes in float64 by default)."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    coef = getattr(final, "coef_", None)
    if isinstance(coef, np.ndarray) and np.issubdtype(coef.dtype, np.floating):
        return str(coef.dtype)
    return "float64"


# numpy dtype kind -> the Open Inference Protocol's datatype (BYTES for text labels).
_DATATYPES = {"f": "FP", "i": "INT", "u": "UINT"}


def datatype_of(dtype: np.dtype) -> str:
    if dtype.kind == "b":
        return "BOOL"
    if dtype.kind in _DATATYPES:
        return f"{_DATATYPES[dtype.kind]}{dtype.itemsize * 8}"
    return "BYTES"


def _output_schema(model: Any, n_features: int) -> list[dict[str, Any]]:
    """Each output's datatype and shape, from one prediction on a row of zeros (-1: any number of rows)."""
    row = np.zeros((1, n_features))
    predicted = np.asarray(model.predict(row))
    schema = [{"name": "predict", "datatype": datatype_of(predicted.dtype), "shape": [-1, *predicted.shape[1:]]}]
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(row))
        schema.append({"name": "predict_proba", "datatype": datatype_of(proba.dtype), "shape": [-1, *proba.shape[1:]]})
    return schema


def _check_link(registered: RegisteredModel, operation: Operation) -> None:
    """A model is shown on (linked to) operations of its own workspace only."""
    if operation.workspace_id != registered.workspace_id:
        raise ValidationError(
            f"The operation {operation.slug!r} is in another workspace than the model {registered.name!r}; "
            "a model is linked to an operation of its own workspace only.",
            code="other_workspace",
        )


def _check_workspace(name: str, workspace: Workspace) -> None:
    existing = RegisteredModel.objects.filter(name=name).values_list("workspace_id", flat=True).first()
    if existing is not None and existing != workspace.pk:
        raise ValidationError(
            f"The name {name!r} is taken by a model of another workspace (model names are instance-wide, "
            "they are the URL); pick another name.",
            code="other_workspace",
        )


def _resolve_model(model: RegisteredModel | str) -> RegisteredModel:
    if isinstance(model, RegisteredModel):
        return model
    try:
        return RegisteredModel.objects.get(name=model)
    except RegisteredModel.DoesNotExist:
        raise ValidationError(f"No registered model named {model!r}.") from None


@dataclass(frozen=True)
class _Checked:
    """An artifact that passed the trust gate and was loaded: what its ModelVersion records."""

    sha256: str
    schema: dict[str, Any]
    model: Any
    untrusted: list[str]  # the types the person registering it approved (only those the file holds)


def _fetch_and_load(uri: str, trust: list[str]) -> _Checked:
    """Fetch the artifact, refuse what is not a skops file or holds unapproved types, and load it."""
    import skops.io

    with tempfile.TemporaryDirectory(prefix="mlservice-register-") as workdir:
        path = Path(workdir) / "artifact.skops"
        try:
            artifacts.fetch(uri, path)
        except artifacts.ArtifactError as exc:
            raise ValidationError(str(exc), code="fetch_failed") from exc
        sha256 = artifacts.sha256_of(path)
        schema = _check_skops_file(path, uri)
        try:
            untrusted = sorted(skops.io.get_untrusted_types(file=path))
        except Exception as exc:  # a malformed schema: skops raises whatever its parser hits
            raise ValidationError(f"{uri}: skops cannot read this file: {exc}") from exc
        approved = set(trust)
        unapproved = [type_name for type_name in untrusted if type_name not in approved]
        if unapproved:
            raise UntrustedTypes(uri, unapproved)
        try:
            model = skops.io.load(path, trusted=untrusted)
        except Exception as exc:
            raise ValidationError(f"{uri}: skops could not load the model: {exc}") from exc
    return _Checked(sha256, schema, model, untrusted)


def _describe(checked: _Checked, uri: str) -> dict[str, Any]:
    """The ModelVersion fields read from the loaded model: what it takes and what it answers."""
    import sklearn

    model = checked.model
    if not hasattr(model, "predict"):
        raise ValidationError(f"{uri}: {type(model).__name__} has no predict method; it is not a model to serve.")
    n_features = getattr(model, "n_features_in_", None)
    if not isinstance(n_features, int | np.integer):
        raise ValidationError(f"{uri}: {type(model).__name__} has no n_features_in_; was it fitted?")
    names = getattr(model, "feature_names_in_", None)
    recorded = _recorded_sklearn_version(checked.schema)
    try:
        output_schema = _output_schema(model, int(n_features))
    except Exception as exc:  # a model that cannot predict one row of zeros cannot be served either
        raise ValidationError(f"{uri}: the model failed to predict a row of zeros: {exc}") from exc
    return {
        "sha256": checked.sha256,
        "sklearn_version": recorded or sklearn.__version__,
        "sklearn_version_recorded": recorded is not None,
        "n_features": int(n_features),
        "dtype": _input_dtype(model),
        "feature_names": [str(n) for n in names] if names is not None else None,
        "outputs": [output["name"] for output in output_schema],
        "output_schema": output_schema,
        # Only what this file needs: an approval of a type it does not hold would widen the load for nothing.
        "trusted_types": checked.untrusted,
    }


def register_version(
    *,
    name: str,
    uri: str,
    version: str,
    trust: list[str],
    workspace: Workspace,
    alias: str | None = None,
    operation: Operation | None = None,
    actor: AbstractBaseUser | None = None,
) -> ModelVersion:
    """Fetch, check and register one artifact as `name`:`version` of `workspace` (creating the model
    on first use; a model of another workspace is refused). `operation`, of the same workspace,
    links the model to a rollout, whose dashboard then shows its endpoints."""
    registered = RegisteredModel(name=name, workspace=workspace)
    registered.full_clean(validate_unique=False)
    _check_workspace(name, workspace)
    if operation is not None:
        _check_link(registered, operation)
    if ModelVersion.objects.filter(model__name=name, version=version).exists():
        raise ValidationError(f"{name} already has a version {version!r}; versions are immutable, pick a new one.")
    described = _describe(_fetch_and_load(uri, trust), uri)

    with transaction.atomic():
        registered, _ = RegisteredModel.objects.get_or_create(name=name, defaults={"workspace": workspace})
        if registered.workspace_id != workspace.pk:  # registered elsewhere since the check above
            _check_workspace(name, workspace)
        if operation is not None:
            model_link(model=registered, operation=operation)
        created = ModelVersion(model=registered, version=version, artifact_uri=uri, created_by=actor, **described)
        created.full_clean()
        created.save()
        if alias:
            alias_move(model=registered, alias=alias, version=created, actor=actor)
    return created


def model_link(*, model: RegisteredModel | str, operation: Operation | None) -> RegisteredModel:
    """Show the model on `operation`'s dashboard (None: on none); the operation must be of the
    model's workspace."""
    registered = _resolve_model(model)
    if operation is not None:
        _check_link(registered, operation)
    if registered.operation_id != (operation.pk if operation is not None else None):
        registered.operation = operation
        registered.save(update_fields=["operation"])
    return registered


def alias_move(
    *,
    model: RegisteredModel | str,
    alias: str,
    version: ModelVersion | str,
    actor: AbstractBaseUser | None = None,
) -> ModelAlias:
    """Point `alias` of `model` at `version`, creating the alias on first use."""
    registered = _resolve_model(model)
    if isinstance(version, str):
        try:
            version = registered.versions.get(version=version)
        except ModelVersion.DoesNotExist:
            raise ValidationError(f"{registered.name} has no version {version!r}.") from None
    if version.model_id != registered.pk:
        raise ValidationError(f"Version {version} belongs to another model than {registered.name}.")
    with transaction.atomic():
        current = ModelAlias.objects.select_for_update().filter(model=registered, name=alias).first()
        if current is None:
            current = ModelAlias(model=registered, name=alias, version=version, updated_by=actor)
            current.full_clean()
        else:
            current.version, current.updated_by = version, actor
        current.save()  # the routers serve it once committed (mlservice.serving.alias_saved)
    return current
