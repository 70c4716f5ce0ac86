"""A worker killed with SIGKILL in the middle of a run loses no run and duplicates none (issue 5).

Real Celery workers (prefork pool, subprocesses with the non-eager `config.settings.local`) take
their tasks from a real Redis (a database of this test's own) and write to pytest-django's
PostgreSQL test database, which is why the test runs only in `make test`'s PostgreSQL pass: a worker
process cannot share SQLite's in-memory test database.

The checks are `http_endpoint` checks against a local HTTP server that holds every request under
/slow/ until the test releases it, so a worker is killed while it waits on its requests, never
racing a timer. Two ways of killing it, each with its own recovery path:

- pool-child: SIGKILL the pool process that runs the group. The worker's main process sees it die
  and, with acks_late + reject_on_worker_lost, requeues the message; a new pool process runs the
  group again. That one is killed too, halfway through recording: the test holds the row of one
  check locked, so the run waits there after recording the checks before it. The third must record
  exactly the runs the killed one did not commit (all of them when a group is recorded in one
  transaction, as ops.runner does now; the rest when each run commits on its own).
- worker: SIGKILL the worker's main process (`kill -9 <pid>`). Its pool process dies with it (Celery
  gives pool processes SIGKILL as parent-death signal), so this is also what killing the whole
  process group does. Nobody requeues: the message stays in Redis's unacked set until its
  visibility timeout (CELERY_VISIBILITY_TIMEOUT, 2 s here) has passed, and a new worker restores
  it when it starts.

A second test delivers one group's message twice at once to two pool processes (as Redis does when
a visibility timeout passes mid-run), then a third time after both finished.

Tasks are sent from the test process with a Celery app of its own pointed at the workers' Redis:
the suite's settings make the project's app eager (CELERY_TASK_ALWAYS_EAGER, a memory:// broker),
and Celery reads its configuration once, so overriding Django settings here would not reach it.
`send_task` by name also keeps the test process from running any task itself.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery import Celery
from django.db import connection
from django.utils import timezone

from ops import services
from ops.checks.base import PASS
from ops.models import Check, CheckRun
from tests.conftest import need_service
from tests.reliability.harness import (
    GROUP_TASK,
    QUEUE,
    Workers,
    alive,
    children,
    holding_lock,
    http_check,
    pids_holding,
    wait_for,
    worker_environment,
)
from tracker import services as tracker_services

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

BROKER_DB = 14  # the workers' broker and cache; flushed before and after each test
VISIBILITY_TIMEOUT = 2  # seconds before Redis hands an unacked task to another worker


@pytest.fixture
def broker_url(postgres) -> str:
    configured = os.environ.get("REDIS_URL") or os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    need_service(configured, 6379, "Redis")
    return urlunsplit(urlsplit(configured)._replace(path=f"/{BROKER_DB}"))


@pytest.fixture
def broker(broker_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(broker_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def sender(broker_url: str) -> Iterator[Celery]:
    app = Celery("worker-kill-test", broker=broker_url, set_as_current=False)
    app.conf.update(task_serializer="json", accept_content=["json"], task_default_queue=QUEUE)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def workers(broker_url: str, broker: redis.Redis, tmp_path: Path) -> Iterator[Workers]:
    environment = worker_environment(broker_url, tmp_path / "var", CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT))
    started = Workers(environment, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
        print(started.logs())  # pytest shows it only when the test failed


def unacked(broker: redis.Redis) -> list[tuple[bytes, dict[str, Any], float]]:
    """The messages workers took from the queue and have not acked, with when they took them:
    (delivery tag, message, time.time() of delivery), from kombu's ack emulation on Redis."""
    return [
        (tag, json.loads(raw)[0], broker.zscore("unacked_index", tag)) for tag, raw in broker.hgetall("unacked").items()
    ]


def queued(broker: redis.Redis) -> int:
    return broker.llen(QUEUE) + len(broker.hkeys("unacked"))


def waiting_on(holder_pid: int) -> int:
    """How many backends wait for a lock `holder_pid` holds (each query a fresh view: autocommit)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [holder_pid])
        return cursor.fetchone()[0]


# --- the checks -------------------------------------------------------------------------------------


@pytest.fixture
def operation(broker_url, workspace):
    return tracker_services.operation_create(workspace=workspace, name="Worker kill", actor=None)


def assert_each_recorded_once(checks: list[Check], claim_id: uuid.UUID, before) -> None:
    for check in checks:
        runs = list(CheckRun.objects.filter(live_check=check))
        assert len(runs) == 1, f"{check.name}: {len(runs)} runs"
        assert runs[0].run_id == services.run_id_for(claim_id, check.pk)
        assert runs[0].status == PASS, runs[0].message
        assert runs[0].observed == 200
        check.refresh_from_db()
        assert check.status == PASS
        assert check.claim_id is None and check.claimed_until is None
        assert check.next_due_at >= before + check.interval


# --- the tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kill", ["pool-child", "worker"])
def test_a_worker_killed_mid_run_loses_no_run_and_duplicates_none(
    kill, operation, slow_server, workers, broker, sender
):
    # Two groups: "fast" is answered, recorded and acked before the kill; "slow" is in flight. One
    # pool process and a FIFO queue: the dispatch, then the fast group, then the slow one.
    fast = [http_check(operation, slow_server, f"fast {n}", f"/fast/{n}", "eu-west-1") for n in range(3)]
    slow = [http_check(operation, slow_server, f"slow {n}", f"/slow/{n}", "us-east-1") for n in range(3)]
    before = timezone.now()
    first = workers.start("first")

    sender.send_task("ops.tasks.dispatch_due_checks")

    logs = workers.logs
    wait_for("the fast group's runs", lambda: CheckRun.objects.filter(live_check__in=fast).count() == 3, logs=logs)
    wait_for("the slow group's requests", lambda: len(slow_server.requests_to("/slow/")) == 3, logs=logs)
    claim_id = Check.objects.get(pk=slow[0].pk).claim_id
    assert claim_id is not None
    assert set(Check.objects.filter(pk__in=[c.pk for c in slow]).values_list("claim_id", flat=True)) == {claim_id}
    (tag, message, delivered_at), *others = unacked(broker)
    assert not others and message["headers"]["task"] == GROUP_TASK  # acks_late: taken, not acked
    assert message["properties"]["body_encoding"] == "base64"
    assert json.loads(base64.b64decode(message["body"]))[0] == [str(claim_id), [c.pk for c in slow]]
    task_id = message["headers"]["id"]
    pool = children(first.pid)
    ports = {port for _path, port in slow_server.requests_to("/slow/")}
    assert len(pool) == 1 and pids_holding(ports, pool + [first.pid]) == set(pool)  # it waits on the endpoints

    if kill == "pool-child":
        # The main process sees its pool process die and, with reject_on_worker_lost, requeues the
        # message; a new pool process runs the group again. Kill that one too, halfway through
        # recording: it waits on the row the test holds. The third records what was not committed.
        with holding_lock("SELECT id FROM ops_check WHERE id = %s FOR UPDATE", [slow[-1].pk]) as holder:
            os.kill(pool[0], signal.SIGKILL)
            slow_server.release.set()
            wait_for("a run blocked on the held check", lambda: waiting_on(holder), logs=logs)
            (second,) = children(first.pid)
            assert second != pool[0]
            recorded_before_kill = CheckRun.objects.filter(live_check__in=slow).count()
            os.kill(second, signal.SIGKILL)
        # Only the requeue can run it again in time: no other worker, and this one scans Redis for
        # expired unacked messages at start and then every ~100 s.
        rerun, attempts = first, 3
        expected_by_rerun = len(slow) - recorded_before_kill
    else:
        # `kill -9` of the worker: the pool process dies with it (Celery sets its parent-death signal
        # to SIGKILL), nobody requeues, and the message waits in Redis's unacked set.
        os.kill(first.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        wait_for("the pool process to die with the worker", lambda: not alive(pool[0]), logs=logs)
        slow_server.release.set()
        assert [t for t, _m, _at in unacked(broker)] == [tag] and broker.llen(QUEUE) == 0
        # kombu restores unacked messages older than the visibility timeout when a worker starts
        # (then only every ~100 s): start the new worker once that age is reached, not before.
        time.sleep(max(0.0, delivered_at + VISIBILITY_TIMEOUT + 0.5 - time.time()))
        rerun, attempts = workers.start("second"), 2
        expected_by_rerun = len(slow)

    assert wait_for(f"{task_id} to run again", lambda: rerun.results(task_id), logs=logs) == [expected_by_rerun]
    wait_for("the queue to drain", lambda: queued(broker) == 0, logs=logs)
    if rerun is not first:
        assert first.results(task_id) == []  # the killed run never finished
    assert len(slow_server.requests_to("/fast/")) == 3  # the acked group was not run again
    # The attempts that were killed asked every endpoint; the last asked only for what was missing.
    assert len(slow_server.requests_to("/slow/")) == len(slow) * (attempts - 1) + expected_by_rerun
    assert CheckRun.objects.count() == 6
    assert_each_recorded_once(fast + slow, claim_id, before)


def test_a_group_delivered_twice_records_each_run_once(operation, slow_server, workers, broker, sender):
    checks = [http_check(operation, slow_server, f"twice {n}", f"/slow/{n}") for n in range(6)]
    before = timezone.now()
    claim_id, groups = services.claim_due()
    assert list(groups.values()) == [[c.pk for c in checks]]
    worker = workers.start("twice", concurrency=2)
    logs = workers.logs

    # The same message twice, as Redis hands a message whose visibility timeout passed mid-run to a
    # second worker: both deliveries wait on the endpoints at once, in two pool processes, and then
    # record the same runs at the same time.
    task_id = str(uuid.uuid4())
    for _ in range(2):
        sender.send_task(GROUP_TASK, args=[str(claim_id), [c.pk for c in checks]], task_id=task_id)
    wait_for("both deliveries' requests", lambda: len(slow_server.requests_to("/slow/")) == 12, logs=logs)
    ports = {port for _path, port in slow_server.requests_to("/slow/")}
    assert pids_holding(ports, children(worker.pid)) == set(children(worker.pid))  # both pool processes
    slow_server.release.set()
    wait_for("both deliveries to finish", lambda: len(worker.results(task_id)) == 2, logs=logs)
    assert sum(worker.results(task_id)) == 6  # the runs, each recorded by one delivery or the other

    # Once more after both finished: the claim is released, so nothing is asked and nothing recorded.
    sender.send_task(GROUP_TASK, args=[str(claim_id), [c.pk for c in checks]], task_id=task_id)
    wait_for("the third delivery to finish", lambda: len(worker.results(task_id)) == 3, logs=logs)
    assert worker.results(task_id)[2] == 0
    assert len(slow_server.requests_to("/slow/")) == 12
    wait_for("the queue to drain", lambda: queued(broker) == 0, logs=logs)
    assert CheckRun.objects.count() == 6
    assert_each_recorded_once(checks, claim_id, before)
