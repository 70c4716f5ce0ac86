"""The world the security sweeps run against, built once for each module that sweeps it.

Building two operations full of content (and registering a model) for each of a thousand
parametrized cases would take minutes, so `world` builds them once per module that uses it, inside
a transaction rolled back when that module is done; each test runs in its own savepoint inside it
(pytest-django's `db`), so whatever a test writes is undone before the next one. The modules that
need no world never run beside one: its people are the suite's cast (tests/cast.py), whose
fixtures make users of the same names.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings

from .world import World, build


def _forget_mlservice() -> None:
    from mlservice import access, artifacts, serving

    artifacts.forget_all()
    serving.router.reset()
    access.tokens.clear()
    access.throttle.clear()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> World:
    var = tmp_path_factory.mktemp("security-var")
    with django_db_blocker.unblock(), override_settings(VAR_DIR=var):
        _forget_mlservice()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build(var)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            _forget_mlservice()


@pytest.fixture(autouse=True)
def _in_a_savepoint(db):
    """Every test of the package: a savepoint around the test (inside the world's transaction, in a
    module whose tests ask for `world`)."""
    yield


# An address on the internet (TEST-NET-3), for callers who are not on this host. The test client's
# default, 127.0.0.1, is one of METRICS_ALLOWED_NETWORKS, which outsiders are not.
REMOTE = "203.0.113.7"


def session_client(user=None, *, remote: bool = False) -> Client:
    """A browser: cookies, CSRF checks as in production, logged in as `user` (None: anonymous)."""
    client = Client(enforce_csrf_checks=True, **({"REMOTE_ADDR": REMOTE} if remote else {}))
    if user is not None:
        client.force_login(user)
    return client


def token_client(key: str, *, remote: bool = False) -> Client:
    """A script with an API token: `Authorization: Token <key>` on every request, no cookie."""
    client = Client(enforce_csrf_checks=True, **({"REMOTE_ADDR": REMOTE} if remote else {}))
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
    return client
