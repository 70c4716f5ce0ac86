"""Shared fixtures: the example document, the named users (of tests/cast.py, the one cast), and
the services the suite may need.

Tests that need Redis use `redis_url`; they skip with the reason when Redis does not answer,
unless REQUIRE_SERVICES=1, where a missing service fails the test instead.
"""

from __future__ import annotations

import os
import pickle
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from tests import cast

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "operation-snail-trail.md"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), 2).close()
    except OSError:
        return False
    return True


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(what: str, predicate: Callable[[], Any], timeout: float = 30.0, logs: Callable[[], str] = str) -> Any:
    """Poll `predicate` until it is true and return its value; after `timeout` seconds, fail with
    `what` and the `logs()` of the processes concerned. A bound on a wait, never a timing assertion."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{logs()}")
        time.sleep(0.05)


def database_url() -> str:
    """The URL of the database this test writes to (pytest-django's test database, not the real
    one), for the processes a test starts on it: PostgreSQL's, in the second pass."""
    from django.db import connection

    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{quote(db['NAME'], safe='')}"


def migrate_to(targets):
    """Migrate the test database to `targets` ([(app, migration)], or the graph's leaf nodes) and
    return the apps registry of that state, for a data migration's test."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest_migrations():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def need_service(url: str, default_port: int, what: str) -> str:
    if _answers(url, default_port):
        return url
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {what} does not answer at {url}")
    pytest.skip(f"{what} does not answer at {url}")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory, django_db_setup, django_db_blocker) -> Path:
    """A SQLite database as `manage.py migrate` leaves it with `make run`'s settings, made once per
    run for the tests that start the app as processes on a fresh state directory: each takes a copy
    (`fresh_database`) instead of migrating again (a process of its own, most of such a test's
    setup). In the SQLite pass it is a copy of pytest-django's test database, migrated already;
    else (or if that one holds any test's rows) `migrate` runs once, as a process."""
    target = tmp_path_factory.mktemp("migrated-var") / "snailtrail.sqlite3"
    with django_db_blocker.unblock():
        if _copy_of_the_test_database(target):
            return target
    target.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "PYTEST"))}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.local", "SNAILTRAIL_VAR_DIR": str(target.parent)}
    command = [sys.executable, "manage.py", "migrate", "--noinput", "-v0"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=300)
    return target


def _copy_of_the_test_database(target: Path) -> bool:
    """Copy what the SQLite test database has committed (its schema and django_migrations) to
    `target`, through a connection of its own; False on PostgreSQL, or if it holds any row a test
    made (a migrated database has no user, workspace or operation)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return False
    try:
        source = sqlite3.connect(connection.settings_dict["NAME"], uri=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            made = [copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in _TEST_ROWS]
            applied = copy.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
        finally:
            source.close()
            copy.close()
    except sqlite3.Error:
        return False
    return applied > 0 and not any(made)


_TEST_ROWS = ("auth_user", "tracker_workspace", "tracker_operation", "ops_check", "mlservice_registeredmodel")


def fresh_database(template: Path, var: Path) -> Path:
    """A copy of the migrated `template` as `var`'s snailtrail.sqlite3 (the local settings' database
    there), made with SQLite's backup API so that a WAL file's pages come along."""
    var.mkdir(parents=True, exist_ok=True)
    target = var / "snailtrail.sqlite3"
    source, copy = sqlite3.connect(template), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return target


@pytest.fixture
def redis_url() -> str:
    return need_service(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), 6379, "Redis")


@pytest.fixture
def example_bytes() -> bytes:
    return EXAMPLE.read_bytes()


@pytest.fixture
def workspace(db):
    """The team's workspace: owner, teammate and viewer belong to it (as members); outsider does not."""
    from tracker.models import Workspace

    return Workspace.objects.create(name="Team", slug="team")


def join(workspace, user, role: str = "member"):
    """`user` as a member (or admin) of `workspace`; returns the user."""
    from tracker.models import WorkspaceMembership

    WorkspaceMembership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    return user


@pytest.fixture
def owner(db, workspace):
    return join(workspace, cast.make("owner", is_staff=True))


@pytest.fixture
def teammate(db, workspace):
    return join(workspace, cast.make("teammate"))


@pytest.fixture
def viewer(db, workspace):
    return join(workspace, cast.make("viewer"))


@pytest.fixture
def outsider(db):
    """Signed in, but in no workspace of the team's: everything of the team's does not exist for them."""
    return cast.make("outsider")


@pytest.fixture
def elsewhere(outsider):
    """Another team's workspace, the outsider's."""
    from tracker.models import Workspace

    workspace = Workspace.objects.create(name="Elsewhere", slug="elsewhere")
    join(workspace, outsider)
    return workspace


@pytest.fixture
def superuser(db):
    return cast.make("admin")


@pytest.fixture(scope="session")
def example_document() -> bytes:
    """The example document parsed once for the run, pickled: each test unpickles its own copy
    (a tenth of a millisecond) instead of parsing it again (tens of milliseconds, hundreds of tests)."""
    from tracker.importers import read_document

    return pickle.dumps(read_document(EXAMPLE.read_bytes()))


@pytest.fixture
def example_operation(db, example_document, workspace):
    """The example imported into the team's workspace, as `import_document` would (parse, then import)."""
    from tracker.importers import import_parsed

    return import_parsed(document=pickle.loads(example_document), actor=None, workspace=workspace)


@pytest.fixture
def token(owner) -> str:
    """The owner's API token (the REST API's and the inference routes')."""
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=owner).key


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def team(example_operation, owner, teammate, viewer):
    """The example operation with owner as its admin, teammate an editor, viewer a viewer."""
    from tracker import services

    for user, role in ((owner, "admin"), (teammate, "editor"), (viewer, "viewer")):
        services.membership_set(operation=example_operation, user=user, role=role, actor=None)
    return example_operation


def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def no_real_aws(monkeypatch):
    """No test reaches AWS: boto3 is pointed at a closed loopback port with fake credentials unless
    a test points it at its moto server (tests/ops/conftest.py's `aws` fixture overrides these)."""
    from ops import aws

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    aws.forget_clients()
    yield
    aws.forget_clients()


@pytest.fixture(scope="session")
def moto_server():
    """One moto server on loopback for the whole run (the ops checks' AWS, the models' S3); its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # port 0: the OS picks a free one
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def fresh_mlservice(settings, tmp_path):
    """A private model cache under a fresh VAR_DIR, and nothing of mlservice in this process's
    memory (no model, no registry snapshot, no token, no throttle count) before and after the test."""
    from mlservice import access, artifacts, serving

    def forget() -> None:
        artifacts.forget_all()
        serving.router.reset()
        access.tokens.clear()
        access.throttle.clear()

    var = tmp_path / "var"
    var.mkdir()
    settings.VAR_DIR = var
    forget()
    yield var
    forget()
