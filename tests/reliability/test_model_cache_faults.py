"""The model cache's disk fills up or turns read-only under a serving process: degraded, not crashed.

The cache is a real filesystem of its own: a tmpfs mounted for the test (this needs root, as CI has;
elsewhere the test skips), so the errors are the kernel's own: ENOSPC when it is filled to the
last byte, EROFS when it is remounted read-only. A real gunicorn (one sync worker) serves `iris`;
its `production` alias moves to a version that must be copied into the cache to be loaded.

While the disk is full or read-only: the previous version answers, every answer says degraded and
why, the worker is the same process, and no partial file is left in the cache. Once the disk takes
writes again, the new version is served within a retry period, with nothing done by hand.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import skops.io
from rest_framework.authtoken.models import Token
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlservice import registry
from tests.conftest import join
from tests.reliability.harness import Gunicorn, children, gunicorn, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RETRY_SECONDS = 1  # MLSERVICE_RETRY_SECONDS: how soon a version that failed to load is tried again
ROW = [[5.1, 3.5, 1.4, 0.2]]


def mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, private to us (the cache refuses a directory others can enter)."""
    path = tmp_path / "model-cache"
    path.mkdir(mode=0o700)
    mounted = mount("-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(path))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], timeout=30)


@pytest.fixture
def artifacts(tmp_path: Path) -> list[Path]:
    """Three versions of an iris classifier, each a different file (so each is fetched on its own)."""
    X, y = load_iris(return_X_y=True)
    paths = []
    for n, c in enumerate((1.0, 0.5, 0.25), start=1):
        path = tmp_path / f"iris-{n}.skops"
        skops.io.dump(make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)).fit(X, y), path)
        paths.append(path)
    return paths


@pytest.fixture
def server(postgres, tmp_path: Path, cache: Path) -> Iterator[Gunicorn]:
    with gunicorn(tmp_path, MLSERVICE_CACHE_DIR=str(cache), MLSERVICE_RETRY_SECONDS=str(RETRY_SECONDS)) as served:
        yield served


def infer(server: Gunicorn, token: str) -> dict:
    body = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": ROW}]}
    status, _headers, answer = server.request("POST", "/v2/models/iris/infer", body, Authorization=f"Token {token}")
    assert status == 200, answer
    import json

    return json.loads(answer)


def fill(cache: Path) -> Path:
    """Write until the filesystem says ENOSPC; the file that filled it."""
    filler = cache / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(descriptor, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(descriptor)
    return filler


def served(answer: dict) -> tuple[str, bool, str]:
    parameters = answer.get("parameters", {})
    return answer["model_version"], bool(parameters.get("degraded")), parameters.get("reason", "")


def test_a_full_then_read_only_cache_degrades_to_the_last_good_version_and_recovers(
    server, cache, artifacts, owner, workspace
):
    join(workspace, owner, "admin")  # the reasons name the cache's paths: its workspace's admins read them
    token = Token.objects.create(user=owner).key
    registry.register_version(
        workspace=workspace, name="iris", uri=str(artifacts[0]), version="1", trust=[], alias="production"
    )
    assert served(infer(server, token)) == ("1", False, "")  # copied into the cache and loaded
    (worker,) = children(server.process.pid)

    # Full: the new version cannot be copied in, the one in memory goes on answering.
    filler = fill(cache)
    registry.register_version(workspace=workspace, name="iris", uri=str(artifacts[1]), version="2", trust=[])
    registry.alias_move(model="iris", alias="production", version="2")
    version, degraded, reason = served(infer(server, token))
    assert (version, degraded) == ("1", True) and "No space left on device" in reason, reason
    assert not list(cache.glob("*.partial")), "a partial copy was left in the full cache"
    # Space again: the next retry loads version 2.
    filler.unlink()
    wait_for("version 2 once the disk has room", lambda: served(infer(server, token)) == ("2", False, ""))

    # Read-only: the same, with the kernel's other answer.
    assert mount("-o", "remount,ro", str(cache)).returncode == 0
    registry.register_version(workspace=workspace, name="iris", uri=str(artifacts[2]), version="3", trust=[])
    registry.alias_move(model="iris", alias="production", version="3")
    version, degraded, reason = served(infer(server, token))
    assert (version, degraded) == ("2", True) and "Read-only file system" in reason, reason
    status, _headers, _body = server.request("GET", "/v2/health/live")
    assert status == 200
    assert mount("-o", "remount,rw", str(cache)).returncode == 0
    wait_for("version 3 once the disk takes writes", lambda: served(infer(server, token)) == ("3", False, ""))

    assert children(server.process.pid) == [worker]  # never crashed, never replaced
    assert "Traceback" not in server.output().split("Booting worker", 1)[1]
