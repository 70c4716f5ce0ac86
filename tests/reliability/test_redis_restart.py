"""Redis restarted while checks are being dispatched: polling resumes within 30 s, no run is lost.

Redis here keeps nothing on disk (as on this machine and in docker-compose.yml), so a restart
loses every message it held: a group queued behind a busy worker vanishes while its checks stay
claimed in the database. Without help, those checks wait out the claim's lease (10 minutes). The
dispatcher notices the broker's loss by a marker key it keeps in the broker (`ops.tasks`) and gives
back every outstanding claim, so the next dispatch runs them again.

Real processes: a Redis server of this test's own (a crash is `kill -9`, then a new server on the
same port), a worker (harness.py) with one pool process, and `celery beat` dispatching every
second, against pytest-django's PostgreSQL test database.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ops.models import Check, CheckRun
from tests.conftest import REQUIRE_SERVICES, ROOT, free_port
from tests.reliability.harness import GROUP_TASK, QUEUE, Workers, http_check, wait_for, worker_environment
from tracker import services as tracker_services

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

RESUME_WITHIN = 30.0  # the bound: from Redis answering again to every lost check's run


class RedisServer:
    """`redis-server` on a port of its own, without persistence; `crash` kills it, `start` makes a new one."""

    def __init__(self, executable: str, port: int, folder: Path) -> None:
        self.executable, self.port, self.folder = executable, port, folder
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.folder / f"redis-{self.starts}.log"
        command = [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=self.folder, stdout=out, stderr=subprocess.STDOUT)
        wait_for(f"redis-server on {self.port}", self.answers, logs=log.read_text)

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.ConnectionError:
            return False

    def crash(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)


@pytest.fixture
def redis_server(postgres, tmp_path: Path) -> Iterator[RedisServer]:
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).exists():
        if REQUIRE_SERVICES:
            pytest.fail("REQUIRE_SERVICES=1 but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = RedisServer(executable, free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process and server.process.poll() is None:
            server.crash()


def queued_groups(client: redis.Redis) -> list[list]:
    """The run_check_group messages waiting in the queue, as their (claim id, check ids) arguments."""
    import base64
    import json

    found = []
    for raw in client.lrange(QUEUE, 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == GROUP_TASK:
            found.append(json.loads(base64.b64decode(message["body"]))[0])
    return found


def test_checks_queued_when_redis_restarts_run_within_30_seconds_once(redis_server, slow_server, tmp_path, workspace):
    operation = tracker_services.operation_create(workspace=workspace, name="Redis restart", actor=None)
    # Two groups (the regions only split them) and one pool process: one group is held in flight
    # by the endpoint, the other waits in Redis's queue behind it.
    held = http_check(operation, slow_server, "held", "/slow/held", "us-east-1")
    waiting = http_check(operation, slow_server, "waiting", "/slow/waiting", "eu-west-1")
    environment = worker_environment(redis_server.url, tmp_path / "var", CHECK_DISPATCH_SECONDS="1")
    workers = Workers(environment, tmp_path)
    beat_log = tmp_path / "beat.log"
    try:
        workers.start("worker", 1)
        with beat_log.open("wb") as out:
            beat = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def logs() -> str:
            return f"{workers.logs()}\n--- beat ---\n{beat_log.read_text(errors='replace')}"

        wait_for("one group in flight", lambda: len(slow_server.requests_to("/slow/")) == 1, logs=logs)
        first = slow_server.requests_to("/slow/")[0][0]
        in_flight, lost = (held, waiting) if first == "/slow/held" else (waiting, held)
        wait_for("the other group queued", lambda: queued_groups(redis_server.client()), logs=logs)
        ((claim, check_ids),) = queued_groups(redis_server.client())
        assert check_ids == [lost.pk]
        assert redis_server.client().llen("celery") == 0  # the checks' tasks go to `ops` only, one copy
        assert str(Check.objects.get(pk=lost.pk).claim_id) == claim  # claimed for ten minutes

        redis_server.crash()
        time.sleep(2)  # beat's ticks and the worker meet a broker that is gone
        redis_server.start()
        back = time.monotonic()
        slow_server.release.set()

        def both_ran() -> bool:
            return (
                CheckRun.objects.filter(live_check=in_flight).exists()
                and CheckRun.objects.filter(live_check=lost).exists()
            )

        wait_for(f"both checks' runs within {RESUME_WITHIN:g} s of Redis answering", both_ran, RESUME_WITHIN, logs)
        assert time.monotonic() - back <= RESUME_WITHIN
        # Once each: the in-flight group finished and recorded its run; the lost one ran again.
        for check in (in_flight, lost):
            assert CheckRun.objects.filter(live_check=check).count() == 1, logs()
        assert [path for path, _port in slow_server.requests_to("/slow/")].count(f"/slow/{lost.name}") == 1
        # And polling goes on: nothing is left claimed, both are due again an interval later.
        for check in Check.objects.filter(pk__in=[held.pk, waiting.pk]):
            assert check.claim_id is None and check.status == "pass", (check.name, check.message)
    finally:
        workers.stop_all()
        if "beat" in locals():
            beat.send_signal(signal.SIGKILL)
            beat.wait(timeout=10)
