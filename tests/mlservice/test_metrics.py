"""Metrics: what is counted, who may read `/metrics`, the sums across gunicorn workers, the panel."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from core.metrics import exposition
from mlservice import metrics
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROW = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}]}

pytestmark = pytest.mark.django_db


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def post(api, payload, url="/v2/models/iris/infer"):
    return api.post(url, json.dumps(payload), content_type="application/json")


def test_it_counts_requests_rows_errors_and_latency(api, served_iris):
    before = exposition().decode()
    batch = {"inputs": [{"name": "input-0", "shape": [3, 4], "datatype": "FP64", "data": [[1, 2, 3, 4]] * 3}]}
    assert post(api, batch).status_code == 200
    assert post(api, {"inputs": []}).status_code == 400
    assert post(api, ROW, url="/v2/models/nope/infer").status_code == 404

    after = exposition().decode()

    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("mlservice_requests_total", model="iris", version="1") == 2
    assert grew("mlservice_rows_total", model="iris", version="1") == 3
    assert grew("mlservice_errors_total", model="iris", version="1", kind="bad_input") == 1
    assert grew("mlservice_errors_total", model="(unknown)", version="(unknown)", kind="not_found") == 1
    assert grew("mlservice_request_duration_seconds_count", model="iris", version="1") == 1
    assert 'model="nope"' not in after  # a name from a request is never a label


def test_quantiles_interpolate_within_buckets():
    stats = metrics.VersionStats(buckets=[(0.001, 50.0), (0.002, 90.0), (0.005, 100.0), (float("inf"), 100.0)])

    assert stats.quantile(0.5) == pytest.approx(0.001)
    assert stats.quantile(0.7) == pytest.approx(0.0015)
    assert stats.quantile(0.95) == pytest.approx(0.0035)
    assert metrics.VersionStats().quantile(0.5) is None


def test_metrics_are_for_allowed_addresses_only(client, settings):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403 and "error" in response.json()


def test_a_request_through_a_proxy_is_never_local(client, settings):
    """Behind nginx on the same host every visitor comes from loopback: the proxy's X-Forwarded-For
    tells them apart from a scraper that asks directly. With a token, the token alone decides."""
    forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}

    assert client.get("/metrics", **forwarded).status_code == 403
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret", **forwarded).status_code == 200


def test_with_a_token_set_metrics_need_it(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"

    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


def test_the_dashboard_shows_the_ml_panel_with_its_chart(owner_client, team, example_operation, served_iris, api):
    served_iris.model.operation = example_operation
    served_iris.model.save()
    for _ in range(3):
        assert post(api, ROW).status_code == 200

    page = owner_client.get(f"/operations/{example_operation.slug}/").content.decode()

    assert "🧠 ML endpoints" in page
    assert 'id="ml-iris-1"' in page and "✅ serving v1" in page
    assert "production: v1" in page and "(production)" in page  # the alias by its name, as the API says it
    assert 'data-chart="ml-latency"' in page
    figures = json.loads(re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page, re.S)[1])
    assert figures["ml-latency"]["data"][0]["name"] == "iris v1"


def test_the_panel_shows_a_degraded_model(
    workspace, owner_client, team, example_operation, served_iris, api, tmp_path, iris
):
    import skops.io
    from sklearn.linear_model import LogisticRegression

    from mlservice import registry

    served_iris.model.operation = example_operation
    served_iris.model.save()
    assert post(api, ROW).status_code == 200
    path = tmp_path / "v2.skops"
    skops.io.dump(LogisticRegression(max_iter=500).fit(*iris), path)
    registry.register_version(
        workspace=workspace, name="iris", uri=str(path), version="2", trust=[], alias="production"
    )
    path.unlink()

    page = owner_client.get(f"/operations/{example_operation.slug}/").content.decode()

    # The owner is a member of the model's workspace, not an admin: told that, not the path.
    assert "⚠️ degraded: serving v1" in page and "its workspace admins can see why" in page
    assert "no such file" not in page and str(path) not in page


def test_an_operation_without_models_has_no_ml_panel(owner_client, team, example_operation, served_iris):
    assert "🧠 ML endpoints" not in owner_client.get(f"/operations/{example_operation.slug}/").content.decode()


def test_an_outsider_sees_no_panel(client, outsider, team, example_operation, served_iris):
    served_iris.model.operation = example_operation
    served_iris.model.save()
    client.force_login(outsider)
    assert client.get(f"/operations/{example_operation.slug}/").status_code == 404


# --- several processes ----------------------------------------------------------------------


def _setup_script(artifact: Path) -> str:
    return f"""
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from mlservice import registry
from tracker.models import Workspace, WorkspaceMembership
user = get_user_model().objects.create_user("scraper", password="x-unused-x")
workspace = Workspace.objects.create(name="Team", slug="team")
WorkspaceMembership.objects.create(workspace=workspace, user=user)
registry.register_version(
    name="iris", uri={str(artifact)!r}, version="1", trust=[], workspace=workspace, alias="production"
)
print(Token.objects.create(user=user).key)
"""


@pytest.mark.django_db(False)
def test_metrics_add_up_across_gunicorn_workers(tmp_path, pipeline_artifact):
    """Two gunicorn workers answer; whichever serves `/metrics` reports both workers' requests."""
    var = tmp_path / "served"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env |= {"SNAILTRAIL_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    manage = [str(BIN / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    token = (
        subprocess.run(
            [*manage, "shell", "-c", _setup_script(pipeline_artifact)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "config/gunicorn.conf.py", "--workers", "2", "--bind", f"127.0.0.1:{port}"]
        + ["--access-logfile", "/dev/null", "config.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # two workers importing the app on a busy machine
        while True:
            try:
                if requests.get(f"{base}/v2/health/live", timeout=5).ok:
                    break
            except requests.RequestException:  # not listening yet, or still importing the app
                pass
            assert time.monotonic() < deadline, server.stderr.read1().decode() if server.poll() is not None else ""
            time.sleep(0.1)

        def one(_):
            response = requests.post(
                f"{base}/v2/models/iris/infer", json=ROW, headers={"Authorization": f"Token {token}"}, timeout=10
            )
            return response.status_code

        sent = 0
        prometheus_dir = var / "prometheus"
        with ThreadPoolExecutor(8) as pool:
            while True:
                statuses = list(pool.map(one, range(40)))
                assert set(statuses) == {200}
                sent += len(statuses)
                pids = {p.stem.rsplit("_", 1)[-1] for p in prometheus_dir.glob("counter_*.db")}
                if len(pids) >= 2 or sent >= 400:
                    break
        assert len(pids) >= 2, "only one worker answered; cannot show the sum"

        text = requests.get(f"{base}/metrics", timeout=10).text
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)

    assert sample(text, "mlservice_requests_total", model="iris", version="1") == sent
    assert sample(text, "mlservice_request_duration_seconds_count", model="iris", version="1") == sent
    assert sample(text, "mlservice_rows_total", model="iris", version="1") == sent


def test_an_open_dashboard_with_models_is_redrawn_as_figures_change(
    owner_client, team, example_operation, served_iris, monkeypatch
):
    """The ML panel's figures change without the operation changing: its ETag moves with the clock."""
    from mlservice import panels

    served_iris.model.operation = example_operation
    served_iris.model.save()
    url = f"/operations/{example_operation.slug}/"
    now = [time.time() // panels.FRESHNESS_SECONDS * panels.FRESHNESS_SECONDS + 1]  # early in a period
    monkeypatch.setattr(panels.time, "time", lambda: now[0])
    etag = owner_client.get(url)["ETag"]
    assert owner_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    now[0] += panels.FRESHNESS_SECONDS

    assert owner_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
