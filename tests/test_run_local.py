"""`make run`'s launcher, end to end on a fresh state directory: the app answers, the demo AWS
and the worker run the example's checks, and stopping it leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, free_port, fresh_database


def wait(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def check_statuses(database) -> dict[str, str]:
    try:
        with sqlite3.connect(database) as db:
            return dict(db.execute("SELECT name, status FROM ops_check"))
    except sqlite3.Error:
        return {}


def assert_the_demo_model_answers(base: str, var) -> None:
    """The demo user's token (from the documented token route) gets a prediction from `iris`."""
    password = (var / "demo-password").read_text().strip()
    credentials = json.dumps({"username": "demo", "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/auth/token/", credentials, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.load(response)["token"]
    row = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}]}
    request = urllib.request.Request(
        f"{base}/v2/models/iris/infer",
        json.dumps(row).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    assert answer["model_name"] == "iris" and answer["model_version"] == "1"
    assert answer["outputs"][0]["data"] == [0]


def test_make_run_serves_the_app_runs_the_demo_checks_and_stops_cleanly(tmp_path, migrated_sqlite):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DATABASE_URL", "REDIS_URL", "DJANGO_"))}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "SNAILTRAIL_VAR_DIR": str(tmp_path),
        "CHECK_DISPATCH_SECONDS": "2",
    }
    python = sys.executable
    fresh_database(migrated_sqlite, tmp_path)  # `make run` migrates first: the session's migrated copy
    port, moto_port = free_port(), free_port()
    launcher = subprocess.Popen(
        [python, "scripts/run_local.py", "--port", str(port), "--moto-port", str(moto_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait(lambda: answers(f"http://127.0.0.1:{port}/accounts/login/"), 90, "the app")
        assert_the_demo_model_answers(f"http://127.0.0.1:{port}", tmp_path)
        statuses = wait(
            lambda: (s := check_statuses(tmp_path / "snailtrail.sqlite3")) and "pending" not in s.values() and s,
            90,
            "the worker to run every demo check",
        )
        assert statuses["Service reachable from the internet"] == "fail"
        assert statuses["Subnet gives public IPs"] == "pass"
        assert statuses["ML endpoint iris answers"] == "pass"  # through the demo user's token
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=30)
        leftovers = subprocess.run(["pgrep", "-s", str(launcher.pid)], capture_output=True, text=True).stdout.split()
        if leftovers:
            os.killpg(launcher.pid, signal.SIGKILL)
        assert not leftovers, f"processes left behind: {leftovers}"
