"""The PostgreSQL connection dropped under a web request: a clean 503, nothing half-written, recovery.

A real gunicorn (config/gunicorn.conf.py, one sync worker, so every request meets the same
persistent connection: CONN_MAX_AGE with health checks, as in production) serves pytest-django's
PostgreSQL test database. To drop the connection *during* a request, never racing it, the test
holds a table locked from a connection of its own, waits until the request's backend is seen
waiting on that lock, and terminates that backend with `pg_terminate_backend`: what a database
restart, a failover or a proxy's idle cut does to a connection in use.

Then: the API answers a JSON 503 and a page an HTML 503, both with Retry-After; a write that had
already changed a row inside its transaction leaves nothing behind; and the next request, from the
same worker process, succeeds on a new connection.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.reliability.harness import Gunicorn, children, gunicorn, holding_lock, wait_for
from tracker.models import ActivityEntry, Task

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(postgres, tmp_path: Path) -> Iterator[Gunicorn]:
    with gunicorn(tmp_path) as served:
        yield served


def blocked_by(holder: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [holder])
        return [pid for (pid,) in cursor.fetchall()]


def dropped_under(server: Gunicorn, table: str, method: str, path: str, body: dict | None = None, **headers: str):
    """Send the request, drop its database connection while it waits on `table`, and return the answer."""
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(server.request(method, path, body, **headers)))
    with holding_lock(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE") as holder:
        thread.start()
        (backend,) = wait_for(f"{method} {path} to wait on {table}", lambda: blocked_by(holder), logs=server.output)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        thread.join(timeout=30)
    assert answers, f"no answer to {method} {path}\n{server.output()}"
    return answers[0]


@pytest.fixture
def signed_in(team, owner) -> dict[str, str]:
    """The owner's credentials for both doors: an API token and a session cookie."""
    client = Client()
    client.force_login(owner)
    return {
        "api": f"Token {Token.objects.create(user=owner).key}",
        "cookie": f"sessionid={client.cookies['sessionid'].value}",
    }


def test_the_api_answers_503_then_recovers_on_the_same_worker(server, team, signed_in):
    path = f"/api/operations/{team.slug}/"
    assert server.request("GET", path, Authorization=signed_in["api"])[0] == 200  # its connection is open
    (worker,) = children(server.process.pid)

    status, headers, body = dropped_under(server, "tracker_operation", "GET", path, Authorization=signed_in["api"])

    assert status == 503, body
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"error": "The database is not answering; try again in a few seconds."}
    assert headers["Retry-After"] == "5"
    status, _headers, body = server.request("GET", path, Authorization=signed_in["api"])
    assert status == 200 and json.loads(body)["slug"] == team.slug
    assert children(server.process.pid) == [worker]  # the same process, on a new connection
    assert "Service Unavailable: " + path in server.output()  # logged, with the cause
    assert "terminating connection due to administrator command" in server.output()


def test_a_page_answers_an_html_503_that_reads_nothing_from_the_database(server, team, signed_in):
    path = f"/operations/{team.slug}/"

    status, headers, body = dropped_under(server, "tracker_operation", "GET", path, Cookie=signed_in["cookie"])

    assert status == 503
    assert headers["Content-Type"].startswith("text/html") and headers["Retry-After"] == "5"
    assert b"Back in a moment" in body and b"Traceback" not in body
    status, _headers, body = server.request("GET", path, Cookie=signed_in["cookie"])
    assert status == 200 and team.name.encode() in body


def test_a_write_cut_off_halfway_leaves_nothing_behind(server, team, signed_in):
    task = Task.objects.filter(operation=team, done=False).first()
    path = f"/api/operations/{team.slug}/tasks/{task.pk}/"
    entries = ActivityEntry.objects.count()

    # The task's row is updated first, then its activity entry waits on the locked table: the
    # connection drops with the update made and not committed.
    status, _headers, body = dropped_under(
        server, "tracker_activityentry", "PATCH", path, {"done": True}, Authorization=signed_in["api"]
    )

    assert status == 503, body
    task.refresh_from_db()
    assert task.done is False and ActivityEntry.objects.count() == entries
    status, _headers, body = server.request("PATCH", path, {"done": True}, Authorization=signed_in["api"])
    assert status == 200, body
    task.refresh_from_db()
    assert task.done is True and ActivityEntry.objects.count() == entries + 1
