"""A database, cache or task queue that does not answer gives a 503 with Retry-After, wherever the
error surfaces (tests/reliability/test_database_drop.py drops a real PostgreSQL connection under
gunicorn)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError
from django.test import Client
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return Client(raise_request_exception=False)  # as a real server: the handler's answer, not the exception


@pytest.fixture
def failing_operation_list(monkeypatch):
    """The operation list (API and page) raises `error` when it reads the database."""

    def fail_with(error: Exception):
        from tracker.api.operations import OperationViewSet

        def broken(self, *args, **kwargs):
            raise error

        monkeypatch.setattr(OperationViewSet, "get_queryset", broken)

    return fail_with


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("closed")])
def test_the_api_answers_a_json_503(client, token, failing_operation_list, error):
    failing_operation_list(error)

    response = client.get("/api/operations/", headers={"Authorization": f"Token {token}"})

    assert response.status_code == 503
    assert response.json() == {"error": "The database is not answering; try again in a few seconds."}
    assert response["Retry-After"] == "5"


def test_a_failure_in_a_middleware_gives_a_page_503_that_needs_no_database(client, owner, monkeypatch):
    client.force_login(owner)

    def broken(self, *args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(SessionStore, "load", broken)  # the first read of every signed-in page

    response = client.get("/")

    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert b"Back in a moment" in response.content


def test_any_other_error_is_still_a_500(client, token, failing_operation_list):
    failing_operation_list(ValueError("a bug"))

    response = client.get("/api/operations/", headers={"Authorization": f"Token {token}"})

    assert response.status_code == 500
    assert "Retry-After" not in response


@pytest.mark.parametrize(
    ("error", "what"),
    [
        (RedisConnectionError("Error 111 connecting to 10.0.3.7:6379. Connection refused."), "The cache"),
        (RedisTimeoutError("Timeout reading from socket"), "The cache"),
        (BrokerError("Error 111 connecting to 10.0.3.7:6379. Connection refused."), "The task queue"),
    ],
)
def test_a_cache_or_queue_that_does_not_answer_is_a_503_that_names_no_host(
    client, token, failing_operation_list, error, what
):
    failing_operation_list(error)

    response = client.get("/api/operations/", headers={"Authorization": f"Token {token}"})

    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {"error": f"{what} is not answering; try again in a few seconds."}


def test_the_redis_cache_waits_two_seconds_at_most(settings):
    """A Redis that hangs would hold a worker until gunicorn's timeout; the pool is built with bounds."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import django; django.setup()\n"
        "from django.core.cache import cache\n"
        "pool = cache._cache._pool_options\n"
        "print(pool['socket_connect_timeout'], pool['socket_timeout'])"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "REDIS_URL": "redis://127.0.0.1:9/0",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "2"]
