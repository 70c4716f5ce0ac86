"""A Celery worker's own /metrics (core/worker_metrics.py): a real worker's pool processes are
added up; the endpoint keeps web's rules on who may read it; a missing directory is refused."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from prometheus_client.parser import text_string_to_metric_families

from core import worker_metrics
from tests.conftest import ROOT, free_port, wait_for
from tests.reliability.harness import Workers

TASK = "celery.accumulate"  # one of Celery's own tasks: no database, no broker of ours needed
SEND = (
    "import django\ndjango.setup()\nfrom config.celery_app import app\nfor n in range(6): app.send_task({task!r}, [n])"
)


def successes(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "snailtrail_celery_tasks_total" and sample.labels == {"task": TASK, "state": "success"}:
                return sample.value
    return 0.0


def test_a_worker_serves_the_sum_of_its_pool_processes(tmp_path: Path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_999999.db").write_bytes(b"a previous run's samples")
    port = free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",  # the filesystem broker: no server needed
        "SNAILTRAIL_VAR_DIR": str(tmp_path / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "WORKER_METRICS_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    workers = Workers(env, tmp_path)

    def scrape() -> requests.Response | None:
        try:
            return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        except requests.ConnectionError:
            return None

    try:
        workers.start("metrics", 2)  # the pool's two processes, each writing its own files
        assert scrape().status_code == 200
        assert not (directory / "counter_999999.db").exists()  # emptied at start
        send = SEND.format(task=TASK)
        subprocess.run([sys.executable, "-c", send], cwd=ROOT, env=env, check=True, timeout=60)

        response = wait_for(
            "six successes in the worker's /metrics",
            lambda: (r := scrape()) and successes(r.text) == 6 and r,
            logs=workers.logs,
        )
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        pids = {path.name for path in directory.glob("*.db")}
        assert len(pids) >= 2  # the pool's processes wrote, each its own files; the scrape added them up
        assert requests.post(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 405
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 404
    finally:
        workers.stop_all()


def call(path="/metrics", method="GET", address="127.0.0.1", authorization=None, **headers) -> tuple[str, bytes]:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "REMOTE_ADDR": address, "wsgi.input": io.BytesIO()}
    environ |= headers
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    answered = {}
    body = b"".join(worker_metrics.application(environ, lambda status, headers: answered.update(status=status)))
    return answered["status"], body


def test_only_allowed_networks_read_it(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    assert call(address="10.1.2.3")[0] == "200 OK"
    assert call(address="192.0.2.7")[0] == "403 Forbidden"
    assert call(address="not an address")[0] == "403 Forbidden"
    assert call(address="10.1.2.3", HTTP_X_FORWARDED_FOR="192.0.2.7")[0] == "403 Forbidden"  # through a proxy


def test_with_a_token_set_it_needs_the_token_from_any_address(settings):
    settings.METRICS_TOKEN = "scrape-secret"
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]

    assert call()[0] == "403 Forbidden"  # even from an allowed network
    assert call(authorization="Bearer wrong")[0] == "403 Forbidden"
    assert call(authorization="Basic scrape-secret")[0] == "403 Forbidden"
    status, body = call(address="192.0.2.7", authorization="Bearer scrape-secret")
    assert status == "200 OK"
    assert b"scrape-secret" not in body


def test_a_port_without_a_directory_of_its_own_is_refused(settings, monkeypatch):
    settings.WORKER_METRICS_PORT = 0
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)

    with pytest.raises(ImproperlyConfigured, match="PROMETHEUS_MULTIPROC_DIR"):
        worker_metrics.start()


def test_off_unless_a_port_is_set(settings, monkeypatch):
    settings.WORKER_METRICS_PORT = None
    served = []
    monkeypatch.setattr(worker_metrics, "serve", lambda *args: served.append(args))

    worker_metrics.start()

    assert served == []
