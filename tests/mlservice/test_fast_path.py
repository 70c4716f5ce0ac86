"""mlservice.fast: which infer requests it answers in front of Django, and that each of its answers
is the one Django's view would give (body, headers, metrics); every other request goes to Django.

The `client` here is tests/mlservice/conftest.py's: `client.handler.answered` says, per request,
whether mlservice.fast ("fast") or Django ("django") answered it.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from prometheus_client import REGISTRY

from mlservice import access, fast, registry, serving
from mlservice.models import ModelAlias
from tests.mlservice.conftest import FastPathHandler

pytestmark = pytest.mark.django_db

INFER = "/v2/models/iris/infer"
ROW = [5.1, 3.5, 1.4, 0.2]


def body(data=None, **extra):
    data = [ROW] if data is None else data
    tensor = {"name": "input-0", "shape": [len(data), 4], "datatype": "FP64", "data": data}
    return json.dumps({"inputs": [tensor], **extra})


def post(client, payload=None, url=INFER, **kwargs):
    return client.post(url, body() if payload is None else payload, content_type="application/json", **kwargs)


@pytest.fixture
def warm(api, served_iris, settings):
    """The token cached, the snapshot fresh for a minute, the model loaded: what a busy worker has."""
    settings.MLSERVICE_REFRESH_SECONDS = 60
    assert post(api).status_code == 200
    return api


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- what it answers ---------------------------------------------------------------------------------


def test_it_answers_a_request_a_warm_worker_can_serve(warm):
    response = post(warm, body(id="r-1"))

    assert warm.handler.answered[-1] == "fast"
    assert response.status_code == 200
    assert response.json() == {
        "model_name": "iris",
        "model_version": "1",
        "id": "r-1",
        "outputs": [{"name": "predict", "datatype": "INT64", "shape": [1], "data": [0]}],
    }


def test_a_large_batch_is_answered_too(warm, iris, iris_pipeline):
    X, _ = iris
    rows = X.tolist() * 7  # 1,050 rows: the bench's 1,000-row case

    response = post(warm, body(rows))

    assert warm.handler.answered[-1] == "fast"
    assert response.json()["outputs"][0]["data"] == iris_pipeline.predict(X).tolist() * 7


def test_the_version_route_is_answered_too(warm):
    assert post(warm, url="/v2/models/iris/versions/1/infer").json()["model_version"] == "1"
    assert warm.handler.answered[-1] == "fast"


def test_its_answer_is_djangos_byte_for_byte_headers_included(warm, token):
    """The same request through Django alone (a plain test client): same status, body and headers."""
    payload = body([ROW, ROW], outputs=[{"name": "predict"}, {"name": "predict_proba"}])
    plain = Client(HTTP_AUTHORIZATION=f"Token {token}")

    ours = post(warm, payload, HTTP_X_REQUEST_ID="same-id")
    djangos = post(plain, payload, HTTP_X_REQUEST_ID="same-id")

    assert warm.handler.answered[-1] == "fast"
    assert ours.status_code == djangos.status_code == 200
    assert ours.content == djangos.content
    assert dict(ours.headers) == dict(djangos.headers)


def test_it_answers_on_https_with_hsts_as_django_does(warm, token, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    plain = Client(HTTP_AUTHORIZATION=f"Token {token}")

    ours = post(warm, secure=True, HTTP_X_REQUEST_ID="x")
    djangos = post(plain, secure=True, HTTP_X_REQUEST_ID="x")

    assert warm.handler.answered[-1] == "fast"
    assert ours["Strict-Transport-Security"] == "max-age=3600"
    assert dict(ours.headers) == dict(djangos.headers)


def test_it_makes_a_request_id_or_keeps_a_valid_one(warm):
    assert post(warm, HTTP_X_REQUEST_ID="lb-123")["X-Request-ID"] == "lb-123"
    made = post(warm, HTTP_X_REQUEST_ID="not valid\n")["X-Request-ID"]
    assert len(made) == 32 and made != post(warm)["X-Request-ID"]
    assert warm.handler.answered[-3:] == ["fast"] * 3


def test_it_costs_no_query(warm):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert post(warm).status_code == 200

    assert warm.handler.answered[-3:] == ["fast"] * 3
    assert len(queries) == 0


def test_it_counts_both_metric_families_under_djangos_route(warm):
    assert resolve(INFER).route == fast.ROUTE
    assert resolve("/v2/models/iris/versions/1/infer").route == fast.VERSION_ROUTE
    model = {"model": "iris", "version": "1"}
    http = {"method": "POST", "route": fast.ROUTE}
    before = (
        sample("mlservice_requests_total", **model),
        sample("mlservice_rows_total", **model),
        sample("mlservice_request_duration_seconds_count", **model),
        sample("snailtrail_http_requests_total", status="200", **http),
        sample("snailtrail_http_request_duration_seconds_count", **http),
    )

    post(warm, body([ROW, ROW, ROW]))

    assert warm.handler.answered[-1] == "fast"
    after = (
        sample("mlservice_requests_total", **model),
        sample("mlservice_rows_total", **model),
        sample("mlservice_request_duration_seconds_count", **model),
        sample("snailtrail_http_requests_total", status="200", **http),
        sample("snailtrail_http_request_duration_seconds_count", **http),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 3, 1, 1, 1]
    assert sample("mlservice_degraded", model="iris") == 0


def test_config_wsgi_mounts_it_in_front_of_django(warm, token):
    from config import wsgi

    assert isinstance(wsgi.application, fast.FastInference)
    assert wsgi.application.django_app is wsgi.django_application

    def call(method, path, payload=b"", **headers):
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(payload),
            "CONTENT_LENGTH": str(len(payload)),
            "CONTENT_TYPE": "application/json",
            **headers,
        }
        got = {}
        chunks = wsgi.application(environ, lambda status, headers: got.update(status=status, headers=headers))
        content = b"".join(chunks)
        getattr(chunks, "close", lambda: None)()
        return got["status"], content

    # Django's handler closes old connections around a request; this test's transaction must survive it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        status, content = call("POST", INFER, body().encode(), HTTP_AUTHORIZATION=f"Token {token}")
        live_status, live = call("GET", "/v2/health/live")
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)

    assert status == "200 OK" and json.loads(content)["outputs"][0]["data"] == [0]
    assert live_status.startswith("200") and json.loads(live) == {"live": True}


# --- what it hands to Django -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, status",
    [
        (lambda c, s: post(c, HTTP_AUTHORIZATION=""), 401),
        (lambda c, s: post(c, HTTP_AUTHORIZATION="Token not-a-token"), 401),  # not cached: looked up
        (lambda c, s: post(c, url="/v2/models/nope/infer"), 404),
        (lambda c, s: post(c, url="/v2/models/iris/versions/9/infer"), 404),
        (lambda c, s: post(c, "{not json"), 400),
        (lambda c, s: post(c, body([[1, 2, 3]])), 400),
        (lambda c, s: post(c, body([["a", "b", "c", "d"]])), 400),
        (lambda c, s: c.get(INFER), 405),
        (lambda c, s: post(c, ""), 400),
        (lambda c, s: post(c, HTTP_HOST="evil.example"), 400),
        (lambda c, s: setattr(s, "MLSERVICE_MAX_BODY_BYTES", 10) or post(c), 413),
    ],
    ids=[
        "no token",
        "unknown token",
        "unknown model",
        "unknown version",
        "malformed json",
        "wrong shape",
        "not numbers",
        "wrong method",
        "empty body",
        "host not allowed",
        "body over the limit",
    ],
)
def test_what_it_cannot_answer_goes_to_django(warm, settings, change, status):
    response = change(warm, settings)

    assert warm.handler.answered[-1] == "django"
    assert response.status_code == status, response.content


def test_http_when_https_is_required_goes_to_django(served_iris, token, settings):
    settings.MLSERVICE_REFRESH_SECONDS = 60
    settings.SECURE_SSL_REDIRECT = True  # before the client's first request: Django's middleware reads it then
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    client.handler = FastPathHandler(client.handler)

    assert post(client, secure=True).status_code == 200  # warms the worker
    assert post(client, secure=True).status_code == 200
    assert post(client).status_code == 301

    assert client.handler.answered == ["django", "fast", "django"]


def test_a_cold_worker_hands_over_until_it_is_warm(api, served_iris, settings):
    settings.MLSERVICE_REFRESH_SECONDS = 60
    assert post(api).status_code == 200  # token not cached, no snapshot, model not loaded
    assert post(api).status_code == 200

    assert api.handler.answered == ["django", "fast"]


def test_a_stale_snapshot_is_refreshed_by_django(warm):
    serving.router.expire()

    assert post(warm).status_code == 200
    assert post(warm).status_code == 200
    assert warm.handler.answered[-2:] == ["django", "fast"]


def test_a_moved_alias_is_loaded_by_django_then_served_fast(
    warm, workspace, plain_artifact, django_capture_on_commit_callbacks
):
    registry.register_version(workspace=workspace, name="iris", uri=str(plain_artifact), version="2", trust=[])
    with django_capture_on_commit_callbacks(execute=True):
        registry.alias_move(model="iris", alias="production", version="2")  # expires this process's snapshot

    first, second = post(warm), post(warm)

    assert [first.json()["model_version"], second.json()["model_version"]] == ["2", "2"]
    assert warm.handler.answered[-2:] == ["django", "fast"]
    assert ModelAlias.objects.get(name="production").last_good.version == "2"  # written by Django's request


def test_a_degraded_default_is_answered_by_django(warm, workspace, plain_artifact, django_capture_on_commit_callbacks):
    registry.register_version(workspace=workspace, name="iris", uri=str(plain_artifact), version="2", trust=[])
    plain_artifact.unlink()  # version 2 cannot be loaded: version 1 answers, degraded
    with django_capture_on_commit_callbacks(execute=True):
        registry.alias_move(model="iris", alias="production", version="2")

    for _ in range(2):
        response = post(warm)
        assert response.status_code == 200 and response.json()["parameters"]["degraded"] is True
    assert warm.handler.answered[-2:] == ["django", "django"]


def test_a_throttled_request_goes_to_django(warm, settings):
    settings.MLSERVICE_INFER_RATE = "2/min"
    cache.clear()
    access.throttle.clear()

    assert [post(warm).status_code for _ in range(3)] == [200, 200, 429]
    assert warm.handler.answered[-3:] == ["fast", "fast", "django"]


def test_a_request_it_counted_then_handed_over_is_not_counted_twice(warm, settings):
    """Bad input is found after the throttle counted the request: Django answers it, uncounted."""
    settings.MLSERVICE_INFER_RATE = "3/min"
    cache.clear()
    access.throttle.clear()

    statuses = [post(warm).status_code, post(warm, "{bad").status_code, post(warm).status_code, post(warm).status_code]

    assert statuses == [200, 400, 200, 429]
    assert warm.handler.answered[-4:] == ["fast", "django", "fast", "django"]


def test_a_model_that_refuses_the_input_is_answered_by_django(warm, monkeypatch):
    loaded = serving.router.serve("iris").loaded

    def refuse(features):
        raise ValueError("unseen category")

    monkeypatch.setattr(loaded.model, "predict", refuse)

    response = post(warm)

    assert warm.handler.answered[-1] == "django"
    assert response.status_code == 400 and "unseen category" in response.json()["error"]


def test_a_body_that_cannot_be_read_goes_to_django(warm, token):
    class GoneAway(io.RawIOBase):
        def read(self, size=-1):
            raise OSError("the client went away")

    handed = []
    app = fast.FastInference(lambda environ, start_response: handed.append(environ) or [b"django"])
    payload = body().encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": INFER,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": GoneAway(),
        "CONTENT_LENGTH": str(len(payload)),
        "HTTP_AUTHORIZATION": f"Token {token}",
    }

    assert app(environ, lambda *args: None) == [b"django"]
    assert handed == [environ]


def test_a_cache_that_does_not_answer_is_djangos_to_report(warm, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown

    def down(user_id):
        raise RedisDown("Redis is restarting")

    monkeypatch.setattr(access.throttle, "check", down)
    warm.raise_request_exception = False  # as in production: handler500 answers the 503

    response = post(warm)

    assert warm.handler.answered[-1] == "django"
    assert response.status_code == 503
