"""The ML inference endpoint check (`inference_endpoint`) against the real app: a model served by
this instance, asked in process (no `url`), and pytest-django's live server serving mlservice's
Open Inference Protocol routes over HTTP (a `url`), with an iris model registered as the operators
do it. What passes, what fails and says why (404, degraded, too slow, malformed), what is an ERROR
and sends nothing (no owner, no token), that the in-process path meets the route's own permission
and throttle, and that the owner's token is sent but never shown, stored or logged. A small local
HTTP server stands in for answers the app never gives (a malformed body, a 401, a body that echoes
the token back) and counts the requests it gets. Another service's words never reach a run.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import skops.io
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from core import egress
from mlservice import access as ml_access
from mlservice import registry as ml_registry
from mlservice import serving
from ops import runner, services
from ops.checks import inference, registry
from ops.checks.base import ERROR, FAIL, PASS, CallLog, Observation, Target
from ops.forms import CheckForm
from ops.models import Check, CheckRun
from tests import cast
from tracker.models import Task

CODE = "inference_endpoint"
CRITERION = "All ML endpoints functional in production"
SETOSA, VIRGINICA = [5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]


# --- fixtures -----------------------------------------------------------------------------------------


# The live server runs in this process, so it serves with exactly the state this gives each test.
pytestmark = pytest.mark.usefixtures("fresh_mlservice")


@pytest.fixture(scope="session")
def iris_model() -> LogisticRegression:
    return LogisticRegression(max_iter=500).fit(*load_iris(return_X_y=True))


@pytest.fixture
def iris_artifact(tmp_path, iris_model):
    path = tmp_path / "iris-1.skops"
    skops.io.dump(iris_model, path)
    return path


@pytest.fixture
def served(transactional_db, iris_artifact, workspace):
    """`iris` version 1 with the `production` alias on it, a model of the team's workspace."""
    return ml_registry.register_version(
        name="iris", uri=str(iris_artifact), version="1", trust=[], alias="production", workspace=workspace
    )


class _Stub(BaseHTTPRequestHandler):
    """Answers the app never gives, by model name; every request is recorded on the server."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.requests.append(  # type: ignore[attr-defined]
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
        )
        model = self.path.split("/")[3] if self.path.startswith("/v2/models/") else ""
        infer = self.path.endswith("/infer")
        status, body = 200, {"name": model, "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}]}
        if model == "echo":  # a hostile or careless server: the request's credential in its error
            status, body = 400, {"error": f"bad request from {self.headers.get('Authorization')}"}
        elif model == "refused":
            status, body = 401, {"error": "The token is not valid."}
        elif model == "nometa" and not infer:
            body = {"name": model}
        elif model == "notjson" and infer:
            raw = b"<html>ok</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            return
        elif infer:
            name = "other" if model == "wrongname" else model
            rows = 0 if model == "short" else 1
            body = {
                "model_name": name,
                "model_version": "1",
                "outputs": [{"name": "predict", "datatype": "INT64", "shape": [rows], "data": [0] * rows}],
            }
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's names

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.daemon_threads = True
    server.requests = []  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_port}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# --- helpers ------------------------------------------------------------------------------------------


def no_aws(service: str):
    raise AssertionError(f"the inference check asked for an AWS client ({service})")


def run(*checks: tuple[dict[str, Any], int | None]) -> list[Observation]:
    """Clean each (params, owner id) as saving a check would and collect them as one group."""
    kind = registry.get(CODE)
    targets = []
    for number, (params, owner_id) in enumerate(checks, start=1):
        cleaned, expected = kind.clean(params, None)
        targets.append(Target(id=number, params=cleaned, expected=expected, owner_id=owner_id))
    calls = CallLog()
    observations = kind.collect(targets, client_for=no_aws, region="", calls=calls)
    assert set(observations) == {target.id for target in targets}
    assert calls.calls == []  # no AWS
    json.dumps([(o.observed, o.evidence) for o in observations.values()])  # what a run stores must be JSON
    return [observations[target.id] for target in targets]


def shown(observation: Observation) -> str:
    """Everything of an observation that is stored and shown."""
    return json.dumps([observation.status, observation.observed, observation.evidence, observation.message])


def clean_error(params: dict[str, Any], expected: Any = None) -> str:
    with pytest.raises(ValidationError) as caught:
        registry.get(CODE).clean(params, expected)
    return " ".join(message for messages in caught.value.message_dict.values() for message in messages)


def run_due() -> None:
    claim_id, groups = services.claim_due()
    for ids in groups.values():
        runner.run_group(claim_id=claim_id, check_ids=ids)


# --- passing ------------------------------------------------------------------------------------------


def test_it_passes_when_the_served_model_answers(live_server, served, owner, token):
    default, sampled = run(
        ({"url": live_server.url, "model": "iris"}, owner.pk),
        ({"url": live_server.url + "/", "model": "iris", "version": 1, "sample": [SETOSA, VIRGINICA]}, owner.pk),
    )

    assert (default.status, default.observed) == (PASS, "1")
    assert default.evidence == {
        "url": f"{live_server.url}/v2/models/iris/infer",
        "rows": 1,
        "status": 200,
        "elapsed_ms": default.evidence["elapsed_ms"],
        "model_version": "1",
        "degraded": False,
    }
    assert 0 <= default.evidence["elapsed_ms"] <= 1000
    assert default.message == f"iris version 1 answered 1 row in {default.evidence['elapsed_ms']} ms."
    assert (sampled.status, sampled.observed) == (PASS, "1"), sampled.message
    assert sampled.evidence["url"] == f"{live_server.url}/v2/models/iris/versions/1/infer"
    assert sampled.evidence["rows"] == 2 and "answered 2 rows" in sampled.message


def test_a_model_served_here_is_asked_in_process_without_a_socket(served, owner, token, monkeypatch):
    def no_socket(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model served here was asked over the network")

    monkeypatch.setattr(egress, "fetch", no_socket)
    default, sampled = run(
        ({"model": "iris"}, owner.pk),
        ({"model": "iris", "version": 1, "sample": [SETOSA, VIRGINICA]}, owner.pk),
    )

    assert (default.status, default.observed) == (PASS, "1"), default.message
    assert default.evidence == {
        "served_by": "this instance",
        "path": "/v2/models/iris/infer",
        "rows": 1,
        "status": 200,
        "elapsed_ms": default.evidence["elapsed_ms"],
        "model_version": "1",
        "degraded": False,
    }
    assert default.message == f"iris version 1 answered 1 row in {default.evidence['elapsed_ms']} ms."
    assert (sampled.status, sampled.observed) == (PASS, "1"), sampled.message
    assert sampled.evidence["path"] == "/v2/models/iris/versions/1/infer" and "answered 2 rows" in sampled.message


def test_in_process_the_owner_meets_the_routes_own_permission_and_throttle(served, owner, outsider, settings):
    stranger = Token.objects.create(user=outsider).key
    (refused,) = run(({"model": "iris", "sample": [SETOSA]}, outsider.pk))
    # A model of a workspace the owner is not in is, for them, a model that does not exist.
    assert (refused.status, refused.evidence["status"]) == (FAIL, 404)
    assert "There is no model named 'iris'" in refused.message and "owner outsider, who sees only" in refused.message
    assert stranger not in shown(refused)

    Token.objects.create(user=owner)
    settings.MLSERVICE_INFER_RATE = "1/min"
    ml_access.throttle.clear()
    cache.clear()  # the throttle's shared counts
    first, second = run(
        ({"model": "iris", "sample": [SETOSA]}, owner.pk), ({"model": "iris", "sample": [SETOSA]}, owner.pk)
    )
    assert first.status == PASS
    assert (second.status, second.evidence["status"]) == (FAIL, 429) and "Too many requests" in second.message
    ml_access.throttle.clear()


def test_a_saved_check_runs_with_its_creators_token_and_ticks_its_criterion(live_server, served, team, owner, token):
    criterion = Task.objects.get(operation=team, title=CRITERION)
    check = services.check_create(
        operation=team,
        name="iris answers",
        type=CODE,
        actor=owner,
        params={"url": live_server.url, "model": "iris"},
        expected=None,
        task=criterion,
    )
    assert check.created_by == owner and "token" not in json.dumps(check.params).lower()

    run_due()

    check.refresh_from_db()
    assert (check.status, check.observed) == ("pass", "1"), check.message
    criterion.refresh_from_db()
    assert criterion.done
    run = CheckRun.objects.get(live_check=check)
    stored = json.dumps([run.observed, run.evidence, run.message, run.calls, check.message])
    assert token not in stored and run.calls == []


def test_whoever_points_it_elsewhere_becomes_its_owner_and_sends_their_own_token(
    db, stub, team, owner, teammate, token
):
    """An editor who changes another user's check must not receive that user's token at their server."""
    check = services.check_create(
        operation=team, name="iris", type=CODE, actor=owner, params={"url": stub.url, "model": "iris"}, expected=None
    )
    mine = Token.objects.create(user=teammate).key

    services.check_update(check=check, actor=teammate, params={"url": stub.url, "model": "echo"})
    run_due()

    check.refresh_from_db()
    assert check.created_by == teammate
    sent = {r["headers"].get("Authorization") for r in stub.requests}
    assert sent == {f"Token {mine}"}


def test_an_unchanged_save_keeps_the_owner(db, team, owner, teammate):
    check = services.check_create(
        operation=team, name="iris", type=CODE, actor=owner, params={"url": "http://127.0.0.1:9", "model": "iris"}
    )

    services.check_update(check=check, actor=teammate, params=dict(check.params), name="iris endpoint")

    check.refresh_from_db()
    assert check.created_by == owner and check.name == "iris endpoint"


def test_the_pages_and_the_api_offer_it_and_record_the_creator(team, owner):
    assert (CODE, "ML inference endpoint answers") in registry.choices()
    form = CheckForm(operation=team)
    assert CODE in dict(form.fields["type"].choices)
    assert any(option["code"] == CODE and "token" in option["help"] for option in form.type_options)

    api = APIClient()
    api.force_authenticate(owner)
    response = api.post(
        f"/api/operations/{team.slug}/checks/",
        {"name": "ML", "type": CODE, "params": {"model": "iris"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    check = Check.objects.get(pk=response.json()["id"])
    assert check.created_by == owner
    assert check.params == {"model": "iris", "max_latency_ms": 1000, "timeout_seconds": 10}

    refused = api.post(
        f"/api/operations/{team.slug}/checks/",
        {"name": "ML", "type": CODE, "params": {"url": "http://169.254.169.254", "model": "iris"}},
        format="json",
    )
    assert refused.status_code == 400 and "link-local" in json.dumps(refused.json())


# --- validation ---------------------------------------------------------------------------------------


def test_it_cleans_the_parameters_with_their_defaults():
    assert registry.get(CODE).clean({"url": " http://ml.internal:8000/ ", "model": "iris"}, "") == (
        {"url": "http://ml.internal:8000", "model": "iris", "max_latency_ms": 1000, "timeout_seconds": 10},
        True,
    )
    cleaned, _ = registry.get(CODE).clean(
        {"url": "https://ml.example.com/prefix", "model": "iris", "version": "2", "sample": [[1, 2.5]]}, True
    )
    assert cleaned["version"] == "2" and cleaned["sample"] == [[1, 2.5]]
    # No URL, or an empty one: the model is served by this instance.
    for params in ({"model": "iris"}, {"url": "", "model": "iris"}, {"url": "  ", "model": "iris"}):
        assert registry.get(CODE).clean(params, None) == (
            {"model": "iris", "max_latency_ms": 1000, "timeout_seconds": 10},
            True,
        )


IRIS = {"model": "iris"}


@pytest.mark.parametrize(
    ("params", "expected", "message"),
    [
        ({"url": "ftp://ml.example.com", "model": "iris"}, None, "url: must start with http"),
        ({"url": "http://169.254.169.254", "model": "iris"}, None, "link-local"),
        ({"url": "http://[fe80::1]:8000", "model": "iris"}, None, "link-local"),
        ({"url": "http://a:b@ml.example.com", "model": "iris"}, None, "user name or password"),
        ({"url": "http://ml.example.com/v2/models/iris", "model": "iris"}, None, "before /v2"),
        ({"url": "http://ml.example.com/?x=1", "model": "iris"}, None, "no ?query"),
        ({"url": "http://[::ffff:127.0.0.1]:8000", "model": "iris"}, None, "wrapping a loopback address"),
        ({"url": "http://ml.example.com"}, None, "model: this parameter is required"),
        ({**IRIS, "model": "iris/../x"}, None, "not a model name"),
        ({**IRIS, "version": "1/infer"}, None, "not a version label"),
        ({**IRIS, "version": ".."}, None, "not a version label"),
        ({**IRIS, "sample": []}, None, "sample: a list of rows"),
        ({**IRIS, "sample": [1, 2, 3, 4]}, None, "sample: a list of rows"),
        ({**IRIS, "sample": "1,2,3,4"}, None, "sample: a list of rows"),
        ({**IRIS, "sample": [[]]}, None, "sample: a row is empty"),
        ({**IRIS, "sample": [[1, 2], [1]]}, None, "different lengths"),
        ({**IRIS, "sample": [["a", 1]]}, None, "finite numbers only"),
        ({**IRIS, "sample": [[True, 1]]}, None, "finite numbers only"),
        ({**IRIS, "sample": [[float("nan"), 1]]}, None, "finite numbers only"),
        ({**IRIS, "sample": [[1]] * 101}, None, "at most 100 rows"),
        ({**IRIS, "max_latency_ms": 0}, None, "max_latency_ms: must be from 1 to 30000"),
        ({**IRIS, "max_latency_ms": 30001}, None, "max_latency_ms: must be from 1 to 30000"),
        ({**IRIS, "max_latency_ms": "fast"}, None, "max_latency_ms: must be a whole number"),
        ({**IRIS, "timeout_seconds": 31}, None, "timeout_seconds: must be more than 0 and at most 30"),
        ({**IRIS, "token": "abc"}, None, "Unknown parameter token"),
        (IRIS, False, "leave the expected value empty or true"),
    ],
)
def test_it_refuses_bad_parameters_when_saved(params, expected, message):
    assert message in clean_error(params, expected)


# --- failing ------------------------------------------------------------------------------------------


def test_an_unknown_model_or_version_fails_naming_the_404(live_server, served, owner, token):
    metadata, infer, version, here = run(
        ({"url": live_server.url, "model": "nope"}, owner.pk),
        ({"url": live_server.url, "model": "nope", "sample": [SETOSA]}, owner.pk),
        ({"url": live_server.url, "model": "iris", "version": "9", "sample": [SETOSA]}, owner.pk),
        ({"model": "iris", "version": "9", "sample": [SETOSA]}, owner.pk),
    )

    assert statuses([metadata, infer, version, here]) == [FAIL, FAIL, FAIL, FAIL]
    # Over HTTP, the status is what is kept: another service's words are not (this one is ours,
    # but a URL is just a URL).
    assert metadata.message == (
        f"GET {live_server.url}/v2/models/nope (the model's metadata, for the sample's width) answered 404."
    )
    assert infer.message == f"POST {live_server.url}/v2/models/nope/infer answered 404."
    assert infer.evidence["status"] == 404 and infer.observed is None
    assert version.message == f"POST {live_server.url}/v2/models/iris/versions/9/infer answered 404."
    # In process, the words are this instance's own: shown.
    assert "POST /v2/models/iris/versions/9/infer answered 404: Model 'iris' has no version '9'" in here.message


def test_a_degraded_model_fails_with_the_versions_and_the_reason(
    live_server, served, owner, token, iris_artifact, workspace
):
    here, remote = ({"model": "iris"}, owner.pk), ({"url": live_server.url, "model": "iris"}, owner.pk)
    assert statuses(run(here)) == [PASS]  # version 1 has answered well: the fallback
    second = iris_artifact.with_name("iris-2.skops")
    shutil.copyfile(iris_artifact, second)
    ml_registry.register_version(name="iris", uri=str(second), version="2", trust=[], workspace=workspace)
    second.unlink()  # version 2 cannot be loaded
    ml_registry.alias_move(model="iris", alias="production", version="2")

    degraded, over_http = run(here, remote)

    for observation in (degraded, over_http):
        assert (observation.status, observation.observed) == (FAIL, "1")
        assert observation.evidence["degraded"] is True
        assert (observation.evidence["served_version"], observation.evidence["wanted_version"]) == ("1", "2")
        assert observation.message.startswith("iris: degraded: version 1 answered instead of 2 (")
    # Why is this instance's word in process; over HTTP it is another service's, not kept.
    assert isinstance(degraded.evidence["reason"], str) and degraded.evidence["reason"] in degraded.message
    assert "reason" not in over_http.evidence and "(no reason given)" in over_http.message


def test_a_slow_answer_fails_with_the_time_it_took(live_server, served, owner, token, monkeypatch):
    predict = serving.Served.predict

    def slow(*args: Any) -> Any:
        time.sleep(0.3)
        return predict(*args)

    monkeypatch.setattr(serving.Served, "predict", slow)  # the live server answers from this process
    slow_one, patient, slow_here = run(
        ({"url": live_server.url, "model": "iris", "max_latency_ms": 100}, owner.pk),
        ({"url": live_server.url, "model": "iris", "max_latency_ms": 5000}, owner.pk),
        ({"model": "iris", "max_latency_ms": 100}, owner.pk),
    )

    for too_slow in (slow_one, slow_here):
        assert (too_slow.status, too_slow.observed) == (FAIL, "1")
        elapsed = too_slow.evidence["elapsed_ms"]
        assert elapsed >= 300
        assert too_slow.message == f"iris: too slow: {elapsed} ms, more than the 100 ms allowed."
    assert patient.status == PASS


def test_a_malformed_answer_fails_saying_what_is_wrong(db, stub, owner, token):
    observations = run(
        *(({"url": stub.url, "model": model}, owner.pk) for model in ("wrongname", "short", "notjson", "nometa"))
    )

    assert statuses(observations) == [FAIL] * 4
    wrong_name, short, not_json, no_metadata = (o.message for o in observations)
    assert "the answer is malformed: its model_name is not 'wrongname'" in wrong_name
    assert "other" not in wrong_name  # what the service said instead is not repeated
    assert "the answer is malformed: the predict output has 0 rows for the 1 sent" in short
    assert "the answer is malformed: it is not JSON" in not_json
    assert "metadata is malformed" in no_metadata and "give the check a sample" in no_metadata


def test_a_connection_failure_fails_like_http_endpoint(db, owner, token):
    with ThreadingHTTPServer(("127.0.0.1", 0), _Stub) as closed:
        port = closed.server_port  # bound, never listened on after this block
    (refused,) = run(({"url": f"http://127.0.0.1:{port}", "model": "iris", "sample": [SETOSA]}, owner.pk))
    assert (refused.status, refused.error_code) == (FAIL, "ConnectionError")
    assert "connection refused" in refused.message


# --- errors, and the token ----------------------------------------------------------------------------


def test_without_a_usable_owner_token_it_errors_and_sends_nothing(db, stub, django_user_model):
    viewer = cast.make("viewer")  # has no API token
    gone = django_user_model.objects.create_user(username="gone", is_active=False)
    Token.objects.create(user=gone)
    params = {"url": stub.url, "model": "iris"}

    nobody, no_token, inactive, deleted = run((params, None), (params, viewer.pk), (params, gone.pk), (params, 10**9))

    assert statuses([nobody, no_token, inactive, deleted]) == [ERROR] * 4
    assert (nobody.error_code, deleted.error_code) == ("NoOwner", "NoOwner")
    assert "no owner whose API token it could send" in nobody.message
    assert no_token.error_code == "NoToken"
    assert no_token.message.startswith("The check's owner viewer has no API token; get one with POST /api/auth/token/")
    assert inactive.error_code == "OwnerInactive" and "gone is deactivated" in inactive.message
    assert stub.requests == []  # type: ignore[attr-defined]


def test_the_token_is_sent_but_never_shown_stored_or_logged(live_server, served, stub, owner, token, caplog):
    caplog.set_level(logging.DEBUG)
    observations = run(
        ({"url": live_server.url, "model": "iris"}, owner.pk),
        ({"url": live_server.url, "model": "nope", "sample": [SETOSA]}, owner.pk),
        ({"url": stub.url, "model": "echo", "sample": [SETOSA]}, owner.pk),
        ({"url": stub.url, "model": "refused", "sample": [SETOSA]}, owner.pk),
    )

    assert statuses(observations) == [PASS, FAIL, FAIL, ERROR]
    sent = [request["headers"].get("Authorization") for request in stub.requests]  # type: ignore[attr-defined]
    assert sent == [f"Token {token}", f"Token {token}"]
    echoed = observations[2]
    assert echoed.message.endswith("/v2/models/echo/infer answered 400.")  # what it said is not kept
    refused = observations[3]
    assert refused.error_code == "Unauthorized" and "the check's owner owner" in refused.message
    for observation in observations:
        assert token not in shown(observation)
    assert caplog.records and token not in caplog.text


def test_link_local_addresses_are_refused_when_saved_and_when_run(db, stub, owner, token, monkeypatch):
    assert "link-local" in clean_error({"url": "http://169.254.169.254/", "model": "iris"})
    # A name that resolves to the metadata service is refused before any connection (and any token).
    metadata = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: metadata)
    (refused,) = run(({"url": f"http://localhost:{stub.server_port}", "model": "iris"}, owner.pk))
    assert (refused.status, refused.error_code) == (ERROR, "TargetRefused")
    assert stub.requests == []  # type: ignore[attr-defined]


def test_a_crash_inside_one_probe_is_that_checks_error_without_the_token(db, owner, token, monkeypatch):
    def crash(**params: Any) -> Observation:
        raise RuntimeError(f"unexpected, holding {params['token']}")

    monkeypatch.setattr(inference, "probe", crash)
    (crashed,) = run(({"url": "http://127.0.0.1:9", "model": "iris"}, owner.pk))
    assert (crashed.status, crashed.error_code) == (ERROR, "RuntimeError")
    assert token not in shown(crashed) and "[token]" in crashed.message


# --- the demo -----------------------------------------------------------------------------------------


def test_the_demo_checks_iris_served_here_in_process_for_the_criterion(aws, served, example_operation):
    from django.contrib.auth import get_user_model

    demo = get_user_model().objects.create_superuser(username="demo", password="demo-password")
    call_command("demo_checks")
    call_command("demo_checks")  # idempotent

    assert Check.objects.filter(operation=example_operation).count() == 10
    check = Check.objects.get(operation=example_operation, type=CODE)
    # No URL: the app's own address is loopback, which no check reaches; it is asked in process.
    assert "url" not in check.params and check.params["model"] == "iris"
    assert check.created_by == demo and Token.objects.filter(user=demo).exists()
    assert (check.environment, check.region) == (None, "")
    assert check.task.title == CRITERION

    run_due()

    check.refresh_from_db()
    assert check.status == "pass", check.message
    assert Task.objects.get(pk=check.task_id).done


def test_the_demo_can_check_another_deployment_and_refuses_a_bad_base_url(aws, live_server, served, example_operation):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser(username="demo", password="demo-password")
    call_command("demo_checks", base_url=live_server.url)
    assert Check.objects.get(operation=example_operation, type=CODE).params["url"] == live_server.url

    with pytest.raises(CommandError, match="link-local"):
        call_command("demo_checks", base_url="http://169.254.169.254")


def statuses(observations: list[Observation]) -> list[str]:
    return [observation.status for observation in observations]
