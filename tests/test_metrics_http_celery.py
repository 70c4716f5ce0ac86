"""Site metrics on `/metrics` (core/metrics.py): HTTP by route, Celery tasks, queue depth, check lag."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery, shared_task
from django.utils import timezone

from core import metrics as site_metrics
from ops import metrics as ops_metrics
from tests.conftest import ROOT
from tests.mlservice.conftest import iris, iris_pipeline, pipeline_artifact, served_iris  # noqa: F401
from tests.mlservice.test_metrics import ROW, sample
from tests.ops_runs.conftest import scripted  # noqa: F401
from tests.test_settings import run_python

pytestmark = pytest.mark.django_db

HTTP = "snailtrail_http_requests_total"


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def grown(before: str, after: str, name: str, **labels: str) -> float:
    return sample(after, name, **labels) - sample(before, name, **labels)


def has(text: str, name: str) -> bool:
    return any(line.startswith(name) for line in text.splitlines())


# --- HTTP -----------------------------------------------------------------------------------------


def test_pages_api_and_inference_are_counted_by_route_pattern_and_status(
    client,
    owner,
    token,
    team,
    fresh_mlservice,
    served_iris,  # noqa: F811
):
    before = site_metrics.exposition().decode()
    client.force_login(owner)
    assert client.get(f"/operations/{team.slug}/").status_code == 200
    assert client.get("/operations/no-such-operation/").status_code == 404
    client.logout()
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert client.get(f"/api/operations/{team.slug}/tasks/", **auth).status_code == 200
    infer = client.post("/v2/models/iris/infer", json.dumps(ROW), content_type="application/json", **auth)
    assert infer.status_code == 200
    assert client.get("/nowhere/at/all").status_code == 404
    assert client.generic("BREW", "/healthz").status_code == 405

    after = scrape(client)

    page = {"method": "GET", "route": "operations/<slug:slug>/"}
    assert grown(before, after, HTTP, **page, status="200") == 1
    assert grown(before, after, HTTP, **page, status="404") == 1
    assert grown(before, after, "snailtrail_http_request_duration_seconds_count", **page) == 2
    api = {"method": "GET", "route": "api/operations/<operation_slug>/tasks/", "status": "200"}
    assert grown(before, after, HTTP, **api) == 1
    inference = {"method": "POST", "route": "v2/models/<slug:name>/infer", "status": "200"}
    assert grown(before, after, HTTP, **inference) == 1
    assert grown(before, after, HTTP, method="GET", route="(unmatched)", status="404") == 1
    assert grown(before, after, HTTP, method="OTHER", route="healthz", status="405") == 1
    assert team.slug not in after and "nowhere" not in after and "BREW" not in after


def test_a_public_links_token_is_never_a_label(client, team):
    from tracker import services

    _, token = services.public_link_create(operation=team, actor=None, label="board")
    before = site_metrics.exposition().decode()

    assert client.get(f"/p/{token}/").status_code == 200
    assert client.get("/p/made-up-token/").status_code == 404

    after = scrape(client)
    assert grown(before, after, HTTP, method="GET", route="p/<str:token>/", status="200") == 1
    assert grown(before, after, HTTP, method="GET", route="p/<str:token>/", status="404") == 1
    assert token not in after and "made-up-token" not in after


def test_the_middleware_is_second():
    from django.conf import settings

    assert settings.MIDDLEWARE[:2] == ["core.request_id.RequestIdMiddleware", "core.metrics.MetricsMiddleware"]


# --- who may read it ------------------------------------------------------------------------------


def test_production_without_a_token_serves_metrics_to_the_allowed_networks_only(tmp_path):
    out = run_python(
        "from django.test import Client\n"
        "assert settings.METRICS_TOKEN == '' and not settings.DEBUG\n"
        "def status(address, **extra):\n"
        "    return Client(REMOTE_ADDR=address).get('/metrics', secure=True, **extra).status_code\n"
        "print(json.dumps([status('10.1.2.3'), status('127.0.0.1'), status('203.0.113.9'),"
        " status('203.0.113.9', HTTP_AUTHORIZATION='Bearer guessed'), status('not-an-address')]))",
        tmp_path,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="production-test-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="testserver",
        METRICS_TOKEN="",
        METRICS_ALLOWED_NETWORKS="10.0.0.0/8",
    )

    assert json.loads(out) == [200, 403, 403, 403, 403]


# --- Celery ---------------------------------------------------------------------------------------


@shared_task(name="tests.metrics.adds")
def adds(a: int, b: int) -> int:
    return a + b


@shared_task(name="tests.metrics.fails")
def fails() -> None:
    raise ValueError("on purpose")


def test_eager_tasks_are_counted_with_their_state_and_duration(client):
    before = site_metrics.exposition().decode()

    assert adds.delay(2, 3).get() == 5
    assert adds.apply(args=(1, 1)).get() == 2
    assert fails.apply().failed()

    after = scrape(client)
    assert grown(before, after, "snailtrail_celery_tasks_total", task="tests.metrics.adds", state="success") == 2
    assert grown(before, after, "snailtrail_celery_tasks_total", task="tests.metrics.fails", state="failure") == 1
    assert grown(before, after, "snailtrail_celery_task_duration_seconds_count", task="tests.metrics.adds") == 2
    assert grown(before, after, "snailtrail_celery_task_duration_seconds_count", task="tests.metrics.fails") == 1


# --- queue depth ----------------------------------------------------------------------------------


def test_queue_depth_on_the_filesystem_transport(client, settings, tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
    }
    producer = Celery("metrics-test", broker="filesystem://", set_as_current=False)
    producer.conf.broker_transport_options = options
    for _ in range(3):
        producer.send_task("tests.metrics.adds", args=(1, 2))
    producer.send_task("tests.metrics.adds", args=(1, 2), queue="other")
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    settings.METRICS_CELERY_QUEUES = ["celery", "other", "empty"]

    text = scrape(client)

    assert len(list(folders["queue"].iterdir())) == 4
    assert sample(text, "snailtrail_celery_queue_depth", queue="celery") == 3
    assert sample(text, "snailtrail_celery_queue_depth", queue="other") == 1
    assert 'snailtrail_celery_queue_depth{queue="empty"} 0.0' in text


def test_queue_depth_on_redis(client, settings, redis_url):
    import redis

    queue = f"snailtrail-test-metrics-{uuid.uuid4().hex[:8]}"
    connection = redis.Redis.from_url(redis_url)
    try:
        connection.lpush(queue, *[json.dumps({"n": n}) for n in range(3)])
        connection.lpush(f"{queue}\x06\x166", "a message of priority 6")
        settings.CELERY_BROKER_URL = redis_url
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
        settings.METRICS_CELERY_QUEUES = [queue]

        text = scrape(client)
    finally:
        connection.delete(queue, f"{queue}\x06\x166")
        connection.close()

    assert sample(text, "snailtrail_celery_queue_depth", queue=queue) == 4


def test_without_a_countable_broker_there_is_no_queue_depth(client):
    assert not has(scrape(client), "snailtrail_celery_queue_depth")  # the tests' memory:// broker


@pytest.mark.parametrize(
    "broker, options",
    [("redis://127.0.0.1:9/0", {}), ("filesystem://", {"data_folder_in": "/nonexistent/snailtrail/queue"})],
    ids=["redis-closed-port", "filesystem-missing-folder"],
)
def test_a_broken_broker_does_not_break_the_scrape(client, settings, broker, options, caplog):
    settings.CELERY_BROKER_URL = broker
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = options
    before = site_metrics.exposition().decode()

    text = scrape(client)

    assert not has(text, "snailtrail_celery_queue_depth")
    assert grown(before, text, "snailtrail_metrics_scrape_errors_total", source="queue_depth") == 1
    assert has(text, "snailtrail_check_lag_seconds") and has(text, "snailtrail_http_requests_total")
    assert "queue_depth left out of this scrape" in caplog.text


def test_a_database_error_leaves_the_check_gauges_out(client, monkeypatch):
    def broken(now=None):
        raise RuntimeError("database down")

    monkeypatch.setattr(ops_metrics, "check_figures", broken)

    text = scrape(client)

    assert not has(text, "snailtrail_check_lag_seconds") and not has(text, "snailtrail_checks_due")
    assert sample(text, "snailtrail_metrics_scrape_errors_total", source="checks") >= 1


# --- check lag ------------------------------------------------------------------------------------


def test_check_lag_is_how_late_the_most_overdue_enabled_check_is(client, team, scripted):  # noqa: F811
    from ops import services
    from ops.models import Check

    def make(key, **fields):
        return services.check_create(
            operation=team, name=f"check {key}", type=scripted.code, actor=None, params={"key": key}, **fields
        )

    now = timezone.now()
    overdue, later, off = make("overdue"), make("later"), make("off", enabled=False)
    Check.objects.filter(pk=overdue.pk).update(next_due_at=now - dt.timedelta(seconds=120))
    Check.objects.filter(pk=later.pk).update(next_due_at=now + dt.timedelta(minutes=5))
    Check.objects.filter(pk=off.pk).update(next_due_at=now - dt.timedelta(hours=3))

    text = scrape(client)

    assert 120 <= sample(text, "snailtrail_check_lag_seconds") < 180
    assert sample(text, "snailtrail_checks_due") == 1


def test_no_overdue_check_is_no_lag(client):
    text = scrape(client)
    assert "snailtrail_check_lag_seconds 0.0" in text and "snailtrail_checks_due 0.0" in text


# --- several processes ----------------------------------------------------------------------------

_RECORD = """
import django, os
django.setup()
from celery import shared_task
from django.test import Client
@shared_task(name="tests.metrics.mp")
def mp():
    return 1
assert Client().get("/healthz").status_code == 200
mp.delay()
print(os.getpid())
"""
_READ = "import django; django.setup()\nfrom core.metrics import exposition\nprint(exposition().decode())"


def test_worker_processes_writing_to_the_multiprocess_dir_are_added_up(tmp_path: Path):
    """Two processes (a web worker, a Celery worker: same code) record; a third one's scrape sums them."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "SNAILTRAIL_VAR_DIR": str(tmp_path / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }

    def run(code: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    pids = {run(_RECORD).strip() for _ in range(2)}
    started = time.monotonic()
    text = run(_READ)

    assert len(pids) == 2 and time.monotonic() - started < 30
    assert sample(text, HTTP, method="GET", route="healthz", status="200") == 2
    assert sample(text, "snailtrail_celery_tasks_total", task="tests.metrics.mp", state="success") == 2
