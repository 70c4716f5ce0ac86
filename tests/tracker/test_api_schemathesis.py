"""schemathesis drives every operation of the OpenAPI schema in-process (WSGI), authenticated as
the operation's admin, with a fixed seed: no response may be a server error or differ from what
the schema promises (status, content type, headers, body shape)."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Generating the schema reads no database, so it can be built when the module is collected.
# (schemathesis.pytest.from_fixture, the lazy loader, does not run under pytest 9.)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Run the real WSGI handler without closing the test's database connection after each request.

    Django's test client does the same: its handler disconnects `close_old_connections`, which
    would otherwise close a connection that is inside the test's transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(team, owner) -> str:
    return Token.objects.create(user=owner).key


@schema.parametrize()
@hypothesis.settings(
    max_examples=20,
    derandomize=True,  # the same examples on every run: a CI failure reproduces locally
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_keeps_to_the_schema(case, team, admin_token):
    # Aim most calls at the real operation, so they get past the 404 into the serializers.
    for name in ("slug", "operation_slug"):
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = team.slug
    case.call_and_validate(headers={"Authorization": f"Token {admin_token}"}, checks=CHECKS)
