"""/healthz (the process answers) and /readyz (the database, the cache and the broker answer).

Both are for probes: no login, no CSRF token, GET and HEAD only, never redirected to https. A
failed readiness check is named with a short reason that never carries a password.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import OperationalError, connection, connections
from django.test import Client

from tests.conftest import ROOT

CLOSED_PORT = "127.0.0.1:9"  # discard: nothing listens there


@pytest.fixture
def filesystem_broker(settings, tmp_path: Path) -> Path:
    """The embedded mode's Celery transport, its queue in a fresh folder."""
    queue = tmp_path / "celery" / "queue"
    queue.mkdir(parents=True)
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(tmp_path / "celery" / "processed"),
        "store_processed": False,
    }
    return queue


def failed(response) -> dict[str, str]:
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["status"] == "unavailable"
    assert set(body["errors"]) == {name for name, result in body["checks"].items() if result == "failed"}
    return body["errors"]


# --- /healthz -------------------------------------------------------------------------------------


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query would fail the request.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_answers_head_and_refuses_other_methods_without_asking_for_csrf():
    client = Client(enforce_csrf_checks=True)

    assert client.head("/healthz").status_code == 200
    for method in (client.post, client.put, client.delete):
        response = method("/healthz")
        assert response.status_code == 405  # not 403: no CSRF token is asked for
        assert response["Allow"] == "GET, HEAD"
    assert client.post("/readyz").status_code == 405


def test_no_trailing_slash_redirect(client):
    assert client.get("/healthz/").status_code == 404


# --- /readyz ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ready_when_the_database_the_cache_and_the_queue_folder_answer(client, filesystem_broker):
    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}
    assert "no-store" in response["Cache-Control"]
    assert list(filesystem_broker.iterdir()) == []  # the probe's file is gone, no message was left
    assert client.head("/readyz").status_code == 200


@pytest.mark.django_db
def test_a_database_that_does_not_answer(client, filesystem_broker, monkeypatch):
    def refused(*args, **kwargs):
        raise OperationalError('connection to server at "db.internal", port 5432 failed: Connection refused')

    monkeypatch.setattr(connections["default"], "cursor", refused)

    errors = failed(client.get("/readyz"))

    assert list(errors) == ["database"]
    assert errors["database"].startswith("OperationalError: connection to server")
    assert "Traceback" not in errors["database"]


def test_only_the_readers_of_metrics_learn_why(client, filesystem_broker, monkeypatch, settings):
    """The reasons name internal hosts: an address outside METRICS_ALLOWED_NETWORKS gets the verdicts only."""

    def refused(*args, **kwargs):
        raise OperationalError('connection to server at "10.0.3.5", port 5432 failed: Connection refused')

    monkeypatch.setattr(connections["default"], "cursor", refused)
    settings.METRICS_TOKEN = ""

    outside = client.get("/readyz", REMOTE_ADDR="203.0.113.9")
    inside = client.get("/readyz")  # the container's healthcheck: loopback

    assert outside.status_code == inside.status_code == 503
    assert outside.json() == {"status": "unavailable", "checks": {"database": "failed", "cache": "ok", "broker": "ok"}}
    assert "10.0.3.5" not in outside.content.decode()
    assert "10.0.3.5" in inside.json()["errors"]["database"]
    settings.METRICS_TOKEN = "probe-secret"
    with_token = client.get("/readyz", REMOTE_ADDR="203.0.113.9", headers={"Authorization": "Bearer probe-secret"})
    assert "10.0.3.5" in with_token.json()["errors"]["database"]


@pytest.mark.django_db
def test_a_cache_that_does_not_answer(client, filesystem_broker, monkeypatch):
    def refused(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to cache.internal:6379. Connection refused.")

    monkeypatch.setattr(caches["default"], "set", refused)

    errors = failed(client.get("/readyz"))

    assert errors == {"cache": "ConnectionError: Error 111 connecting to cache.internal:6379. Connection refused."}


@pytest.mark.django_db
def test_a_cache_that_forgets(client, filesystem_broker, monkeypatch):
    monkeypatch.setattr(caches["default"], "get", lambda *args, **kwargs: None)

    assert failed(client.get("/readyz")) == {"cache": "a value written to the cache was not read back"}


@pytest.mark.django_db
def test_a_broker_that_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = f"redis://{CLOSED_PORT}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.5

    started = time.monotonic()
    errors = failed(client.get("/readyz"))

    assert time.monotonic() - started < 5  # one short attempt, not kombu's retries
    assert list(errors) == ["broker"]
    assert "Connection refused" in errors["broker"] or "111" in errors["broker"], errors


@pytest.mark.django_db
def test_a_missing_queue_folder(client, filesystem_broker, settings):
    filesystem_broker.rmdir()

    assert failed(client.get("/readyz")) == {"broker": "a queue folder of the filesystem transport does not exist"}


@pytest.mark.django_db
def test_no_password_from_a_url_ever_shows(client, settings, monkeypatch):
    db_password = settings.DATABASES["default"].get("PASSWORD") or "db-pa55word"
    if not settings.DATABASES["default"].get("PASSWORD"):
        # Only read by the check's scrubbing: the open connection of this test is not affected.
        monkeypatch.setitem(settings.DATABASES["default"], "PASSWORD", db_password)
    redis_password = "redis-pa55/word"  # percent-encoded in a URL
    settings.REDIS_URL = "redis://:redis-pa55%2Fword@cache.internal:6379/0"
    settings.CELERY_BROKER_URL = f"redis://:redis-pa55%2Fword@{CLOSED_PORT}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.5

    def database_refused(*args, **kwargs):
        raise OperationalError(
            f"could not connect with postgres://snail:{db_password}@db.internal:5432/snailtrail"
            f" (password={db_password})"
        )

    def cache_refused(*args, **kwargs):
        raise ConnectionError(f"AUTH {redis_password} failed for redis://:redis-pa55%2Fword@cache.internal:6379/0")

    monkeypatch.setattr(connections["default"], "cursor", database_refused)
    monkeypatch.setattr(caches["default"], "set", cache_refused)

    response = client.get("/readyz")
    errors = failed(response)

    assert set(errors) == {"database", "cache", "broker"}
    body = response.content.decode()
    for secret in (db_password, redis_password, "redis-pa55%2Fword", "pa55"):
        assert secret not in body
    assert "postgres://***@db.internal:5432/snailtrail" in errors["database"]
    assert "Traceback" not in body and "File " not in body


@pytest.mark.django_db
def test_ready_against_redis_as_the_cache_and_the_broker(client, settings, redis_url):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_ready_in_the_second_pass_against_the_real_postgresql_and_redis(client, settings):
    if not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")):
        pytest.skip("runs in make test's second pass (DATABASE_URL=postgres://..., REDIS_URL=redis://...)")
    settings.CELERY_BROKER_URL = settings.REDIS_URL  # the test settings put the broker in memory

    response = client.get("/readyz")

    assert connection.vendor == "postgresql"
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


# --- production: plain http from the load balancer ---------------------------------------------------

PROBE = """
import json, os
from django.conf import settings
from django.test import Client

for folder in ("data_folder_in", "processed_folder", "control_folder"):
    os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[folder], exist_ok=True)
plain = Client(HTTP_HOST="snailtrail.example.org")
answers = {path: plain.get(path) for path in ("/healthz", "/readyz", "/accounts/login/")}
print(json.dumps({path: [r.status_code, r.get("Location")] for path, r in answers.items()}))
"""


def test_production_answers_probes_over_plain_http_and_redirects_the_rest(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a-long-random-value-for-this-test-only-0123456789abcdefghij",
        "DJANGO_ALLOWED_HOSTS": "snailtrail.example.org",
        "SNAILTRAIL_VAR_DIR": str(tmp_path / "var"),
    }
    (tmp_path / "var").mkdir()
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr

    answers = json.loads(result.stdout.strip().splitlines()[-1])

    assert answers["/healthz"] == [200, None]
    assert answers["/readyz"] == [200, None]  # SQLite answers SELECT 1 before any migration
    assert answers["/accounts/login/"] == [301, "https://snailtrail.example.org/accounts/login/"]
