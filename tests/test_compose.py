"""docker-compose.yml and .env.example, checked and run without Docker (there is no engine here).

The file's structure is read with PyYAML. Then every command it runs (migrate, gunicorn, the
Celery worker and beat, and the healthchecks that can run outside a container) runs for real, as a
subprocess in a session of its own, in the environment Compose would give it: .env.example, the
service's `environment`, and for this machine the hosts swapped for its PostgreSQL (a throwaway
database per run, dropped at the end) and Redis (db 14, flushed before and after; the suite's own
TEST_REDIS_URL db is never touched), and the container's paths for temporary ones.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from tests.conftest import ROOT, free_port, need_service

BIN = Path(sys.executable).parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
DOCKERFILE = (ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = ROOT / ".env.example"
REQUIRED = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")
PRODUCTION = "config.settings.production"
# The suite's own services (Makefile's TEST_DATABASE_URL / TEST_REDIS_URL): where ours live too.
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/snailtrail")
SUITE_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def dotenv(path: Path) -> dict[str, str]:
    """KEY=value lines, as Compose's env_file reads this file (no quotes, no `$`, no inline comments)."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def mentioned(path: Path) -> set[str]:
    """Every variable the file sets or shows commented out (`# KEY=default`)."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", path.read_text(), re.MULTILINE))


def variables_the_settings_read() -> set[str]:
    names = set()
    for module in (ROOT / "config" / "settings").glob("*.py"):
        names |= set(re.findall(r"\benv\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", module.read_text()))
    gunicorn = (ROOT / "config" / "gunicorn.conf.py").read_text()
    names |= set(re.findall(r"os\.environ(?:\.get\(|\.setdefault\(|\[)\s*\"([A-Z][A-Z0-9_]*)\"", gunicorn))
    return names


def dockerfile_env() -> dict[str, str]:
    block = re.search(r"^ENV ((?:.*\\\n)*.*)$", DOCKERFILE.split(" AS runtime")[1], re.MULTILINE).group(1)
    return dict(re.findall(r"([A-Z_]+)=(\S+)", block))


def app_environment(service: str) -> dict[str, str]:
    return {key: str(value) for key, value in SERVICES[service].get("environment", {}).items()}


def healthcheck_argv(service: str) -> list[str]:
    """The healthcheck's command as the container runs it: CMD as is, CMD-SHELL through sh; `$$` is Compose's `$`."""
    kind, *rest = SERVICES[service]["healthcheck"]["test"]
    if kind == "CMD":
        return rest
    assert kind == "CMD-SHELL"
    return ["/bin/sh", "-c", rest[0].replace("$$", "$")]


# --- the file's structure -------------------------------------------------------------------------


def test_the_services():
    assert set(SERVICES) == {"web", "worker", "beat", "migrate", "postgres", "redis"}


def test_the_app_services_run_one_image_built_once_from_the_dockerfile():
    images = {SERVICES[name]["image"] for name in APP_SERVICES}
    builders = [name for name, service in SERVICES.items() if "build" in service]

    assert len(images) == 1
    assert builders == ["migrate"]  # the one every other app service waits for
    assert SERVICES["migrate"]["build"] == {"context": ".", "target": "runtime"}
    assert re.search(r"^FROM \S+ AS runtime$", DOCKERFILE, re.MULTILINE)
    # Never pulled: a registry's image of the same name must not replace ours.
    assert all(SERVICES[name]["pull_policy"] == "never" for name in APP_SERVICES)


def test_every_image_tag_is_pinned():
    for name, service in SERVICES.items():
        repository, _, tag = service["image"].partition(":")
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?", tag), f"{name}: {service['image']} is not pinned to a release"
    assert SERVICES["postgres"]["image"].startswith("postgres:16.")
    assert SERVICES["redis"]["image"].startswith("redis:7.")


def test_the_app_services_run_production_settings_with_the_env_file():
    for name in APP_SERVICES:
        assert SERVICES[name]["env_file"] == ".env"
        assert app_environment(name)["DJANGO_SETTINGS_MODULE"] == PRODUCTION
    assert dockerfile_env()["DJANGO_SETTINGS_MODULE"] == PRODUCTION


def test_migrate_runs_first_and_alone():
    completed = {"condition": "service_completed_successfully"}
    healthy = {"condition": "service_healthy"}

    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["migrate"]["depends_on"] == {"postgres": healthy}
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"] == {"migrate": completed, "postgres": healthy, "redis": healthy}
        assert SERVICES[name]["restart"] == "unless-stopped"


def test_the_commands():
    assert SERVICES["web"]["command"] == ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
    assert app_environment("web")["GUNICORN_BIND"] == "0.0.0.0:8000"
    # No -Q: the worker takes every queue the settings declare (the next test).
    assert SERVICES["worker"]["command"] == ["celery", "-A", "config", "worker", "--loglevel=INFO"]
    assert SERVICES["beat"]["command"] == ["celery", "-A", "config", "beat", "--loglevel=INFO"]


def test_checks_go_to_the_ops_queue_the_rest_to_celery_and_a_worker_takes_both():
    from config.celery_app import app

    assert sorted(app.amqp.queues) == ["celery", "ops"]  # what `celery worker` without -Q consumes
    assert {name: queue.routing_key for name, queue in app.amqp.queues.items()} == {"celery": "celery", "ops": "ops"}
    for task in ("ops.tasks.dispatch_due_checks", "ops.tasks.run_check_group"):
        assert app.amqp.router.route({}, task)["queue"].name == "ops"
    for task in ("tracker.tasks.deliver_webhook", "tracker.tasks.redeliver_stalled_webhooks"):
        assert app.amqp.router.route({}, task)["queue"].name == "celery"


def test_exactly_one_beat():
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    for name, service in SERVICES.items():
        command = service.get("command", [])
        if name != "beat":
            assert "beat" not in command and "--beat" not in command and "-B" not in command, name


def test_the_long_running_services_have_healthchecks():
    for name in ("web", "worker", "postgres", "redis"):
        check = SERVICES[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= set(check), name
    # Ready, not only alive: the process answers and reaches PostgreSQL, the cache and the broker.
    assert healthcheck_argv("web") == ["python", "scripts/healthcheck.py", "/readyz"]
    assert "scripts" not in (ROOT / ".dockerignore").read_text().split()  # the script is in the image


def test_nothing_runs_as_root():
    assert re.search(r"groupadd --system --gid 10001 snail\b", DOCKERFILE)
    assert re.search(r"useradd --system --uid 10001 --gid snail\b", DOCKERFILE)
    assert re.findall(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)[-1] == "snail"
    for name in APP_SERVICES:
        service = SERVICES[name]
        assert service["user"] == "10001:10001", name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert not service.get("privileged"), name


def test_the_app_user_can_write_its_var_dir_and_model_cache():
    env = dockerfile_env()
    var, cache = env["SNAILTRAIL_VAR_DIR"], env["MLSERVICE_CACHE_DIR"]
    # The image makes both the app user's, 0700 (mlservice refuses a cache anyone else can write).
    made = re.search(r"install --directory --owner=snail --group=snail --mode=0700 (.+)$", DOCKERFILE, re.MULTILINE)
    assert made and set(made.group(1).split()) == {var, cache}
    for name in APP_SERVICES:
        assert app_environment(name)["SNAILTRAIL_VAR_DIR"] == var
        assert app_environment(name)["MLSERVICE_CACHE_DIR"] == cache
        # Per-container scratch in memory, owned by the app user (gunicorn's Prometheus files).
        assert SERVICES[name]["tmpfs"] == [f"{var}:uid=10001,gid=10001,mode=0700"], name
    # The model cache outlives containers: a named volume, which takes the directory's owner and mode.
    assert SERVICES["web"]["volumes"] == [f"model-cache:{cache}"]
    assert SERVICES["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert SERVICES["redis"]["volumes"] == ["redis-data:/data"]
    assert set(COMPOSE["volumes"]) == {"model-cache", "postgres-data", "redis-data"}


def test_only_web_is_published_and_only_on_loopback():
    assert SERVICES["web"]["ports"] == ["127.0.0.1:8000:8000"]  # the TLS proxy on this host reaches it
    assert [name for name, service in SERVICES.items() if "ports" in service] == ["web"]


# --- .env.example ---------------------------------------------------------------------------------


def test_env_example_names_every_variable_the_settings_read():
    missing = variables_the_settings_read() - mentioned(ENV_EXAMPLE)

    assert not missing, f"add these to .env.example, each with what it is: {sorted(missing)}"


def test_env_example_sets_the_required_ones_and_secrets_are_placeholders():
    values = dotenv(ENV_EXAMPLE)
    text = ENV_EXAMPLE.read_text()

    assert all(values.get(name) for name in REQUIRED)
    for name, value in values.items():
        if re.search(r"SECRET|PASSWORD|TOKEN", name):
            assert value == "change-me", name
    assert urlsplit(values["DATABASE_URL"]).password == "change-me"
    # AWS credentials come from the standard chain (instance or task role, AWS_PROFILE), never here.
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & mentioned(ENV_EXAMPLE)
    assert not re.search(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", text)
    assert "$" not in "".join(values.values())  # Compose would expand it


def test_env_example_points_the_app_at_the_compose_services():
    values = dotenv(ENV_EXAMPLE)
    database, redis = urlsplit(values["DATABASE_URL"]), urlsplit(values["REDIS_URL"])

    assert (database.scheme, database.hostname, database.port) == ("postgres", "postgres", 5432)
    assert database.username == values["POSTGRES_USER"]
    assert database.password == values["POSTGRES_PASSWORD"]
    assert database.path == f"/{values['POSTGRES_DB']}"
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)
    # The postgres service is set up from the same variables (Compose reads .env for them).
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert SERVICES["postgres"]["environment"][name].startswith(f"${{{name}:"), name


# --- the README's "Production" ------------------------------------------------------------------


def test_the_readme_production_commands_exist():
    from django.core.management import get_commands, load_command_class

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## Production\n") : readme.index("\n## Configuration\n")]
    block = re.search(r"^```sh\n(.*?)^```$", section, re.S | re.M).group(1)
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]

    assert lines[:2] == ["cp .env.example .env", "docker compose up -d"]
    assert ENV_EXAMPLE.exists()
    runs = [line.split() for line in lines if line.startswith("docker compose run")]
    assert runs
    for words in runs:
        service, program, manage, name, *arguments = words[words.index("--rm") + 1 :]
        assert (service, program, manage) == ("web", "python", "manage.py")
        # The command exists and takes these arguments (parsed, not run).
        command = load_command_class(get_commands()[name], name)
        command.create_parser("manage.py", name).parse_args(arguments)


# --- every command, run outside Docker --------------------------------------------------------------


@dataclass
class Stack:
    """This run's services: a throwaway database and a Redis db, and a directory for the rest."""

    database_url: str
    redis_url: str
    dbname: str
    admin: dict
    tmp: Path
    secret_key: str

    def env(self, service: str, **extra: str) -> dict[str, str]:
        """The environment Compose gives `service`, with this machine's hosts and paths."""
        inherited = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "PGHOST", "PGPORT", "PGDATABASE")
            and not key.startswith(("DJANGO_", "AWS_", "GUNICORN_", "CELERY_", "MLSERVICE_", "SNAILTRAIL_"))
        }
        image = {key: value for key, value in dockerfile_env().items() if key != "PATH"}  # PATH: below
        env = inherited | image | dotenv(ENV_EXAMPLE) | app_environment(service)
        var, cache = self.tmp / service / "var", self.tmp / service / "model-cache"
        for directory in (var, cache):  # as the image makes them: the user's, 0700
            directory.mkdir(parents=True, mode=0o700, exist_ok=True)
        if "PROMETHEUS_MULTIPROC_DIR" in env:  # the worker's: a directory of its own, in its var dir
            env["PROMETHEUS_MULTIPROC_DIR"] = str(var / "prometheus")
        if "WORKER_METRICS_PORT" in env:  # the container's port and address, here: a free port on loopback
            env |= {"WORKER_METRICS_PORT": str(free_port()), "WORKER_METRICS_ADDRESS": "127.0.0.1"}
        env |= {
            "PATH": f"{BIN}{os.pathsep}{env['PATH']}",  # the image's /opt/venv/bin
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "DJANGO_SECRET_KEY": self.secret_key,
            "SNAILTRAIL_VAR_DIR": str(var),
            "MLSERVICE_CACHE_DIR": str(cache),
            "HOSTNAME": socket.gethostname(),  # Docker sets it to the container's host name
            # gunicorn's control socket: the container's own (its $HOME), not this machine's ~/.gunicorn.
            "XDG_RUNTIME_DIR": str(self.tmp / service),
            # No AWS is reached: what tests/conftest.py's no_real_aws sets for the suite.
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        return env | extra


def swap_host(url: str, netloc: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, netloc, path, "", ""))


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    import psycopg
    import redis
    from psycopg import sql

    postgres = urlsplit(need_service(POSTGRES_URL, 5432, "PostgreSQL"))
    suite_redis = urlsplit(need_service(SUITE_REDIS_URL, 6379, "Redis"))
    admin = {
        "host": postgres.hostname or "127.0.0.1",
        "port": postgres.port or 5432,
        "user": postgres.username or "postgres",
        "dbname": "postgres",
    }
    dbname = f"snailtrail_compose_{os.getpid()}_{secrets.token_hex(4)}"
    # db 14 is ours; never the suite's own (15 by default).
    db = 13 if suite_redis.path.strip("/") == "14" else 14
    example = dotenv(ENV_EXAMPLE)
    database_url = swap_host(example["DATABASE_URL"], f"{admin['user']}@{admin['host']}:{admin['port']}", f"/{dbname}")
    redis_url = swap_host(example["REDIS_URL"], f"{suite_redis.hostname}:{suite_redis.port or 6379}", f"/{db}")
    broker = redis.Redis.from_url(redis_url)
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        broker.flushdb()
        yield Stack(
            database_url=database_url,
            redis_url=redis_url,
            dbname=dbname,
            admin=admin,
            tmp=tmp_path_factory.mktemp("compose"),
            secret_key=secrets.token_urlsafe(50),
        )
    finally:
        broker.flushdb()
        broker.close()
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


@pytest.fixture(scope="module")
def migrated(stack: Stack) -> subprocess.CompletedProcess:
    """The migrate service's command, once for the module (web, worker and beat wait for it too)."""
    result = subprocess.run(
        SERVICES["migrate"]["command"], cwd=ROOT, env=stack.env("migrate"), capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:  # like service_completed_successfully: nothing else starts
        pytest.fail(f"migrate exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def query(stack: Stack, statement: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(**(stack.admin | {"dbname": stack.dbname})) as conn:
        return conn.execute(statement).fetchall()


@contextmanager
def running(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`argv` in a session of its own; the whole process group is stopped at the end, whatever happens."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            signal_group(process, signal.SIGTERM)  # as `docker compose stop` does, then its SIGKILL
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            signal_group(process, signal.SIGKILL)  # and any pool process that outlived its parent
            process.wait(timeout=5)


def signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def wait_until(what: str, ready: Callable[[], bool], processes: dict[str, subprocess.Popen], logs: list[Path]):
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if ready():
            return
        for name, process in processes.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode} before {what}:\n{tail(logs)}")
        time.sleep(0.2)
    pytest.fail(f"no {what} within 45 s:\n{tail(logs)}")


def tail(logs: list[Path]) -> str:
    return "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:]) for log in logs
    )


def get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.body = response.read().decode(errors="replace")  # what it said, for the tests that read it
    connection.close()
    return response


def test_migrate_applies_every_migration(migrated: subprocess.CompletedProcess, stack: Stack):
    assert "Applying django_celery_beat." in migrated.stdout
    assert query(stack, "SELECT count(*) FROM django_celery_beat_periodictask") == [(0,)]


def test_check_deploy_passes_with_the_example_values_and_a_strong_key(migrated, stack: Stack):
    result = subprocess.run(
        ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=stack.env("web"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_web_serves_through_gunicorn_and_its_healthcheck_passes(migrated, stack: Stack):
    port = free_port()
    env = stack.env("web", GUNICORN_BIND=f"127.0.0.1:{port}")
    host = dotenv(ENV_EXAMPLE)["DJANGO_ALLOWED_HOSTS"].split(",")[0]
    log = stack.tmp / "web.log"

    def answers() -> bool:
        try:
            get(port, "/v2/health/live", Host=host)
        except OSError:
            return False
        return True

    with running(SERVICES["web"]["command"], env, log) as gunicorn:
        wait_until("an HTTP answer from gunicorn", answers, {"gunicorn": gunicorn}, [log])
        # Production settings: plain http goes to https, an unknown Host is refused...
        plain = get(port, "/v2/health/live", Host=host)
        assert (plain.status, plain.getheader("Location")) == (301, f"https://{host}/v2/health/live")
        assert get(port, "/v2/health/live", Host="attacker.example", **{"X-Forwarded-Proto": "https"}).status == 400
        # ...which is why the healthcheck comes as the proxy would: it passes.
        health = subprocess.run(healthcheck_argv("web"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        assert health.returncode == 0, health.stderr
        # Prometheus's multiprocess files go to the var dir, private to the app's user.
        assert get(port, "/metrics", Host=host, **{"X-Forwarded-Proto": "https"}).status == 200
        prometheus = Path(env["SNAILTRAIL_VAR_DIR"]) / "prometheus"
        assert prometheus.stat().st_mode & 0o777 == 0o700

    # With gunicorn gone, the healthcheck fails.
    down = subprocess.run(healthcheck_argv("web"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert down.returncode == 1


def test_worker_runs_what_beat_queues_and_answers_its_healthcheck(migrated, stack: Stack):
    logs = {"worker": stack.tmp / "worker.log", "beat": stack.tmp / "beat.log"}
    # Beat queues the due checks every second instead of 15, so the first run comes at once.
    worker_env = stack.env("worker", CHECK_DISPATCH_SECONDS="1")
    beat_env = stack.env("beat", CHECK_DISPATCH_SECONDS="1")

    with (
        running(SERVICES["worker"]["command"], worker_env, logs["worker"]) as worker,
        running(SERVICES["beat"]["command"], beat_env, logs["beat"]) as beat,
    ):
        processes = {"worker": worker, "beat": beat}
        wait_until(
            "'beat: Starting' in beat's log",
            lambda: "beat: Starting" in logs["beat"].read_text(),
            processes,
            [*logs.values()],
        )
        wait_until(
            "beat's schedule in the database",
            lambda: query(stack, "SELECT name FROM django_celery_beat_periodictask WHERE name = 'dispatch-due-checks'"),
            processes,
            [*logs.values()],
        )
        # Beat -> Redis -> the worker on the default queue -> PostgreSQL, and back as a log line.
        succeeded = re.compile(r"Task ops\.tasks\.dispatch_due_checks\[[0-9a-f-]+\] succeeded")
        wait_until(
            "a dispatch_due_checks run in the worker's log",
            lambda: succeeded.search(logs["worker"].read_text()),
            processes,
            [*logs.values()],
        )
        # Both queues, each with a routing key of its own (a shared key would copy every message to both).
        banner = re.findall(r"\.> (\w+) +exchange=(\w+)\(direct\) key=(\w+)", logs["worker"].read_text())
        assert banner == [("celery", "celery", "celery"), ("ops", "celery", "ops")]
        health = subprocess.run(
            healthcheck_argv("worker"), cwd=ROOT, env=worker_env, capture_output=True, text=True, timeout=60
        )
        assert health.returncode == 0, health.stdout + health.stderr
        assert "pong" in health.stdout
        # Its own /metrics (web's scrape cannot see this container's files) counted that run.
        scraped = get(int(worker_env["WORKER_METRICS_PORT"]), "/metrics")
        assert scraped.status == 200
        assert 'snailtrail_celery_tasks_total{state="success",task="ops.tasks.dispatch_due_checks"}' in scraped.body


def test_the_worker_serves_its_own_metrics_from_a_directory_of_its_own():
    worker = app_environment("worker")
    assert worker["WORKER_METRICS_PORT"] == "9808" and SERVICES["worker"]["expose"] == ["9808"]
    assert worker["WORKER_METRICS_ADDRESS"] == "0.0.0.0"  # the compose network; nothing is published
    assert worker["PROMETHEUS_MULTIPROC_DIR"].startswith(app_environment("beat")["SNAILTRAIL_VAR_DIR"] + "/")
    assert "PROMETHEUS_MULTIPROC_DIR" not in app_environment("web")  # gunicorn.conf.py sets web's


def test_the_postgres_and_redis_healthchecks(stack: Stack):
    for tool in ("pg_isready", "redis-cli"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed here")
    redis_address = urlsplit(stack.redis_url)
    if (redis_address.hostname, redis_address.port) != ("127.0.0.1", 6379):
        pytest.skip("the Redis healthcheck runs redis-cli's default, 127.0.0.1:6379")
    postgres = subprocess.run(
        healthcheck_argv("postgres"),
        env=os.environ
        | {
            "PGHOST": stack.admin["host"],  # the container's own socket, here a TCP address
            "PGPORT": str(stack.admin["port"]),
            "POSTGRES_USER": stack.admin["user"],
            "POSTGRES_DB": stack.dbname,
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    redis = subprocess.run(healthcheck_argv("redis"), capture_output=True, text=True, timeout=30)

    assert postgres.returncode == 0, postgres.stdout + postgres.stderr
    assert redis.returncode == 0, redis.stdout + redis.stderr
