"""The demo model of `make run`: `iris` version 1 behind the `production` alias, so the inference
routes answer on a fresh machine. Trained from the iris data scikit-learn ships (no download).

With `s3` (make run's demo AWS, a moto server), the artifact is put in a demo S3 bucket and
registered from there, as a real rollout's models are; otherwise from var/.
Idempotent: a second run re-uploads the same file (moto forgets its buckets) and registers nothing.
The model is registered in the workspace of the operation it is linked to (make run's example
operation, in setup_demo's "demo" workspace), so the members of that workspace can call it.
"""

from __future__ import annotations

from pathlib import Path

import skops.io
from django.conf import settings
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tracker.models import Operation, Workspace
from tracker.services import workspace_for_command

from . import registry
from .models import ModelVersion

NAME, VERSION, ALIAS = "iris", "1", "production"
BUCKET, KEY = "snailtrail-demo-models", "iris/1.skops"


def artifact_path() -> Path:
    """The demo artifact under var/, trained once: retraining would change its sha256."""
    path = Path(settings.VAR_DIR) / "demo-models" / "iris-1.skops"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(*load_iris(return_X_y=True))
        skops.io.dump(model, path)
    return path


def _upload(path: Path) -> str:
    import boto3

    s3 = boto3.client("s3")
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if BUCKET not in existing:
        s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(path), BUCKET, KEY)
    return f"s3://{BUCKET}/{KEY}"


def ensure_demo_model(
    operation: Operation | None, *, s3: bool = False, workspace: Workspace | None = None
) -> tuple[ModelVersion, bool]:
    """The demo version, and whether it was registered by this call. It is registered in the
    operation's workspace; without an operation in `workspace`, else the one management commands
    use (`workspace_for_command`). Linking to an operation of another workspace is refused."""
    if operation is not None:
        workspace = operation.workspace
    elif workspace is None:
        workspace = workspace_for_command()
    path = artifact_path()
    uri = _upload(path) if s3 else str(path)
    existing = ModelVersion.objects.filter(model__name=NAME, version=VERSION).select_related("model").first()
    if existing is not None:
        if operation is not None:
            registry.model_link(model=existing.model, operation=operation)
        return existing, False
    created = registry.register_version(
        name=NAME, uri=uri, version=VERSION, trust=[], workspace=workspace, alias=ALIAS, operation=operation
    )
    return created, True
