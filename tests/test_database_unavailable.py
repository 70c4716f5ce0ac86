"""A database that does not answer gives a 503 with Retry-After, wherever the error surfaces
(tests/reliability/test_database_drop.py drops a real PostgreSQL connection under gunicorn)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError
from django.test import Client

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
