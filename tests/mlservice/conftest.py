"""Models to serve, a private cache, and clients with API tokens for the inference routes."""

from __future__ import annotations

import pytest
import skops.io
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlservice import registry
from tests import cast


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
def boss(db, workspace):
    """An admin of the team's workspace (the cast's newbie, made its admin)."""
    from tests.conftest import join

    return join(workspace, cast.make("newbie"), "admin")


# --- the inference routes through mlservice.fast, as gunicorn serves them (config/wsgi.py) ----------


class FastPathHandler:
    """The test client's handler with `mlservice.fast` in front, as config/wsgi.py mounts it: an
    infer request it can answer is answered there, every other one by Django's test handler.
    `answered` lists, per request, who answered it ("fast" or "django")."""

    def __init__(self, django_handler):
        from mlservice.fast import FastInference

        self.django_handler = django_handler
        self.fast = FastInference(django_app=None)
        self.answered: list[str] = []

    def __call__(self, environ):
        from django.conf import settings
        from django.core.handlers.wsgi import WSGIRequest
        from django.http import HttpResponse
        from django.test.utils import override_settings

        from mlservice import serving

        if settings.MLSERVICE_REFRESH_SECONDS == 0:
            # The suite's "read the registry at every request": the read happens here, as a request
            # before this one would have done it, and the snapshot is fresh for this request.
            serving.router.expire()
            serving.router.snapshot()
            with override_settings(MLSERVICE_REFRESH_SECONDS=3600):
                answer = self.fast.answer(environ)
        else:
            answer = self.fast.answer(environ)
        if answer is None:
            self.answered.append("django")
            return self.django_handler(environ)
        self.answered.append("fast")
        status, headers, body = answer
        response = HttpResponse(body, status=int(status.split()[0]))
        for name, value in headers:
            response[name] = value
        response.wsgi_request = WSGIRequest(environ)
        return response


@pytest.fixture
def client():
    """pytest-django's client, with `mlservice.fast` in front of Django (`FastPathHandler`)."""
    from django.test import Client

    test_client = Client()
    test_client.handler = FastPathHandler(test_client.handler)
    return test_client
