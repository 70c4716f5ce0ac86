"""Models to serve, a private cache, and clients with API tokens for the inference routes."""

from __future__ import annotations

import pytest
import skops.io
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlservice import registry


@pytest.fixture(autouse=True)
def private_var_dir(fresh_mlservice):
    """Every test here starts with a fresh cache directory and nothing in memory (tests/conftest.py)."""
    return fresh_mlservice


@pytest.fixture(scope="session")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="session")
def iris_pipeline(iris):
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(*iris)


@pytest.fixture
def plain_artifact(tmp_path, iris):
    X, y = iris
    path = tmp_path / "plain.skops"
    skops.io.dump(LogisticRegression(max_iter=500).fit(X, y), path)
    return path


@pytest.fixture
def pipeline_artifact(tmp_path, iris_pipeline):
    path = tmp_path / "pipeline.skops"
    skops.io.dump(iris_pipeline, path)
    return path


@pytest.fixture
def served_iris(workspace, db, pipeline_artifact):
    """`iris` version 1, with the `production` alias on it."""
    return registry.register_version(
        workspace=workspace, name="iris", uri=str(pipeline_artifact), version="1", trust=[], alias="production"
    )


@pytest.fixture
def api(client, token):
    """The test client with `Authorization: Token ...` on every request."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client


# --- managing models (test_models_api, test_model_pages) ------------------------------------------


@pytest.fixture
def iris_v2(served_iris, plain_artifact, workspace):
    """`iris` with versions 1 and 2, `production` on 1."""
    from mlservice import registry
    from mlservice.models import RegisteredModel

    registry.register_version(workspace=workspace, name="iris", uri=str(plain_artifact), version="2", trust=[])
    return RegisteredModel.objects.get(name="iris")


@pytest.fixture
def rollout(workspace):
    """An operation of the team's workspace, to link a model to."""
    from tracker import services

    return services.operation_create(workspace=workspace, name="Iris rollout", actor=None)


@pytest.fixture
def boss(django_user_model, workspace):
    """An admin of the team's workspace."""
    from tests.conftest import join

    return join(workspace, django_user_model.objects.create_user(username="boss", password="boss-password"), "admin")
