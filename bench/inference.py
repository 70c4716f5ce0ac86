"""Serve one scikit-learn model four ways in one run, and load each with the same HTTP client:
  - ours: `POST /v2/models/iris/infer` (Open Inference Protocol v2), the project under gunicorn
    (`config/gunicorn.conf.py`, 2 workers, its access log on) with production settings
    (`config.settings.production`, https redirect off: the bench speaks plain http to 127.0.0.1),
    token auth, the per-token throttle (set out of reach, counting in Redis with --redis-url),
    metrics, request ids and security headers on, the model registered with
    `mlservice.registry.register_version` in a fresh database (SQLite unless --database-url), in a
    workspace the token's user belongs to. Once a worker has the token, the registry snapshot and
    the model, `mlservice.fast` answers in front of Django (config/wsgi.py);
  - bare: the floor of this stack, a standalone Django project (`bench/bare_inference/`: no apps,
    no middleware, no database) whose one view does json.loads, predict and json.dumps, under the
    same gunicorn with the same config file and flags;
  - mlserver: MLServer 1.7.1 + mlserver-sklearn with its default settings, the model saved with joblib;
  - mlflow: `mlflow models serve --env-manager local -w 2` (MLflow 3.17.2, the full package) on the
    model saved with `mlflow.sklearn.save_model`.
MLServer and MLflow run from a venv of their own (var/bench-servers, bench/requirements.txt: the
full mlflow requires gunicorn<27), made on first use. The model: make_pipeline(StandardScaler(),
LogisticRegression(max_iter=500)) fitted on iris, saved once with skops and converted for them.

For each server: requests/s and p50/p99 latency of 1-row requests, rows/s of 1,000-row requests,
and the server processes' CPU time per request (from /proc: less sensitive to a noisy machine
than wall-clock throughput). Every answer is checked: its status must be 2xx and its predictions
the model's own, row by row (an answer byte-identical to one already checked is not parsed again;
MLServer's differ by their id, so each of them is parsed).

The load generator: `--concurrency` client processes, forked before anything heavy is imported,
each with one request in flight over raw sockets; every request is a new connection
(`Connection: close`: gunicorn's sync workers close it anyway, and MLflow's uvicorn workers then
share the load), so all servers are loaded alike. Traffic goes to 127.0.0.1 only, for
`--duration` seconds per measurement after a warm-up, at most `--max-requests` per client per
measurement. Servers are measured in turn, round after round, the order rotated each round, and
figures are medians over the rounds (with the best round beside them), so machine noise hits them
alike; each measurement also says how many cores other work on the machine took meanwhile
(/proc/stat less the server's and the clients' own CPU time). A gunicorn "floor" app answering
fixed bytes without Django is measured first, to show the client can drive more than any server.

Targets (issue #18; exit 1 when one is missed, unless --no-targets): 1 row: ours >= 0.95x bare's
req/s and <= 1.10x its CPU per request, >= 2x MLServer, >= 2x MLflow; 1,000 rows: ours >= 1.10x
bare's rows/s, >= 2.5x MLServer, >= 3x MLflow. Exit 1 as well when a server does not start or
answers anything but 2xx with the model's predictions, even once.

    python bench/inference.py [--duration 10] [--rounds 5] [--concurrency 8] [--quick] [--no-targets]
"""

from __future__ import annotations

import argparse
import array
import json
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
INFER_PATH = "/v2/models/iris/infer"
BATCH_ROWS = 1000
ONE_ROW = [5.1, 3.5, 1.4, 0.2]
# (case, other server, measure, direction, bound): ours' figure over the other's.
TARGETS = (
    ("1-row", "bare", "rate", ">=", 0.95),
    ("1-row", "bare", "cpu", "<=", 1.10),
    ("1-row", "mlserver", "rate", ">=", 2.0),
    ("1-row", "mlflow", "rate", ">=", 2.0),
    ("1000-row", "bare", "rate", ">=", 1.10),
    ("1000-row", "mlserver", "rate", ">=", 2.5),
    ("1000-row", "mlflow", "rate", ">=", 3.0),
)
SERVERS = ("ours", "bare", "mlserver", "mlflow")
SERVERS_VENV = ROOT / "var" / "bench-servers"
CASES = {"1-row": "one", "1000-row": "batch"}  # case -> the Server attribute holding its request
# Environment variables of the developer's shell that would point a server elsewhere.
DROPPED_PREFIXES = (
    "DJANGO_",
    "DATABASE_",
    "REDIS_",
    "GUNICORN_",
    "MLSERVICE_",
    "API_",
    "PROMETHEUS_",
    "MLFLOW_",
    "SNAILTRAIL_",
    "CELERY_",
)


# --- the load generator (runs in forked client processes) -------------------------------------


def _body_of(response: bytes) -> bytes | None:
    """The body of a complete HTTP/1.1 response read until EOF (chunked or not); None if malformed."""
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return None
    if b"transfer-encoding: chunked" not in head.lower():
        return body
    out, rest = [], body
    while True:
        size_line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            return None
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            return None
        if size == 0:
            return b"".join(out)
        out.append(rest[:size])
        rest = rest[size + 2 :]


def predictions_of(kind: str, body: bytes) -> list | None:
    """The predictions in an answer: MLflow's `predictions`, or the first OIP output's data (the
    `predict` output of model `iris`); None when the answer is not of that shape."""
    try:
        payload = json.loads(body)
        if kind == "mlflow":
            return payload["predictions"]
        output = payload["outputs"][0]
        if payload.get("model_name") != "iris" or output.get("name") != "predict":
            return None
        return output["data"]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None


def request_once(port: int, request: bytes, timeout: float = 30.0) -> bytes:
    """Send one request on a new connection and read the whole response (the server closes)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect((HOST, port))
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(262144):
            chunks.append(chunk)
    finally:
        sock.close()
    return b"".join(chunks)


def _client_main(conn) -> None:
    """One client process: for each job, send requests one after another until the deadline."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us; Ctrl-C is its to handle
    while True:
        job = conn.recv()
        if job is None:
            return
        port, request, expected, kind, want, start, deadline, cap = job
        latencies, ends = array.array("d"), array.array("d")
        errors: dict[str, int] = {}
        samples: list[str] = []
        while time.monotonic() < start:
            time.sleep(min(0.01, max(0.0, start - time.monotonic())))
        cpu = os.times()
        for _ in range(cap):
            began = time.monotonic()
            if began >= deadline:
                break
            problem, response = "", b""
            try:
                response = request_once(port, request)
            except OSError as exc:  # refused, reset, timed out
                problem = f"{type(exc).__name__}: {exc}"
            else:
                ended = time.monotonic()
                if response[:5] != b"HTTP/" or response[9:10] != b"2":
                    problem = f"status {response[9:12].decode(errors='replace') or '(none)'}"
                else:
                    body = _body_of(response)
                    if body != expected and (body is None or predictions_of(kind, body) != want):
                        problem = "wrong predictions"
            if not problem:
                latencies.append(ended - began)
                ends.append(ended)
                continue
            errors[problem] = errors.get(problem, 0) + 1
            if len(samples) < 3:
                samples.append(f"{problem}: {response[:300]!r}")
            time.sleep(0.01)  # a failing server must not turn into a busy loop
        used = os.times()
        conn.send(
            (latencies.tobytes(), ends.tobytes(), errors, samples, used.user - cpu.user + used.system - cpu.system)
        )


class Clients:
    """`count` client processes, forked once; `run` gives all of them the same job and collects."""

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("fork")
        self.pipes, self.processes = [], []
        for _ in range(count):
            parent, child = context.Pipe()
            process = context.Process(target=_client_main, args=(child,), daemon=True)
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    def run(
        self, port: int, request: bytes, expected: bytes, kind: str, want: list | None, duration: float, cap: int
    ) -> Run:
        start = time.monotonic() + 0.2
        deadline = start + duration
        for pipe in self.pipes:
            pipe.send((port, request, expected, kind, want, start, deadline, cap))
        run = Run(duration=duration, deadline=deadline)
        for pipe in self.pipes:
            latencies, ends, errors, samples, cpu = pipe.recv()
            run.latencies.frombytes(latencies)
            run.ends.frombytes(ends)
            for problem, count in errors.items():
                run.errors[problem] = run.errors.get(problem, 0) + count
            run.samples.extend(samples)
            run.client_cpu += cpu
        return run

    def close(self) -> None:
        """Idle clients exit when told; one still busy (an interrupted run) is killed after 2 s."""
        for pipe in self.pipes:
            try:
                pipe.send(None)
            except OSError:
                pass
        until = time.monotonic() + 2.0
        for process in self.processes:
            process.join(timeout=max(0.0, until - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


@dataclass
class Run:
    duration: float
    deadline: float
    latencies: array.array = field(default_factory=lambda: array.array("d"))
    ends: array.array = field(default_factory=lambda: array.array("d"))
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    machine_cpu: float = 0.0  # every process on the machine, these included

    @property
    def other_cores(self) -> float:
        """Cores used meanwhile by other work than this server and these clients (noise)."""
        return max(0.0, self.machine_cpu - self.server_cpu - self.client_cpu) / (self.duration + 0.2)

    @property
    def completed(self) -> int:
        """Answered within the window (a request in flight at the deadline is not counted)."""
        return sum(1 for end in self.ends if end <= self.deadline)

    @property
    def rate(self) -> float:
        return self.completed / self.duration

    def percentile(self, q: float) -> float:
        import numpy as np

        return float(np.percentile(np.frombuffer(self.latencies, dtype=np.float64), q)) if self.latencies else 0.0


# --- the servers --------------------------------------------------------------------------------


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine (all cores, all processes) since boot, from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http_request(port: int, path: str, body: bytes, headers: dict[str, str], method: str = "POST") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode() + body


def clean_env(bin_dir: Path = BIN, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(DROPPED_PREFIXES)}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"  # mlflow runs `uvicorn` from PATH
    env.update(extra)
    return env


@dataclass
class Server:
    name: str
    label: str
    port: int
    process: subprocess.Popen
    log: Path
    one: bytes = b""  # the 1-row request
    batch: bytes = b""  # the 1,000-row request
    expected: dict[str, bytes] = field(default_factory=dict)  # case -> a checked answer (not parsed again)
    want: dict[str, list] = field(default_factory=dict)  # case -> the model's own predictions
    answered: int = 0  # 2xx responses, all loads included
    errors: int = 0  # anything else

    def pids(self) -> list[int]:
        """The server's process and all its descendants (gunicorn's and uvicorn's workers)."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as handle:
                        ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes: the live ones, and through their
        parents' cutime/cstime the ones that have exited and been reaped (gunicorn recycles a worker
        every `max_requests`: without its reaped time a measurement could come out negative)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
                total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
            except (OSError, IndexError, ValueError):
                continue
        return total / ticks

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class BenchError(Exception):
    """The bench cannot go on: a server did not start or answered wrongly."""


def start(name: str, label: str, command: list[str], env: dict[str, str], workdir: Path, port: int) -> Server:
    log = workdir / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name=name, label=label, port=port, process=process, log=log)


def stop(*servers: Server) -> None:
    """SIGTERM to each server's whole process group, all at once; SIGKILL to what is left after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        alive = [server for server in servers if _group_alive(server.process.pid)]
        for server in alive:
            try:
                os.killpg(server.process.pid, sig)
            except ProcessLookupError:
                pass
        until = time.monotonic() + wait
        while alive and time.monotonic() < until:
            for server in alive:
                server.process.poll()  # reap the leader, or it stays a zombie and the group "alive"
            alive = [server for server in alive if _group_alive(server.process.pid)]
            time.sleep(0.05)
        if not alive:
            return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_ready(server: Server, timeout: float = 120.0) -> bytes:
    """Send the 1-row request until it is answered with a 200 (MLServer answers 400 while its
    model loads); return that response, or fail with the last one at the timeout."""
    until = time.monotonic() + timeout
    last = b""
    while True:
        if server.process.poll() is not None:
            raise BenchError(f"{server.label} exited with status {server.process.returncode}:\n{server.tail()}")
        try:  # one long wait: a request given up on while a worker boots would still be answered and counted
            last = request_once(server.port, server.one, timeout=max(1.0, until - time.monotonic()))
        except OSError:
            pass
        else:
            if last[9:12] == b"200":
                return last
        if time.monotonic() > until:
            raise BenchError(f"{server.label} gave no 200 in {timeout:.0f} s: {last[:300]!r}\n{server.tail()}")
        time.sleep(0.2)


def verify(server: Server, case: str, request: bytes, want: list[int], response: bytes | None = None) -> None:
    """The response must be 200 with the model's own predictions; the load checks every later one alike."""
    response = response if response is not None else request_once(server.port, request)
    status = response[9:12]
    body = _body_of(response)
    if status != b"200" or body is None:
        raise BenchError(f"{server.label}, {case}: answered {response[:600]!r}\n{server.tail()}")
    if predictions_of(server.name, body) != want:
        raise BenchError(f"{server.label}, {case}: predictions differ from the model's: {body[:600]!r}")
    server.expected[case], server.want[case] = body, want


# --- set-up ---------------------------------------------------------------------------------------


def build_model(workdir: Path) -> tuple[Path, list[float], list[list[float]], list[int], list[int]]:
    """Fit the model and save it with skops (ours and bare load that file; MLServer's and MLflow's
    copies are made from it); a 1,000-row batch and the model's own predictions for both requests."""
    import numpy as np
    import skops.io
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features, labels)
    skops_path = workdir / "iris.skops"
    skops.io.dump(model, skops_path)

    # Iris rows with a little noise, rounded as a client would send them.
    rng = np.random.default_rng(0)
    batch = features[rng.integers(0, len(features), BATCH_ROWS)] + rng.normal(0, 0.1, (BATCH_ROWS, 4))
    batch = np.round(batch, 2).tolist()
    want_one = model.predict(np.asarray([ONE_ROW])).tolist()
    want_batch = model.predict(np.asarray(batch)).tolist()
    return skops_path, ONE_ROW, batch, want_one, want_batch


def servers_venv(path: Path) -> Path:
    """The bin directory of the venv MLServer and MLflow run from, made (once per requirements
    file) with this Python and bench/requirements.txt."""
    requirements = ROOT / "bench" / "requirements.txt"
    stamp = path / ".requirements"
    wanted = requirements.read_text()
    if not (stamp.exists() and stamp.read_text() == wanted):
        print(f"installing MLServer and MLflow into {path} (bench/requirements.txt)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True, text=True)
        pip = [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(requirements)], check=True, capture_output=True, text=True)
        stamp.write_text(wanted)
    return path / "bin"


# Run by the servers' venv: the same fitted model, saved as MLflow and MLServer load it.
EXPORT = """
import json, sys
from pathlib import Path
import joblib, mlflow.sklearn, sklearn, skops.io
skops_path, workdir, mlserver_port, grpc_port, metrics_port = sys.argv[1:]
model = skops.io.load(skops_path, trusted=skops.io.get_untrusted_types(file=skops_path))
workdir = Path(workdir)
# No signature (no input schema to enforce): MLflow's cheapest path. Requirements given, not inferred.
mlflow.sklearn.save_model(model, workdir / "mlflow-model", pip_requirements=[f"scikit-learn=={sklearn.__version__}"])
served = workdir / "mlserver"
served.mkdir()
joblib.dump(model, served / "model.joblib")
(served / "model-settings.json").write_text(json.dumps(
    {"name": "iris", "implementation": "mlserver_sklearn.SKLearnModel", "parameters": {"uri": "./model.joblib"}}
))
# Default settings but for where to listen (and its gRPC and metrics ports, which must be free).
(served / "settings.json").write_text(json.dumps(
    {"host": "127.0.0.1", "http_port": int(mlserver_port), "grpc_port": int(grpc_port),
     "metrics_port": int(metrics_port)}
))
"""


def oip_body(rows: list[list[float]]) -> bytes:
    tensor = {"name": "input-0", "shape": [len(rows), 4], "datatype": "FP64", "data": rows}
    return json.dumps({"inputs": [tensor]}).encode()


def prepare_ours(workdir: Path, skops_path: Path, redis_url: str, database_url: str) -> tuple[dict[str, str], str]:
    """A private var dir, migrated; a user with a token; the model registered. -> (env, token)."""
    var = workdir / "var-ours"
    var.mkdir()
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_SECURE_SSL_REDIRECT="false",  # plain http to 127.0.0.1; every other production setting stays
        SNAILTRAIL_VAR_DIR=str(var),
        DATABASE_URL=database_url or f"sqlite:///{var / 'snailtrail.sqlite3'}",
        REDIS_URL=redis_url,  # empty: the local-memory cache, the embedded default
        MLSERVICE_INFER_RATE="1000000000/min",
        LOG_LEVEL="WARNING",
    )
    python = str(BIN / "python")
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    script = f"""
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from mlservice.registry import register_version
from tracker import services
user = get_user_model().objects.create_user("bench-inference", "bench@example.com", None)
workspace = services.workspace_create(name="Bench", actor=user)  # a model is called by its workspace's members
register_version(name="iris", uri={str(skops_path)!r}, version="1", trust=[], workspace=workspace, alias="production")
print("TOKEN", Token.objects.create(user=user).key)
"""
    done = subprocess.run(
        [python, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    token = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("TOKEN ")]
    if not token:
        raise BenchError(f"the set-up of ours printed no token:\n{done.stdout}\n{done.stderr}")
    return env, token[0]


def gunicorn(app: str, port: int, workers: int, workdir: Path, *extra: str) -> list[str]:
    """The same command line for every gunicorn; each gets its own control socket (gunicorn 27's
    default, ~/.gunicorn/gunicorn.ctl, is one path for every gunicorn of the user)."""
    return [
        str(BIN / "gunicorn"),
        "-c",
        "config/gunicorn.conf.py",
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--control-socket",
        str(workdir / f"gunicorn-{port}.ctl"),
        *extra,
        app,
    ]


# --- the report -------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up before each measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over all servers; figures are medians")
    parser.add_argument("--concurrency", type=int, default=8, help="client processes, one request in flight each")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of ours and bare")
    parser.add_argument(
        "--mlflow-workers", type=int, default=None, help="uvicorn workers of mlflow (default: --workers)"
    )
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per client per measurement")
    parser.add_argument("--servers", default=",".join(SERVERS), help=f"comma-separated subset of {','.join(SERVERS)}")
    parser.add_argument(
        "--servers-venv", type=Path, default=SERVERS_VENV, help="the venv of MLServer and MLflow (made if missing)"
    )
    parser.add_argument("--database-url", default="", help="DATABASE_URL for ours; default: a fresh SQLite file")
    parser.add_argument(
        "--redis-url",
        default="",
        help="REDIS_URL for ours (its throttle then counts in Redis, as in production); default: local memory",
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 round of 2 s measurements")
    parser.add_argument("--no-targets", action="store_true", help="report the targets, do not fail on them")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = parser.parse_args()
    args.load_at_start = os.getloadavg()[0]  # before this script adds its own (a past run's may linger)
    if args.quick:
        args.duration, args.warmup, args.rounds = 2.0, 0.5, 1
    if not 0 < args.duration <= 60 or not 1 <= args.concurrency <= 64 or args.rounds < 1:
        parser.error("--duration must be in (0, 60], --concurrency in [1, 64], --rounds >= 1")
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    if unknown := sorted(set(names) - set(SERVERS)):
        parser.error(f"unknown server(s): {', '.join(unknown)}")
    if not names:
        parser.error("--servers names none")
    mlflow_workers = args.mlflow_workers or args.workers

    # Forked before numpy, scikit-learn and mlflow are imported: small, idle until given a job.
    clients = Clients(args.concurrency)
    workdir = Path(tempfile.mkdtemp(prefix="snailtrail-bench-inference-"))
    servers: dict[str, Server] = {}
    try:
        return guarded(lambda: bench(args, names, mlflow_workers, clients, workdir, servers))
    finally:
        stop(*servers.values())
        clients.close()
        keep_or_remove(workdir, args.keep)


def guarded(run: Callable[[], int]) -> int:
    """A bench's exit code: what `run` returns, 1 with a FAIL line for a failure it reports
    (BenchError, a command that failed), 130 for Ctrl-C; SIGTERM stops it as Ctrl-C would (143)."""
    previous_sigterm = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run()
    except BenchError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        output = "\n".join(text for text in (exc.stdout, exc.stderr) if text)
        print(f"FAIL: {' '.join(map(str, exc.cmd))[:300]} exited {exc.returncode}:\n{output}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)


def keep_or_remove(workdir: Path, keep: bool) -> None:
    if keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def bench(args, names: list[str], mlflow_workers: int, clients: Clients, workdir: Path, servers: dict) -> int:
    from importlib.metadata import version

    skops_path, one_row, batch, want_one, want_batch = build_model(workdir)
    one_oip, batch_oip = oip_body([one_row]), oip_body(batch)
    one_mlflow, batch_mlflow = json.dumps({"inputs": [one_row]}).encode(), json.dumps({"inputs": batch}).encode()
    ports = {name: free_port() for name in ("ours", "bare", "mlserver", "mlserver-grpc", "mlserver-metrics", "mlflow")}
    servers_bin = None
    if {"mlserver", "mlflow"} & set(names):
        servers_bin = servers_venv(args.servers_venv)
        subprocess.run(
            [str(servers_bin / "python"), "-c", EXPORT, str(skops_path), str(workdir)]
            + [str(ports[name]) for name in ("mlserver", "mlserver-grpc", "mlserver-metrics")],
            check=True,
            capture_output=True,
            text=True,
        )

    # Start every server first, then wait for them together (MLServer and MLflow take seconds to import).
    if "ours" in names:
        env, token = prepare_ours(workdir, skops_path, args.redis_url, args.database_url)
        port = ports["ours"]
        server = start(
            "ours",
            "ours (OIP v2)",
            gunicorn("config.wsgi:application", port, args.workers, workdir),
            env,
            workdir,
            port,
        )
        auth = {"Authorization": f"Token {token}"}
        server.one = http_request(port, INFER_PATH, one_oip, auth)
        server.batch = http_request(port, INFER_PATH, batch_oip, auth)
        servers["ours"] = server
    bare_env = clean_env(
        DJANGO_SETTINGS_MODULE="bare_inference.settings",
        BARE_INFERENCE_MODEL=str(skops_path),
        PROMETHEUS_MULTIPROC_DIR=str(workdir / "prometheus-bare"),
    )
    if "bare" in names:
        port = ports["bare"]
        app = gunicorn("bare_inference.wsgi:application", port, args.workers, workdir, "--pythonpath", "bench")
        server = start("bare", "bare Django", app, bare_env, workdir, port)
        server.one = http_request(port, INFER_PATH, one_oip, {})
        server.batch = http_request(port, INFER_PATH, batch_oip, {})
        servers["bare"] = server
    if "mlserver" in names:
        port = ports["mlserver"]
        command = [str(servers_bin / "mlserver"), "start", str(workdir / "mlserver")]
        server = start("mlserver", "MLServer 1.7.1", command, clean_env(servers_bin), workdir, port)
        server.one = http_request(port, INFER_PATH, one_oip, {})
        server.batch = http_request(port, INFER_PATH, batch_oip, {})
        servers["mlserver"] = server
    if "mlflow" in names:
        port = ports["mlflow"]
        command = [str(servers_bin / "mlflow"), "models", "serve", "-m", str(workdir / "mlflow-model")]
        command += ["--env-manager", "local", "-p", str(port), "-h", HOST, "-w", str(mlflow_workers)]
        server = start("mlflow", "mlflow models serve", command, clean_env(servers_bin), workdir, port)
        server.one = http_request(port, "/invocations", one_mlflow, {})
        server.batch = http_request(port, "/invocations", batch_mlflow, {})
        servers["mlflow"] = server
    port = free_port()
    floor_env = dict(bare_env, PROMETHEUS_MULTIPROC_DIR=str(workdir / "prometheus-floor"))
    floor = start(
        "floor",
        "gunicorn floor",
        gunicorn("bare_inference.floor:application", port, args.workers, workdir, "--pythonpath", "bench"),
        floor_env,
        workdir,
        port,
    )
    floor.one = floor.batch = http_request(port, "/", one_oip, {})
    servers["floor"] = floor

    failures: list[str] = []

    def load(server: Server, case: str, what: str, seconds: float, cap: int) -> Run:
        """Drive `server` with `case`'s request; errors are counted on the server and reported."""
        before, machine = server.cpu_seconds(), machine_busy_seconds()
        request, expected = getattr(server, CASES[case]), server.expected[case]
        run = clients.run(server.port, request, expected, server.name, server.want.get(case), seconds, cap)
        run.server_cpu = server.cpu_seconds() - before
        run.machine_cpu = machine_busy_seconds() - machine
        server.answered += len(run.latencies)
        if run.errors:
            server.errors += sum(run.errors.values())
            failures.append(
                f"{server.label}, {what}: {sum(run.errors.values())} errors {run.errors}; e.g. {run.samples[:2]}"
            )
        return run

    for server in servers.values():
        first = wait_ready(server)
        server.answered += 1
        if server.name == "floor":
            server.expected["1-row"] = server.expected["1000-row"] = _body_of(first) or b""
            continue
        verify(server, "1-row", server.one, want_one, first)
        verify(server, "1000-row", server.batch, want_batch)
        server.answered += 1
        # Every worker loads its model on its first request: warm them all up before measuring.
        for case in CASES:
            load(server, case, f"{case} first warm-up", 1.0, 200)
        if failures:
            raise BenchError(f"{failures[0]}\n{server.tail()}")

    print(
        "versions: "
        + ", ".join(f"{package} {version(package)}" for package in ("django", "gunicorn", "scikit-learn", "numpy"))
        + f"; Python {sys.version.split()[0]}"
        + ("; MLServer, MLflow: bench/requirements.txt" if servers_bin else "")
    )
    print(
        f"{args.concurrency} client processes, one request in flight each, a new connection per request; "
        f"{args.duration:g} s per measurement after {args.warmup:g} s of warm-up; {args.rounds} round(s); "
        f"gunicorn --workers {args.workers} (ours, bare), MLServer's defaults, mlflow -w {mlflow_workers}; "
        f"ours' throttle counts in {'Redis' if args.redis_url else 'local memory'}; "
        f"{os.cpu_count()} cores; load average at start: {args.load_at_start:.2f}",
        flush=True,
    )

    def measure(server: Server, case: str) -> Run:
        if args.warmup > 0:
            load(server, case, f"{case} warm-up", args.warmup, args.max_requests)
        return load(server, case, case, args.duration, args.max_requests)

    floor_run = measure(floor, "1-row")
    print(
        f"client check, gunicorn floor app (no Django): {floor_run.rate:,.0f} req/s, "
        f"p50 {floor_run.percentile(50) * 1000:.2f} ms; clients used {floor_run.client_cpu / args.duration:.2f} cores",
        flush=True,
    )
    stop(servers.pop("floor"))

    results: dict[tuple[str, str], list[Run]] = {}
    order = [name for name in SERVERS if name in servers]
    for round_index in range(args.rounds):
        shift = round_index % len(order)
        for case in CASES:
            for name in order[shift:] + order[:shift]:
                run = measure(servers[name], case)
                results.setdefault((name, case), []).append(run)
                rows = BATCH_ROWS if case == "1000-row" else 1
                print(
                    f"  round {round_index + 1} {case:8} {name:6} {run.rate:7,.0f} req/s {run.rate * rows:9,.0f} rows/s"
                    f" p50 {run.percentile(50) * 1000:6.2f} ms p99 {run.percentile(99) * 1000:6.2f} ms, "
                    f"server CPU {run.server_cpu / max(len(run.latencies), 1) * 1000:5.2f} ms/req, "
                    f"clients {run.client_cpu / args.duration:.2f} cores, other work {run.other_cores:.2f} cores, "
                    f"errors {sum(run.errors.values())}",
                    flush=True,
                )
    others = [run.other_cores for runs in results.values() for run in runs]
    print(
        f"other work on the machine during the measurements: median {median(others):.2f} cores, max {max(others):.2f}"
    )
    if median(others) > 0.1 * (os.cpu_count() or 1):
        print("WARNING: other work competed for the CPU: absolute figures are low and the req/s ratios noisy")
    report(args, servers, results, floor_run)
    if "ours" in servers:
        failures.extend(check_metrics(servers["ours"]))

    if failures:
        print("FAIL:")
        for line in failures:
            print(f"  {line}")
        return 1
    return check_targets(args, results)


def check_metrics(server: Server) -> list[str]:
    """Ours counted every request it answered in Prometheus (metrics on, and nothing lost)."""
    response = request_once(server.port, http_request(server.port, "/metrics", b"", {}, method="GET"))
    body = _body_of(response) or b""
    if response[9:12] != b"200":
        return [f"{server.label}: GET /metrics answered {response[:300]!r}"]
    counted = sum(
        float(line.rsplit(b" ", 1)[1])
        for line in body.splitlines()
        if line.startswith(b"mlservice_requests_total{") and b'model="iris"' in line
    )
    print(
        f"{server.label}: /metrics counts {counted:,.0f} inference requests; "
        f"{server.answered:,} were answered to the clients"
    )
    if counted != server.answered:
        return [f"{server.label}: /metrics counts {counted:,.0f} requests, {server.answered:,} were answered"]
    return []


def summary(runs: list[Run]) -> dict[str, float]:
    return {
        "rate": median([run.rate for run in runs]),
        "low": min(run.rate for run in runs),
        "high": max(run.rate for run in runs),
        "p50": median([run.percentile(50) for run in runs]) * 1000,
        "p99": median([run.percentile(99) for run in runs]) * 1000,
        "cpu": median([run.server_cpu / max(len(run.latencies), 1) for run in runs]) * 1000,
        "requests": sum(run.completed for run in runs),
    }


def report(args, servers: dict[str, Server], results: dict[tuple[str, str], list[Run]], floor_run: Run) -> None:
    print()
    print(
        f"medians of {args.rounds} round(s), {args.duration:g} s each (min-max: the worst and best round); "
        f"concurrency {args.concurrency}; CPU ms/req: the server's processes, user + system"
    )
    print(
        f"{'server':22} {'1-row req/s':>11} {'(min-max)':>15} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} "
        f"{'| 1000-row rows/s':>17} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/req':>10} {'errors':>6}"
    )
    for name, server in servers.items():
        one, batch = summary(results[(name, "1-row")]), summary(results[(name, "1000-row")])
        spread = f"{one['low']:,.0f}-{one['high']:,.0f}"
        print(
            f"{server.label:22} {one['rate']:11,.0f} {spread:>15} {one['p50']:7.2f} {one['p99']:7.2f} "
            f"{one['cpu']:10.2f} "
            f"| {batch['rate'] * BATCH_ROWS:15,.0f} {batch['p50']:7.2f} {batch['p99']:7.2f} {batch['cpu']:10.2f} "
            f"{server.errors:6}"
        )
    print(
        f"{'gunicorn floor (check)':22} {floor_run.rate:11,.0f} {'':>15} {floor_run.percentile(50) * 1000:7.2f} "
        f"{floor_run.percentile(99) * 1000:7.2f} {floor_run.server_cpu / max(len(floor_run.latencies), 1) * 1000:10.2f}"
    )
    if "ours" in servers:
        ours_one, ours_batch = summary(results[("ours", "1-row")]), summary(results[("ours", "1000-row")])
        for other in ("bare", "mlserver", "mlflow"):
            if other not in servers:
                continue
            one, batch = summary(results[(other, "1-row")]), summary(results[(other, "1000-row")])
            print(
                f"ours / {other}: 1-row req/s {ours_one['rate'] / one['rate']:.2f}x "
                f"(best rounds: {ours_one['high'] / one['high']:.2f}x), "
                f"1000-row rows/s {ours_batch['rate'] / batch['rate']:.2f}x "
                f"(best rounds: {ours_batch['high'] / batch['high']:.2f}x), "
                f"1-row CPU per request {ours_one['cpu'] / one['cpu']:.2f}x"
            )


def check_targets(args, results: dict[tuple[str, str], list[Run]]) -> int:
    """Each target of TARGETS, as ours' median over the other's, met or MISSED (exit 1 unless --no-targets)."""
    missed = []
    for case, other, measure, direction, bound in TARGETS:
        name = f"{case} {'req/s' if measure == 'rate' else 'CPU per request'} ours / {other} {direction} {bound:g}x"
        if ("ours", case) not in results or (other, case) not in results:
            print(f"target {name}: not checked (not measured)")
            continue
        ratio = summary(results[("ours", case)])[measure] / summary(results[(other, case)])[measure]
        met = ratio >= bound if direction == ">=" else ratio <= bound
        print(f"target {name}: {ratio:.2f}x, {'met' if met else 'MISSED'}")
        if not met:
            missed.append(f"{name} ({ratio:.2f}x)")
    if missed and not args.no_targets:
        print(f"FAIL: target(s) missed: {'; '.join(missed)} (--no-targets to only report)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
