"""Load the dashboard, the REST API and inference with many concurrent clients, the project served as
in production: gunicorn (`config/gunicorn.conf.py`, 2 workers), PostgreSQL and Redis on this machine.

The stack, set up afresh by every run and thrown away after it:
  - a PostgreSQL database of its own (`snailtrail_bench_load_<pid>`, dropped at the end) and a Redis
    database number of its own (`--redis-url`, flushed before and after: the cache, the throttles'
    counts and the Celery broker all live there, as in production);
  - migrated; the example operation `docs/examples/operation-snail-trail.md` loaded and the demo
    model `iris` registered and linked to it, by the project's own `setup_demo` and
    `mlservice.demo.ensure_demo_model` (what `make run` does); a user who is an editor of the
    operation (not a superuser: the permission checks run), with an API token and a session;
  - served by `gunicorn -c config/gunicorn.conf.py --workers 2 config.wsgi:application` with the
    production settings (`config.settings.production`: DEBUG off, JSON logs, manifest static files),
    changed only where plain http on one machine needs it: `DJANGO_SECURE_SSL_REDIRECT=false` (no
    TLS in front: every request would be a 301), static files collected into the run's temporary
    directory (production's STATIC_ROOT is inside the checkout; a one-line settings module there
    imports production's and moves it), LOG_LEVEL=WARNING, and the per-token inference throttle at
    `MLSERVICE_INFER_RATE=6000/s` instead of production's 6000/min, which would answer this one token
    429 within seconds: the same batches (each worker adds to the count in Redis every 60 requests),
    in one-second windows that this load never fills.
    The session cookie is Secure in production; these clients send it over http all the same.

Targets, all measured in the same run by the same client:
  - trivial: `GET /healthz`, the baseline. It goes through the whole middleware stack (request id,
    metrics, security, CSP, WhiteNoise, session, CSRF, auth, messages) and gunicorn's access log
    like every other request, and then answers `{"status": "ok"}` without a query, the cache or a
    template: what any request costs here before the view does anything;
  - dashboard: `GET /operations/operation-snail-trail/` with the editor's session cookie;
  - api-operation: `GET /api/operations/operation-snail-trail/` with `Authorization: Token <key>`;
  - api-tasks: `GET /api/operations/operation-snail-trail/tasks/` (its 24 tasks, one page), the same;
  - infer: `POST /v2/models/iris/infer`, one row, the same token.
Every response is checked: its status is counted, and a 2xx body must contain what only a right
answer has (the editor's add-blocker form; the operation's slug; the task page; the model's own
prediction, its first answer checked field by field). Any 5xx, connection error, wrong body or other
non-2xx fails the run (exit 1): none is expected, so each is a bug of the app or of the set-up.

The client: `--concurrency` processes (16: many more than the 2 workers, so requests queue as they
would behind a busy server), forked before anything heavy is imported, each with one request in
flight on a new connection (`Connection: close`, as gunicorn's sync workers do anyway), over raw
sockets to 127.0.0.1 only; `bench/inference.py`'s request, response and timing code. Each
measurement is `--duration` seconds after `--warmup` seconds, at most `--max-requests` per client.
A round measures every target in turn, the order rotated each round, and each target's req/s,
p50/p95/p99 and CPU per request are divided by the trivial view's of the same round; figures are
medians over the rounds. Each measurement says what CPU it took: gunicorn's processes, PostgreSQL's
and Redis's servers (from /proc; their other users included), the clients, and other work on the
machine (/proc/stat, less all those): on 2 shared cores the clients and the servers compete for the
same CPU, so req/s and latencies move with the noise and the CPU ratios much less.

Then the soak: `--soak` seconds of all targets mixed (each client sends them in turn, starting at
a different one: as many requests of each), sampling each gunicorn worker's RSS (VmRSS in
/proc/<pid>/status) every `--sample-every` seconds. The soak comes after the rounds, so the workers
have served tens of thousands of requests already, and its first `--soak-warmup` seconds are left
out as well. Flat means: every worker's RSS at the end (median of the last 3 samples) is within
`--max-growth` percent (5: 11 MB of a 220 MB worker) of its RSS when the warm-up ended (median of
the next 3). A warmed-up worker's RSS stays level, so growth is a leak, and a percentage of RSS is
immune to the step of a single 4 KB page, where a slope fitted over two minutes is not; the
least-squares slope after the warm-up is printed beside it, in MB per hour and per 100,000 requests,
to judge leaks too small for a short soak to reach the limit (a longer `--soak` reaches it sooner).
Also printed: the RSS of each worker after its first requests, rows PostgreSQL saw written during
the soak (a read-only mix should write none) and the keys left in the Redis database.
config/gunicorn.conf.py sets no max_requests (workers are never recycled) and GUNICORN_CMD_ARGS is
not passed on; the workers' PIDs must stay the same all run long (a replaced worker would hide a
leak, and means one crashed or timed out). Exit 1 when memory is not flat.

    python bench/load.py [--duration 8] [--rounds 3] [--concurrency 16] [--soak 120] [--quick]

Needs PostgreSQL (`--database-url`: its server, any database on it to connect to) and Redis.
"""

from __future__ import annotations

import argparse
import array
import json
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import inference
from inference import (
    BIN,
    HOST,
    INFER_PATH,
    ONE_ROW,
    ROOT,
    BenchError,
    Run,
    Server,
    _body_of,
    clean_env,
    free_port,
    gunicorn,
    http_request,
    machine_busy_seconds,
    median,
    oip_body,
    request_once,
    start,
    stop,
    wait_ready,
)

if TYPE_CHECKING:
    import psycopg
    import redis

SLUG = "operation-snail-trail"
SETTINGS_MODULE = "bench_load_settings"  # written into the run's temporary directory
SAMPLES_AVERAGED = 3  # RSS samples whose median is the soak's start and end


# --- the load generator (runs in forked client processes) -------------------------------------


def _ok(outcome: str) -> bool:
    """A 2xx status whose body was the one expected (an outcome is a status code, or what went wrong)."""
    return len(outcome) == 3 and outcome.startswith("2")


def _client_main(conn: Connection) -> None:
    """One client process: for each job, send its requests in turn (from `first` on) until the deadline."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us; Ctrl-C is its to handle
    while (job := conn.recv()) is not None:
        port, targets, first, begin, deadline, cap = job
        latencies = [array.array("d") for _ in targets]
        ends = [array.array("d") for _ in targets]
        outcomes: list[dict[str, int]] = [{} for _ in targets]
        samples: list[list[str]] = [[] for _ in targets]
        while time.monotonic() < begin:
            time.sleep(min(0.01, max(0.0, begin - time.monotonic())))
        cpu = os.times()
        for count in range(cap):
            began = time.monotonic()
            if began >= deadline:
                break
            index = (first + count) % len(targets)
            request, marker = targets[index]
            response, ended = b"", 0.0
            try:
                response = request_once(port, request)
            except OSError as exc:  # refused, reset, timed out
                outcome = type(exc).__name__
            else:
                ended = time.monotonic()
                outcome = response[9:12].decode(errors="replace") if response[:5] == b"HTTP/" else "not HTTP"
                if _ok(outcome) and marker not in (_body_of(response) or b""):
                    outcome += " with an unexpected body"
            outcomes[index][outcome] = outcomes[index].get(outcome, 0) + 1
            if _ok(outcome):
                latencies[index].append(ended - began)
                ends[index].append(ended)
                continue
            if len(samples[index]) < 3:
                samples[index].append(f"{outcome}: {response[:300]!r}")
            time.sleep(0.01)  # a failing server must not turn into a busy loop
        used = os.times()
        conn.send(
            (
                [values.tobytes() for values in latencies],
                [values.tobytes() for values in ends],
                outcomes,
                samples,
                used.user - cpu.user + used.system - cpu.system,
            )
        )


@dataclass(frozen=True)
class Target:
    name: str
    request: bytes
    marker: bytes  # every 2xx body must contain it


@dataclass
class Measurement(Run):
    """inference.py's Run (of one target, or of several together), with every response's outcome and
    the CPU of PostgreSQL and Redis."""

    outcomes: dict[str, int] = field(default_factory=dict)  # status code (or what went wrong) -> count
    services_cpu: float = 0.0  # PostgreSQL's and Redis's servers
    wall: float = 0.0  # seconds the CPU figures cover: to the last answer, which can come well after the deadline

    @property
    def other_cores(self) -> float:
        busy = self.machine_cpu - self.server_cpu - self.services_cpu - self.client_cpu
        return max(0.0, busy) / self.wall

    @property
    def client_cores(self) -> float:
        return self.client_cpu / self.wall

    @property
    def failures(self) -> dict[str, int]:
        return {outcome: count for outcome, count in self.outcomes.items() if not _ok(outcome)}

    @property
    def server_errors(self) -> int:
        return sum(count for outcome, count in self.outcomes.items() if outcome.startswith("5"))

    def add(self, other: Measurement) -> None:
        self.latencies.extend(other.latencies)
        self.ends.extend(other.ends)
        self.samples.extend(other.samples)
        for outcome, count in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count


class Clients:
    """`count` client processes, forked once; `drive` gives them a job, all of them at once."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("fork")
        self.pipes: list[Connection] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []
        for _ in range(count):
            parent, child = context.Pipe()
            process = context.Process(target=_client_main, args=(child,), daemon=True)
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    def drive(
        self,
        port: int,
        targets: list[Target],
        duration: float,
        cap: int,
        meanwhile: Callable[[float], None] | None = None,
    ) -> tuple[list[Measurement], float]:
        """Every client sends `targets` in turn, client i starting with target i (mod their number),
        until the deadline; `meanwhile(deadline)` runs in this process while they do.
        -> (one Measurement per target, the clients' CPU seconds)."""
        begin = time.monotonic() + 0.2
        deadline = begin + duration
        jobs = [(target.request, target.marker) for target in targets]
        for index, pipe in enumerate(self.pipes):
            pipe.send((port, jobs, index % len(targets), begin, deadline, cap))
        if meanwhile is not None:
            meanwhile(deadline)
        results = [Measurement(duration=duration, deadline=deadline) for _ in targets]
        client_cpu = 0.0
        for pipe in self.pipes:
            latencies, ends, outcomes, samples, cpu = pipe.recv()
            for result, values, stamps, counts, examples in zip(
                results, latencies, ends, outcomes, samples, strict=True
            ):
                result.latencies.frombytes(values)
                result.ends.frombytes(stamps)
                for outcome, count in counts.items():
                    result.outcomes[outcome] = result.outcomes.get(outcome, 0) + count
                result.samples.extend(examples)
            client_cpu += cpu
        return results, client_cpu

    # A job of None stops a client here too: inference.py's pool closes this one as it closes its own.
    close = inference.Clients.close


# --- the machine: CPU and memory from /proc ---------------------------------------------------------


def services_cpu_seconds() -> float:
    """CPU time of PostgreSQL's and Redis's server processes, including their exited children
    (a backend that closed its connection is counted in the postmaster's cutime/cstime)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                head, _, rest = handle.read().rpartition(b")")
        except OSError:
            continue
        if head.partition(b"(")[2] in (b"postgres", b"redis-server"):
            fields = rest.split()
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


def worker_pids(server: Server) -> list[int]:
    """gunicorn's workers: the processes under its master."""
    return sorted(pid for pid in server.pids() if pid != server.process.pid)


def rss_bytes(pid: int) -> int:
    """Resident set size (VmRSS) of a process; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


# --- set-up -------------------------------------------------------------------------------------------


def postgres(url: str) -> psycopg.Connection:
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def database_url_named(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@dataclass
class Stack:
    """The run's PostgreSQL database and Redis database, each emptied (and the former dropped) by `close`."""

    server_url: str
    redis_url: str
    name: str = field(default_factory=lambda: f"snailtrail_bench_load_{os.getpid()}")
    created: bool = False

    @property
    def database_url(self) -> str:
        return database_url_named(self.server_url, self.name)

    def _redis(self) -> redis.Redis:
        import redis

        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=5)

    def open(self) -> str:
        """Flush the Redis database and create the PostgreSQL one; -> the servers' versions."""
        import psycopg
        import redis

        client = self._redis()
        try:
            client.flushdb()
            redis_version = client.info("server")["redis_version"]
        except redis.RedisError as exc:
            raise BenchError(f"Redis at {self.redis_url}: {exc}") from exc
        finally:
            client.close()
        try:
            with postgres(self.server_url) as connection:
                pg_version = connection.execute("SHOW server_version").fetchone()[0]
                connection.execute(f'CREATE DATABASE "{self.name}"')
                self.created = True
        except psycopg.Error as exc:
            raise BenchError(f"PostgreSQL at {self.server_url}: {exc}") from exc
        return f"PostgreSQL {pg_version}, Redis {redis_version}"

    def redis_keys(self) -> int:
        client = self._redis()
        try:
            return int(client.dbsize())
        finally:
            client.close()

    def rows_written(self) -> dict[str, int]:
        """Rows inserted, updated or deleted so far in each table of the run's database, as PostgreSQL's
        statistics have them (each backend reports its own at most once a second)."""
        with postgres(self.database_url) as connection:
            rows = connection.execute(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
            ).fetchall()
        return {name: int(count) for name, count in rows}

    def close(self) -> None:
        if self.created:
            with postgres(self.server_url) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        import redis

        client = self._redis()
        try:
            client.flushdb()
        except redis.RedisError:
            pass  # unreachable now: open() flushed it, or failed before anything was written
        finally:
            client.close()


SETUP_SCRIPT = """
import io, json
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from mlservice import artifacts
from mlservice.demo import ensure_demo_model
from tracker.models import Membership, Operation, WorkspaceMembership
call_command("setup_demo", stdout=io.StringIO())
operation = Operation.objects.get(slug={slug!r})
version, _ = ensure_demo_model(operation)
user = get_user_model().objects.create_user("bench-load", "bench-load@example.com", None)
WorkspaceMembership.objects.create(workspace=operation.workspace, user=user)
Membership.objects.create(operation=operation, user=user, role=Membership.Role.EDITOR)
browser = Client()
browser.force_login(user)
print("BENCH-LOAD", json.dumps({{
    "token": Token.objects.create(user=user).key,
    "cookie": f"{{settings.SESSION_COOKIE_NAME}}={{browser.cookies[settings.SESSION_COOKIE_NAME].value}}",
    "tasks": operation.tasks.count(),
    "prediction": artifacts.load(version).model.predict([{row!r}]).tolist(),
}}))
"""


def prepare(workdir: Path, stack: Stack) -> tuple[dict[str, str], dict[str, Any]]:
    """Settings, static files, migrations and content. -> (the servers' environment, the set-up's figures)."""
    var = workdir / "var"
    var.mkdir()
    (workdir / f"{SETTINGS_MODULE}.py").write_text(
        f"from config.settings.production import *  # noqa: F403\n\nSTATIC_ROOT = {str(workdir / 'static')!r}\n"
    )
    env = clean_env(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        PYTHONPATH=str(workdir),
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_SECURE_SSL_REDIRECT="false",
        SNAILTRAIL_VAR_DIR=str(var),
        DATABASE_URL=stack.database_url,
        REDIS_URL=stack.redis_url,
        MLSERVICE_INFER_RATE="6000/s",
        LOG_LEVEL="WARNING",
    )
    python = str(BIN / "python")
    steps = (
        ["migrate", "--noinput", "-v", "0"],
        ["collectstatic", "--noinput", "-v", "0"],
        ["shell", "-c", SETUP_SCRIPT.format(slug=SLUG, row=ONE_ROW)],
    )
    for step in steps:
        done = subprocess.run(
            [python, "manage.py", *step], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
    found = [line.split(" ", 1)[1] for line in done.stdout.splitlines() if line.startswith("BENCH-LOAD ")]
    if not found:
        raise BenchError(f"the set-up printed nothing to go on:\n{done.stdout}\n{done.stderr}")
    return env, json.loads(found[0])


def targets_for(port: int, setup: dict[str, Any]) -> list[Target]:
    """The five targets; the first is the trivial baseline."""
    api = {"Authorization": f"Token {setup['token']}"}
    page = {"Cookie": setup["cookie"]}
    prediction = json.dumps(setup["prediction"], separators=(",", ":")).encode()

    def get(path: str, headers: dict[str, str]) -> bytes:
        return http_request(port, path, b"", headers, method="GET")

    return [
        Target("trivial", get("/healthz", {}), b'{"status": "ok"}'),
        Target("dashboard", get(f"/operations/{SLUG}/", page), f'action="/operations/{SLUG}/blockers/add/"'.encode()),
        Target("api-operation", get(f"/api/operations/{SLUG}/", api), f'"slug":"{SLUG}"'.encode()),
        Target("api-tasks", get(f"/api/operations/{SLUG}/tasks/", api), f'"count":{setup["tasks"]},'.encode()),
        Target("infer", http_request(port, INFER_PATH, oip_body([ONE_ROW]), api), b'"data":' + prediction),
    ]


def verify_first(server: Server, targets: list[Target], setup: dict[str, Any]) -> None:
    """One request of each target, answered 200 with the right body; inference's checked field by field."""
    for target in targets:
        response = request_once(server.port, target.request)
        body = _body_of(response) or b""
        if response[9:12] != b"200" or target.marker not in body:
            raise BenchError(f"{target.name}: answered {response[:600]!r}\n{server.tail()}")
    payload = json.loads(_body_of(request_once(server.port, targets[-1].request)) or b"{}")
    output = (payload.get("outputs") or [{}])[0]
    if (payload.get("model_name"), output.get("name"), output.get("data")) != ("iris", "predict", setup["prediction"]):
        raise BenchError(f"infer: not the model's own prediction {setup['prediction']}: {payload}")


# --- the bench ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement (default 8)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up before each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all targets; figures are medians")
    parser.add_argument("--concurrency", type=int, default=16, help="client processes, one request in flight each")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per client per measurement")
    parser.add_argument("--soak", type=float, default=120.0, help="seconds of the mixed soak (default 120)")
    parser.add_argument("--soak-warmup", type=float, default=20.0, help="first seconds of the soak left out")
    parser.add_argument("--sample-every", type=float, default=4.0, help="seconds between RSS samples in the soak")
    parser.add_argument("--max-growth", type=float, default=5.0, help="percent of RSS a worker may gain in the soak")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server (any database on it); the run creates and drops its own",
    )
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/12", help="a Redis database of the run's own: it is flushed"
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 round of 2 s, a 20 s soak")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, settings)")
    args = parser.parse_args()
    args.load_at_start = os.getloadavg()[0]
    if args.quick:
        args.duration, args.warmup, args.rounds = 2.0, 0.5, 1
        args.soak, args.soak_warmup, args.sample_every = 20.0, 6.0, 1.0
    if not 0 < args.duration <= 60 or not 1 <= args.concurrency <= 64 or args.rounds < 1:
        parser.error("--duration must be in (0, 60], --concurrency in [1, 64], --rounds >= 1")
    if not 0 <= args.soak_warmup < args.soak <= 3600 or args.sample_every <= 0:
        parser.error("need 0 <= --soak-warmup < --soak <= 3600 and --sample-every > 0")
    if (args.soak - args.soak_warmup) / args.sample_every < 2 * SAMPLES_AVERAGED:
        parser.error(f"the soak after its warm-up must hold {2 * SAMPLES_AVERAGED} samples: sample more often")

    # Forked before psycopg, redis and the rest are imported: small, idle until given a job.
    clients = Clients(args.concurrency)
    workdir = Path(tempfile.mkdtemp(prefix="snailtrail-bench-load-"))
    stack = Stack(server_url=args.database_url, redis_url=args.redis_url)
    servers: list[Server] = []
    try:
        return inference.guarded(lambda: bench(args, clients, workdir, stack, servers))
    finally:
        stop(*servers)
        clients.close()
        inference.keep_or_remove(workdir, args.keep)
        stack.close()  # last: once gunicorn has let go of the database, and whatever failed before


def bench(args: argparse.Namespace, clients: Clients, workdir: Path, stack: Stack, servers: list[Server]) -> int:
    from importlib.metadata import version

    services = stack.open()
    env, setup = prepare(workdir, stack)
    port = free_port()
    server = start(
        "gunicorn", "gunicorn", gunicorn("config.wsgi:application", port, args.workers, workdir), env, workdir, port
    )
    servers.append(server)
    targets = targets_for(port, setup)
    server.one = targets[0].request  # what wait_ready sends: the trivial view
    wait_ready(server)
    verify_first(server, targets, setup)
    workers = worker_pids(server)
    if len(workers) != args.workers:
        raise BenchError(f"gunicorn runs {len(workers)} workers, not {args.workers}:\n{server.tail()}")
    booted = {pid: rss_bytes(pid) for pid in workers}  # after the first few requests

    totals = Measurement(duration=0.0, deadline=0.0)  # every response of the run, warm-ups included
    failures: list[str] = []

    def drive(
        what: str, chosen: list[Target], seconds: float, meanwhile: Callable[[float], None] | None = None
    ) -> tuple[list[Measurement], Measurement]:
        """Load `chosen`; -> each target's Measurement, and all of them together with the CPU figures."""
        began, before = time.monotonic(), server.cpu_seconds()
        machine, services_before = machine_busy_seconds(), services_cpu_seconds()
        results, client_cpu = clients.drive(port, chosen, seconds, args.max_requests, meanwhile)
        together = Measurement(duration=seconds, deadline=results[0].deadline, client_cpu=client_cpu)
        together.wall = time.monotonic() - began
        together.server_cpu = server.cpu_seconds() - before
        together.services_cpu = services_cpu_seconds() - services_before
        together.machine_cpu = machine_busy_seconds() - machine
        for result in results:
            together.add(result)
        totals.add(together)
        if together.failures:
            failures.append(f"{what}: {together.failures}; e.g. {together.samples[:2]}")
        return results, together

    for target in targets:  # every worker's first requests: the model, templates, connections
        drive(f"{target.name} first warm-up", [target], 1.0)

    print(
        "versions: "
        + ", ".join(f"{package} {version(package)}" for package in ("django", "gunicorn", "psycopg", "redis"))
        + f", {services}; Python {sys.version.split()[0]}"
    )
    print(
        f"{args.concurrency} client processes, one request in flight each, a new connection per request; "
        f"{args.duration:g} s per measurement after {args.warmup:g} s of warm-up; {args.rounds} round(s); "
        f"gunicorn --workers {args.workers} (PIDs {', '.join(map(str, workers))}), production settings, "
        f"PostgreSQL database {stack.name}, Redis {stack.redis_url}; {os.cpu_count()} cores; "
        f"load average at start: {args.load_at_start:.2f}",
        flush=True,
    )

    results: dict[str, list[Measurement]] = {target.name: [] for target in targets}
    for round_index in range(args.rounds):
        shift = round_index % len(targets)
        for target in targets[shift:] + targets[:shift]:
            if args.warmup > 0:
                drive(f"{target.name} warm-up", [target], args.warmup)
            _, run = drive(target.name, [target], args.duration)
            results[target.name].append(run)
            print(
                f"  round {round_index + 1} {target.name:13} {run.rate:7,.0f} req/s"
                f" p50 {run.percentile(50) * 1000:7.2f} p95 {run.percentile(95) * 1000:7.2f}"
                f" p99 {run.percentile(99) * 1000:7.2f} ms; CPU ms/req gunicorn {per_request(run.server_cpu, run):5.2f}"
                f" PG+Redis {per_request(run.services_cpu, run):5.2f}; cores: clients {run.client_cores:.2f}"
                f" other work {run.other_cores:.2f}; non-2xx {sum(run.failures.values())}",
                flush=True,
            )
    others = [run.other_cores for runs in results.values() for run in runs]
    print(
        f"other work on the machine during the measurements: median {median(others):.2f} cores, max {max(others):.2f}"
    )
    report(args, targets, results)

    failures.extend(soak(args, server, targets, drive, stack, booted))
    if worker_pids(server) != workers:
        failures.append(f"gunicorn's workers changed during the run: {workers} -> {worker_pids(server)}")

    print(
        f"all responses of the run, warm-ups included: {sum(totals.outcomes.values()):,} "
        f"{dict(sorted(totals.outcomes.items()))}; 5xx: {totals.server_errors}"
    )
    if failures:
        print("FAIL:")
        for line in failures:
            print(f"  {line}")
        print(server.tail())
        return 1
    return 0


def per_request(cpu: float, run: Measurement) -> float:
    """CPU milliseconds per answered request."""
    return cpu / max(len(run.latencies), 1) * 1000


def report(args: argparse.Namespace, targets: list[Target], results: dict[str, list[Measurement]]) -> None:
    """Each target's medians over the rounds, and its ratios to the trivial view of the same rounds."""
    trivial = results[targets[0].name]
    print()
    print(
        f"medians of {args.rounds} round(s) of {args.duration:g} s. Ratios to the trivial view (/healthz) of the same "
        "round: ÷ req/s, how many times fewer requests per second; × p50/p95/p99, how many times longer; × CPU, how "
        "many times the CPU per request of gunicorn, PostgreSQL and Redis together. CPU in ms per request."
    )
    print(
        f"{'target':14} {'req/s':>7} {'(min-max)':>13} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'÷ req/s':>7} "
        f"{'× p50':>6} {'× p95':>6} {'× p99':>6} {'× CPU':>6} {'gunicorn':>8} {'PG+Redis':>8} {'non-2xx':>7}"
    )
    for target in targets:
        runs = results[target.name]
        pairs = list(zip(runs, trivial, strict=True))
        rates = [run.rate for run in runs]
        ratios = [median([ratio(base.rate, run.rate) for run, base in pairs])]
        ratios += [median([ratio(run.percentile(q), base.percentile(q)) for run, base in pairs]) for q in (50, 95, 99)]
        ratios.append(median([ratio(server_side_cpu(run), server_side_cpu(base)) for run, base in pairs]))
        print(
            f"{target.name:14} {median(rates):7,.0f} {f'{min(rates):,.0f}-{max(rates):,.0f}':>13} "
            + " ".join(f"{median([run.percentile(q) for run in runs]) * 1000:7.2f}" for q in (50, 95, 99))
            + f" {ratios[0]:7.2f} "
            + " ".join(f"{ratio:6.2f}" for ratio in ratios[1:])
            + f" {median([per_request(run.server_cpu, run) for run in runs]):8.2f}"
            f" {median([per_request(run.services_cpu, run) for run in runs]):8.2f}"
            f" {sum(sum(run.failures.values()) for run in runs):7}"
        )


def ratio(value: float, base: float) -> float:
    """value / base; infinite when a round measured nothing to divide by (no answer in time)."""
    return value / base if base else float("inf")


def server_side_cpu(run: Measurement) -> float:
    """CPU ms per request of gunicorn, PostgreSQL and Redis together."""
    return per_request(run.server_cpu + run.services_cpu, run)


Drive = Callable[..., tuple[list[Measurement], Measurement]]  # bench's `drive`


def soak(
    args: argparse.Namespace, server: Server, targets: list[Target], drive: Drive, stack: Stack, booted: dict[int, int]
) -> list[str]:
    """All targets mixed for --soak seconds while each worker's RSS is sampled. -> what was not flat."""
    samples: list[tuple[float, dict[int, int]]] = []  # (monotonic time, {worker pid: RSS bytes})

    def sample(deadline: float) -> None:
        while (now := time.monotonic()) < deadline:
            samples.append((now, {pid: rss_bytes(pid) for pid in worker_pids(server)}))
            time.sleep(min(args.sample_every, max(0.0, deadline - time.monotonic())))

    print()
    print(
        f"soak: all {len(targets)} targets mixed for {args.soak:g} s (the first {args.soak_warmup:g} s left out), "
        f"RSS sampled every {args.sample_every:g} s",
        flush=True,
    )
    written_before = stack.rows_written()
    results, together = drive("soak", targets, args.soak, sample)
    written_after = stack.rows_written()

    print(f"{'target':14} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'answered':>9} {'non-2xx':>7}")
    for target, result in zip(targets, results, strict=True):
        print(
            f"{target.name:14} {result.rate:7,.0f} "
            + " ".join(f"{result.percentile(q) * 1000:7.2f}" for q in (50, 95, 99))
            + f" {len(result.latencies):9,} {sum(result.failures.values()):7}"
        )
    ends = sorted(together.ends)
    settled_from = together.deadline - args.soak + args.soak_warmup
    third = (together.deadline - settled_from) / 3
    print(
        f"{'all':14} {together.rate:7,.0f} req/s; after the warm-up, "
        f"{count_between(ends, settled_from, settled_from + third) / third:,.0f} req/s in its first third and "
        f"{count_between(ends, together.deadline - third, together.deadline) / third:,.0f} in its last; "
        f"CPU ms/req gunicorn {per_request(together.server_cpu, together):.2f}, "
        f"PG+Redis {per_request(together.services_cpu, together):.2f}; cores: clients "
        f"{together.client_cores:.2f}, other work {together.other_cores:.2f}; 5xx {together.server_errors}"
    )
    changed = {name: count - written_before.get(name, 0) for name, count in written_after.items()}
    print(
        f"rows written to PostgreSQL during the soak: {sum(changed.values())} "
        f"{ {name: count for name, count in changed.items() if count} }; Redis keys at the end: {stack.redis_keys()}"
    )

    settled = [(when, rss) for when, rss in samples if when >= settled_from]
    pids = sorted(settled[0][1])
    if any(sorted(rss) != pids for _, rss in settled):
        return [f"gunicorn's workers changed during the soak: {pids} at its start"]
    span = settled[-1][0] - settled[0][0]
    # Requests per second per worker after the warm-up (sync workers take turns accepting: about even).
    per_worker_rate = count_between(ends, settled[0][0], settled[-1][0]) / span / len(pids)
    stride = max(len(settled) // 8, 1)  # the timeline printed: about 8 samples
    grew = []
    print(
        f"worker RSS (MB) after its first requests, then after the soak's warm-up and at its end (medians of "
        f"{SAMPLES_AVERAGED} samples), growth (limit {args.max_growth:g}%), least-squares slope of the "
        f"{len(settled)} samples after the warm-up, and the samples:"
    )
    for pid in pids:
        before = median([rss[pid] for _, rss in settled[:SAMPLES_AVERAGED]])
        after = median([rss[pid] for _, rss in settled[-SAMPLES_AVERAGED:]])
        growth = (after - before) / before * 100
        per_second = slope([(when, rss[pid]) for when, rss in settled])
        print(
            f"  worker {pid}: {booted[pid] / 2**20:.1f}, {before / 2**20:.1f} -> {after / 2**20:.1f}, "
            f"{(after - before) / 2**20:+.1f} MB ({growth:+.1f}%: {'flat' if growth <= args.max_growth else 'GREW'}); "
            f"slope {per_second * 3600 / 2**20:+.1f} MB/hour at this load, "
            f"{per_second / per_worker_rate * 100_000 / 2**20:+.2f} MB per 100,000 requests; every "
            f"{stride * args.sample_every:g} s: {' '.join(f'{rss[pid] / 2**20:.1f}' for _, rss in settled[::stride])}"
        )
        if growth > args.max_growth:
            grew.append(f"worker {pid}'s RSS grew {growth:.1f}% in the soak, more than {args.max_growth:g}%")
    return grew


def count_between(ordered: list[float], low: float, high: float) -> int:
    return bisect_right(ordered, high) - bisect_right(ordered, low)


if __name__ == "__main__":
    sys.exit(main())
