"""What the reliability tests share: real Celery workers in processes of their own, an HTTP
endpoint that holds its answers until released, and processes read from /proc (psutil is not a
dependency).

Workers run `config.settings.local` (not eager: tasks come from Redis) against pytest-django's
PostgreSQL test database, which is why these tests run only in `make test`'s PostgreSQL pass: a
worker process cannot share SQLite's in-memory test database.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from ops import services
from ops.models import Check
from tests.conftest import ROOT, database_url, free_port, wait_for  # noqa: F401 (the tests' too)
from tests.host_address import required_host_address

STEP_TIMEOUT = 30.0  # generous bound for each awaited step; a passing test takes seconds
HOLD_LIMIT = 40.0  # the slow server answers anyway after this, so nothing can hang for ever
QUEUE = "ops"  # where the checks' tasks wait (CELERY_TASK_ROUTES); workers here take every queue
GROUP_TASK = "ops.tasks.run_check_group"

# --- waiting ----------------------------------------------------------------------------------------


# --- the slow HTTP server ---------------------------------------------------------------------------


class SlowServer:
    """Answers 200 at once under /fast/, and under /slow/ only once `release` is set.

    It listens on this host's network address, not loopback, which no check may reach outside
    pytest's own settings; `http_check` allows that address in the operation's workspace, as a
    workspace admin allows an internal host (core.egress)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrivals: list[tuple[str, int]] = []  # (path, the client's port), in order of arrival
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with server._lock:
                    server.arrivals.append((self.path, self.client_address[1]))
                if self.path.startswith("/slow/"):
                    server.release.wait(HOLD_LIMIT)
                body = b"snail ok"
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the process that asked was killed

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # a killed worker's connection resets: expected here

        self.address = required_host_address()
        self.httpd = Server((self.address, 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="slow-http", daemon=True)

    def url(self, path: str) -> str:
        return f"http://{self.address}:{self.httpd.server_address[1]}{path}"

    def requests_to(self, prefix: str) -> list[tuple[str, int]]:
        with self._lock:
            return [arrival for arrival in self.arrivals if arrival[0].startswith(prefix)]


# --- processes, from /proc (psutil is not a dependency) ---------------------------------------------


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        if ppid == pid and alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def pids_holding(local_ports: set[int], candidates: list[int]) -> set[int]:
    """Which of `candidates` hold a TCP socket bound to one of `local_ports` (a client's side)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) in local_ports and fields[9] != "0":
                inodes.add(f"socket:[{fields[9]}]")
    holders = set()
    for pid in candidates:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if inodes & set(links):
            holders.add(pid)
    return holders


# --- workers ----------------------------------------------------------------------------------------


class Worker:
    def __init__(self, name: str, process: subprocess.Popen, log: Path) -> None:
        self.name, self.process, self.log = name, process, log

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def results(self, task_id: str) -> list[int]:
        """What each run of this task returned (the number of runs it recorded), from the log."""
        pattern = rf"Task {re.escape(GROUP_TASK)}\[{re.escape(task_id)}\] succeeded in [^:]*: (\d+)"
        return [int(n) for n in re.findall(pattern, self.output())]


class Workers:
    """Starts real `celery worker` processes, each in a session of its own; kills them all at the end."""

    def __init__(self, environment: dict[str, str], folder: Path) -> None:
        self.environment, self.folder = environment, folder
        self.started: list[Worker] = []

    def start(self, name: str, concurrency: int = 1, *options: str) -> Worker:
        """A worker on every queue, as deployed; `options` are more of `celery worker`'s (e.g. --beat)."""
        log = self.folder / f"worker-{name}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}-{uuid.uuid4().hex[:8]}@%h",
            *options,
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=self.environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        worker = Worker(name, process, log)
        self.started.append(worker)

        def ready() -> bool:
            if process.poll() is not None:
                pytest.fail(f"worker {name} exited with {process.returncode}\n{worker.output()}")
            return " ready." in worker.output()

        wait_for(f"worker {name} to be ready", ready, logs=self.logs)
        wait_for(f"worker {name}'s pool", lambda: len(children(process.pid)) == concurrency, logs=self.logs)
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- worker {w.name} (pid {w.pid}) ---\n{w.output()}" for w in self.started)

    def stop_all(self) -> None:
        for worker in self.started:
            try:
                os.killpg(worker.pid, signal.SIGKILL)  # the main process, its pool and any orphan
            except ProcessLookupError:
                pass
            worker.process.wait(timeout=10)


def worker_environment(broker_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment for a worker on `broker_url` and the test database, less what
    pytest and the suite's settings set (the suite runs Celery eager, on a memory broker)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "CELERY_"))}
    return environment | {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",  # not eager: tasks come from Redis
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SNAILTRAIL_VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def http_check(operation, server: SlowServer, name: str, path: str, region: str = "") -> Check:
    # The server's address is internal: the workspace allows it, as an admin would (core.egress).
    workspace = operation.workspace
    if server.address not in workspace.egress_allow:
        workspace.egress_allow = [*workspace.egress_allow, server.address]
        workspace.save(update_fields=["egress_allow"])
    # The region (no environment: http_endpoint needs no AWS) only splits the checks into groups.
    return services.check_create(
        operation=operation,
        name=name,
        type="http_endpoint",
        actor=None,
        region=region,
        params={"url": server.url(path), "timeout_seconds": 30},
    )


# --- the web server ---------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    port: int
    process: subprocess.Popen
    log: Path

    def request(self, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, dict, bytes]:
        """One request on a connection of its own: (status, headers, body); a body is sent as JSON."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        payload = json.dumps(body).encode() if body is not None else None
        if payload is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        answer = (response.status, dict(response.getheaders()), response.read())
        connection.close()
        return answer

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gunicorn(folder: Path, **environment: str) -> Iterator[Gunicorn]:
    """gunicorn as deployed (config/gunicorn.conf.py) with one sync worker, so every request meets
    the same process and its persistent database connection, on the test database. The suite's
    settings (DEBUG off, static files from the apps' folders) and its secret key, which signs the
    sessions a test makes with `Client.force_login`."""
    port = free_port()
    bin_dir = Path(sys.executable).parent
    environment = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url(),
        "SNAILTRAIL_VAR_DIR": str(folder / "var"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "PYTHONUNBUFFERED": "1",
        **environment,
    }
    log = folder / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "-c", "config/gunicorn.conf.py", "config.wsgi:application"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Gunicorn(port, process, log)

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}\n{served.output()}")
        try:
            return served.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    try:
        wait_for("gunicorn to answer", answers, logs=served.output)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def holding_lock(statement: str, params: list | tuple = ()) -> Iterator[int]:
    """Run `statement` (a `LOCK TABLE`, a `SELECT ... FOR UPDATE`) in a transaction of a connection
    of the test's own and hold what it locked until the end; yields that backend's pid."""
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        holder.set_autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute(statement, params)
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        yield pid
    finally:
        holder.rollback()
        holder.close()
