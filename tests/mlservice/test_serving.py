"""Graceful degradation, recovery, and moving an alias while requests are being answered."""

from __future__ import annotations

import errno
import json
import shutil
import threading

import pytest
import requests
import skops.io
from rest_framework.authtoken.models import Token
from sklearn.linear_model import LogisticRegression

from mlservice import artifacts, registry, serving
from mlservice.models import ModelAlias, ModelVersion
from tests.conftest import join

ROW = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}]}


def infer(api):
    return api.post("/v2/models/iris/infer", json.dumps(ROW), content_type="application/json")


@pytest.fixture
def api(api, owner, workspace):
    """The owner's token, as an admin of the model's workspace: told why a version cannot be loaded
    (a member is told only that it cannot: tests/security/test_model_boundaries.py)."""
    join(workspace, owner, "admin")
    return api


@pytest.fixture
def second_artifact(tmp_path, iris):
    path = tmp_path / "second.skops"
    skops.io.dump(LogisticRegression(max_iter=500, C=0.5).fit(*iris), path)
    return path


@pytest.fixture
def broken_v2(workspace, served_iris, second_artifact, api):
    """v1 has served; v2 is registered, then its artifact disappears, then the alias moves to it."""
    assert infer(api).json()["model_version"] == "1"
    registry.register_version(workspace=workspace, name="iris", uri=str(second_artifact), version="2", trust=[])
    kept = second_artifact.with_suffix(".kept")
    shutil.move(second_artifact, kept)
    registry.alias_move(model="iris", alias="production", version="2")
    return second_artifact, kept


pytestmark = pytest.mark.django_db


def test_a_missing_artifact_falls_back_to_the_last_good_version_and_says_so(api, broken_v2):
    response = infer(api)

    assert response.status_code == 200
    answer = response.json()
    assert answer["model_version"] == "1"
    assert answer["parameters"]["degraded"] is True
    assert answer["parameters"]["served_version"] == "1"
    assert answer["parameters"]["wanted_version"] == "2"
    assert "no such file" in answer["parameters"]["reason"]
    ready = api.get("/v2/models/iris/ready").json()
    assert ready["ready"] is True and ready["parameters"]["degraded"] is True
    assert api.get("/v2/models/iris").json()["parameters"]["served_version"] == "1"


def test_it_recovers_by_itself_when_the_artifact_is_back(api, broken_v2, settings):
    path, kept = broken_v2
    settings.MLSERVICE_RETRY_SECONDS = 60
    assert infer(api).json()["parameters"]["degraded"] is True
    shutil.move(kept, path)
    assert infer(api).json()["model_version"] == "1"  # not tried again before the retry time

    settings.MLSERVICE_RETRY_SECONDS = 0
    answer = infer(api).json()

    assert answer["model_version"] == "2"
    assert "parameters" not in answer
    assert ModelAlias.objects.get(name="production").last_good.version == "2"


def test_a_failed_load_is_not_tried_on_every_request(api, broken_v2, settings, monkeypatch):
    settings.MLSERVICE_RETRY_SECONDS = 60
    fetches = []
    real_fetch = artifacts.fetch
    monkeypatch.setattr(artifacts, "fetch", lambda uri, dest: fetches.append(uri) or real_fetch(uri, dest))

    for _ in range(5):
        assert infer(api).json()["parameters"]["degraded"] is True

    assert len(fetches) <= 1


def test_a_fresh_process_falls_back_to_the_version_the_alias_recorded(api, broken_v2):
    serving.router.reset()  # as if this were a new worker: nothing in memory
    artifacts.forget_all()

    answer = infer(api).json()

    assert answer["model_version"] == "1" and answer["parameters"]["degraded"] is True


def test_a_checksum_mismatch_degrades(workspace, api, served_iris, second_artifact, pipeline_artifact):
    assert infer(api).status_code == 200
    registry.register_version(workspace=workspace, name="iris", uri=str(second_artifact), version="2", trust=[])
    shutil.copyfile(pipeline_artifact, second_artifact)  # someone replaced the file after registration
    registry.alias_move(model="iris", alias="production", version="2")

    answer = infer(api).json()

    assert answer["model_version"] == "1"
    assert "sha256" in answer["parameters"]["reason"]


def test_a_type_nobody_approved_degrades(workspace, api, served_iris, tmp_path, iris):
    import operator

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    path = tmp_path / "custom.skops"
    skops.io.dump(make_pipeline(FunctionTransformer(operator.neg), LogisticRegression(max_iter=500)).fit(*iris), path)
    assert infer(api).status_code == 200
    registry.register_version(workspace=workspace, name="iris", uri=str(path), version="2", trust=["_operator.neg"])
    ModelVersion.objects.filter(version="2").update(trusted_types=[])  # the approval was taken back
    registry.alias_move(model="iris", alias="production", version="2")

    answer = infer(api).json()

    assert answer["model_version"] == "1"
    assert "_operator.neg" in answer["parameters"]["reason"]


def test_an_unwritable_cache_degrades_instead_of_crashing(api, broken_v2, private_var_dir, monkeypatch):
    path, kept = broken_v2
    shutil.move(kept, path)

    def disk_full(source, dest):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", disk_full)
    answer = infer(api).json()

    assert answer["model_version"] == "1" and "No space left" in answer["parameters"]["reason"]


def test_a_cache_dir_others_can_write_degrades(api, broken_v2, private_var_dir):
    path, kept = broken_v2
    shutil.move(kept, path)
    (private_var_dir / "model-cache").chmod(0o777)

    answer = infer(api).json()

    assert answer["model_version"] == "1" and "mode 0777" in answer["parameters"]["reason"]


def test_nothing_to_fall_back_on_is_a_503_with_the_reason(api, served_iris, pipeline_artifact):
    pipeline_artifact.unlink()  # never loaded, and now gone

    response = infer(api)

    assert response.status_code == 503
    assert "no such file" in response.json()["error"]
    assert int(response["Retry-After"]) >= 0
    ready = api.get("/v2/models/iris/ready")
    assert ready.status_code == 503 and ready.json()["ready"] is False
    metadata = api.get("/v2/models/iris")
    assert metadata.status_code == 200 and metadata.json()["parameters"]["ready"] is False


def test_a_version_asked_for_by_name_does_not_fall_back(api, broken_v2):
    response = api.post("/v2/models/iris/versions/2/infer", json.dumps(ROW), content_type="application/json")

    assert response.status_code == 503
    assert "no such file" in response.json()["error"]


def test_a_registry_snapshot_is_reused_within_the_refresh_time(workspace, api, served_iris, second_artifact, settings):
    settings.MLSERVICE_REFRESH_SECONDS = 60
    assert infer(api).json()["model_version"] == "1"
    registry.register_version(workspace=workspace, name="iris", uri=str(second_artifact), version="2", trust=[])
    ModelAlias.objects.filter(name="production").update(version=ModelVersion.objects.get(version="2"))

    assert infer(api).json()["model_version"] == "1"  # another process moved it: seen at the next refresh
    serving.router.expire()
    assert infer(api).json()["model_version"] == "2"


@pytest.mark.django_db(transaction=True)
def test_moving_the_alias_under_load_fails_no_request(
    workspace, live_server, owner, settings, second_artifact, monkeypatch
):
    """Clients hammer the default route while the alias moves to a version that is slow to load:
    every answer is a 200, the old version answers while the new one loads, then the new one does."""
    settings.MLSERVICE_REFRESH_SECONDS = 0.05
    pipeline = registry.register_version(
        workspace=workspace, name="iris", uri=str(second_artifact), version="1", trust=[], alias="production"
    )
    newer = registry.register_version(workspace=workspace, name="iris", uri=str(second_artifact), version="2", trust=[])
    assert pipeline.sha256 == newer.sha256  # the same file: the test is about the switch, not the model
    token = Token.objects.create(user=owner).key
    loading, loaded = threading.Event(), threading.Event()
    real_load = artifacts.load

    def slow_load(version):
        if version.version == "2" and not loaded.is_set():
            loading.set()
            threading.Event().wait(0.5)  # a big model: half a second to load
            result = real_load(version)
            loaded.set()
            return result
        return real_load(version)

    monkeypatch.setattr(artifacts, "load", slow_load)
    answers: list[tuple[int, str | None, bool, bool]] = []  # status, version, during the load, degraded
    stop = threading.Event()

    def client():
        with requests.Session() as session:
            session.headers["Authorization"] = f"Token {token}"
            while not stop.is_set():
                during = loading.is_set() and not loaded.is_set()
                response = session.post(f"{live_server.url}/v2/models/iris/infer", json=ROW, timeout=10)
                body = response.json()
                degraded = bool(body.get("parameters", {}).get("degraded"))
                answers.append((response.status_code, body.get("model_version"), during, degraded))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        while sum(1 for a in answers if a[1] == "1") < 20:
            threading.Event().wait(0.01)
        registry.alias_move(model="iris", alias="production", version="2")
        assert loaded.wait(10)
        count = len(answers)
        while len(answers) < count + 40:
            threading.Event().wait(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)

    assert {status for status, *_ in answers} == {200}
    assert not any(degraded for *_, degraded in answers)
    assert any(version == "1" and during for _, version, during, _ in answers)  # served while v2 loaded
    assert [version for _, version, *_ in answers[-20:]] == ["2"] * 20
