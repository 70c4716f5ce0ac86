"""The request id (core/request_id.py): the X-Request-ID header, the JSON log lines that carry
it, and the Celery tasks a request queues, which log with the same id.

The views and the task here are the test's own (this module is the URLconf of the tests that use
`@pytest.mark.urls(__name__)`), so what is logged is known. The JSON lines are read from the real
console handler of the root logger (its filter, and the real `json` formatter of LOGGING), its
stream swapped for a buffer.
"""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from rest_framework.test import APIClient

from config.celery_app import app as celery_app
from core import request_id as rid
from tests.test_settings import run_python

log = logging.getLogger("tests.request_id")
GENERATED = re.compile(r"[0-9a-f]{32}")


# --- a view that logs, one that fails, one that queues a task, and the task ---------------------


@celery_app.task(name="tests.request_id.log_in_a_task", ignore_result=True)
def log_in_a_task(word: str) -> None:
    log.info("in the task: %s", word)


def logs(request):
    log.info("in the view")
    return HttpResponse("ok")


def fails(request):
    try:
        raise ValueError("no luck")
    except ValueError:
        log.exception("it failed")
    return HttpResponse("handled")


def queues(request):
    log.info("queueing")
    log_in_a_task.delay("hello")
    return HttpResponse("queued")


urlpatterns = [path("logs", logs), path("fails", fails), path("queues", queues)]


# --- the console handler, in JSON ----------------------------------------------------------------


def json_formatter() -> logging.Formatter:
    """The `json` formatter exactly as LOGGING declares it."""
    configurator = logging.config.DictConfigurator({})
    return configurator.configure_formatter(dict(settings.LOGGING["formatters"]["json"]))


@pytest.fixture
def json_lines() -> Iterator[callable]:
    """The root console handler writing JSON into a buffer; call the fixture for the parsed lines."""
    [console] = [h for h in logging.getLogger().handlers if any(isinstance(f, rid.RequestIdFilter) for f in h.filters)]
    root = logging.getLogger()
    buffer = io.StringIO()
    old_stream, old_formatter, old_level = console.setStream(buffer), console.formatter, root.level
    console.setFormatter(json_formatter())
    root.setLevel(logging.DEBUG)  # everything anything logs, to be sure of what is not there
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        console.setStream(old_stream)
        console.setFormatter(old_formatter)
        root.setLevel(old_level)


def text_of(lines: list[dict]) -> str:
    return "\n".join(json.dumps(line) for line in lines)


# --- the header ----------------------------------------------------------------------------------


def test_a_valid_incoming_id_is_kept_and_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-1.2_3-ABC")

    assert response["X-Request-ID"] == "lb-1.2_3-ABC"
    assert rid.get_request_id() is None  # reset once the request is over


def test_without_one_an_id_is_generated_per_request(client):
    first, second = client.get("/healthz")["X-Request-ID"], client.get("/healthz")["X-Request-ID"]

    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second) and first != second


@pytest.mark.parametrize(
    "value",
    ["abc\ndef", "abc\n", "abc\r\nX-Injected: 1", "a" * 500, "a" * 65, "with spaces", "", "ümlaut", "a;b", "{json}"],
)
def test_a_malformed_incoming_id_is_replaced(client, value):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=value)

    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_the_middleware_is_the_first():
    assert settings.MIDDLEWARE[0] == "core.request_id.RequestIdMiddleware"
    # Second the metrics (core/metrics.py), which time the whole stack after it.
    assert settings.MIDDLEWARE[1:3] == [
        "core.metrics.MetricsMiddleware",
        "django.middleware.security.SecurityMiddleware",
    ]


# --- the JSON lines ------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_line_logged_in_a_request_is_json_with_its_id(client, json_lines):
    response = client.get("/logs", HTTP_X_REQUEST_ID="req-42")

    [line] = [line for line in json_lines() if line["logger"] == "tests.request_id"]
    assert line["message"] == "in the view" and line["level"] == "INFO"
    assert line["request_id"] == "req-42" == response["X-Request-ID"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", line["timestamp"])
    assert "exc_info" not in line


def test_a_line_outside_a_request_has_no_request_id(json_lines):
    log.warning("on its own")

    [line] = [line for line in json_lines() if line["logger"] == "tests.request_id"]
    assert line["message"] == "on its own" and "request_id" not in line


@pytest.mark.urls(__name__)
def test_an_exception_is_in_exc_info_as_a_string(client, json_lines):
    client.get("/fails", HTTP_X_REQUEST_ID="req-43")

    [line] = [line for line in json_lines() if line["logger"] == "tests.request_id"]
    assert line["level"] == "ERROR" and line["request_id"] == "req-43"
    assert isinstance(line["exc_info"], str)
    assert line["exc_info"].startswith("Traceback") and "ValueError: no luck" in line["exc_info"]


def test_neither_the_password_nor_the_token_is_logged(db, viewer, json_lines):
    api = APIClient()
    wrong = api.post("/api/auth/token/", {"username": "viewer", "password": "wrong-password-s3cr3t"}, format="json")
    right = api.post("/api/auth/token/", {"username": "viewer", "password": "viewer-password"}, format="json")

    assert wrong.status_code == 400 and right.status_code == 200
    token = right.json()["token"]
    lines = json_lines()
    # The refused attempt is logged (django.request's warning), with its id and without its body.
    assert any(line["logger"] == "django.request" and line.get("request_id") == wrong["X-Request-ID"] for line in lines)
    written = text_of(lines)
    for secret in ("viewer-password", "wrong-password-s3cr3t", token):
        assert secret not in written


# --- Celery --------------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_an_eager_task_queued_by_a_view_logs_with_the_request_id(client, json_lines):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    client.get("/queues", HTTP_X_REQUEST_ID="req-44")

    lines = [line for line in json_lines() if line["logger"] == "tests.request_id"]
    assert [(line["message"], line["request_id"]) for line in lines] == [
        ("queueing", "req-44"),
        ("in the task: hello", "req-44"),
    ]
    assert rid.get_request_id() is None


def test_the_publish_handler_puts_the_id_in_the_headers():
    headers: dict = {"id": "task-1", "task": "x"}
    rid.before_task_publish(headers=headers)
    assert "request_id" not in headers  # outside a request: none

    token = rid._request_id.set("req-45")
    try:
        rid.before_task_publish(headers=headers)
    finally:
        rid._request_id.reset(token)
    assert headers["request_id"] == "req-45"


class FakeRequest(dict):
    """What task.request answers to here: get() and attributes."""

    def __getattr__(self, name):
        return self.get(name)


class FakeTask:
    def __init__(self, **request):
        self.request = FakeRequest(request)


def test_the_prerun_and_postrun_handlers_set_and_reset_the_id():
    task = FakeTask(request_id="req-46", is_eager=False)
    rid.task_prerun(task=task)
    assert rid.get_request_id() == "req-46"
    rid.task_postrun(task=task)
    assert rid.get_request_id() is None

    bad = FakeTask(request_id="evil\nvalue", is_eager=False)
    rid.task_prerun(task=bad)
    assert rid.get_request_id() is None
    rid.task_postrun(task=bad)


def test_a_task_message_carries_the_id_into_the_worker_side_request(json_lines):
    """Published for real (to the suite's memory:// broker, eager off for the send) while a request
    id is set, then run as a worker runs a message: Celery's worker Request built from it."""
    from celery.worker.request import Request

    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
    try:
        with celery_app.connection_for_read() as connection:
            queue = connection.SimpleQueue(celery_app.conf.task_default_queue)
            queue.clear()
            token = rid._request_id.set("req-47")
            try:
                log_in_a_task.delay("from the queue")
            finally:
                rid._request_id.reset(token)
            message = queue.get(timeout=5)
            queue.close()
    finally:
        celery_app.conf.task_always_eager = eager

    assert message.headers["request_id"] == "req-47"
    assert rid.get_request_id() is None
    Request(message, app=celery_app, task=celery_app.tasks[message.headers["task"]]).execute()

    [line] = [line for line in json_lines() if line["logger"] == "tests.request_id"]
    assert (line["message"], line["request_id"]) == ("in the task: from the queue", "req-47")
    assert rid.get_request_id() is None  # reset after the run (task_postrun)


# --- LOG_FORMAT ----------------------------------------------------------------------------------


def test_production_writes_json_by_default_and_plain_on_request(tmp_path):
    code = (
        "import logging; h = logging.getLogger().handlers[0]\n"
        "print(json.dumps([settings.LOG_FORMAT, type(h.formatter).__name__]))\n"
        "logging.getLogger('probe').warning('hello')"
    )
    production = {"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_SECRET_KEY": "x" * 50}
    production |= {"DJANGO_ALLOWED_HOSTS": "example.org"}

    assert json.loads(run_python(code, tmp_path, **production)) == ["json", "JsonFormatter"]
    assert json.loads(run_python(code, tmp_path, **production, LOG_FORMAT="plain")) == ["plain", "Formatter"]
    assert json.loads(run_python(code, tmp_path)) == ["plain", "Formatter"]  # local (`make run`)


def test_an_unknown_log_format_is_refused(tmp_path):
    with pytest.raises(AssertionError, match="LOG_FORMAT must be one of plain, json, not 'xml'"):
        run_python("", tmp_path, LOG_FORMAT="xml")
