"""A request id on every log line of a request, and of the Celery tasks the request enqueues.

- `RequestIdMiddleware` (first in MIDDLEWARE) takes the client's `X-Request-ID` when it is a short
  token (`^[A-Za-z0-9._-]{1,64}$`: a proxy's or load balancer's id), otherwise makes one
  (`uuid4().hex`), keeps it in a context variable for the request and answers it in `X-Request-ID`.
- `RequestIdFilter`, on the root console handler, puts it on every record as `request_id` (None
  outside a request or task), so the JSON formatter writes it.
- The Celery signal handlers (connected by `connect_celery` from config.celery_app) copy the id into
  the headers of every task message published while it is set, and set it in the worker for the
  run of that task. A task published outside a request (beat, the shell) runs with none.

Where a custom header lands in Celery 5.7: the worker builds `task.request` (a Context) from the
message headers, so `headers["request_id"]` is `task.request.request_id` (and also in
`task.request.headers`). An eager task (CELERY_TASK_ALWAYS_EAGER) is never published, so
`before_task_publish` does not run; it runs inline in the caller's context and keeps its id.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
TASK_HEADER = "request_id"
VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def get_request_id() -> str | None:
    """The id of the request (or task) this code runs for, or None."""
    return _request_id.get()


def valid(value: Any) -> str | None:
    """`value` when it is an acceptable id, else None (fullmatch: `$` would let a newline in)."""
    return value if isinstance(value, str) and VALID.fullmatch(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets the request id for the request's code and answers it in `X-Request-ID`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = valid(request.META.get(META_KEY)) or new_request_id()
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (or None) to every record; never drops one.

    Django logs a 4xx/5xx answer ("Bad Request: /path", django.request) once the middleware chain
    has returned, so after the id is reset; that record has the request itself in `extra`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get() or valid(
                getattr(getattr(record, "request", None), "request_id", None)
            )
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter, one object a line: timestamp (ISO 8601, UTC), level, logger,
    message, request_id when there is one, exc_info (the traceback, a string) when there is one,
    and the record's other `extra` fields.

    `request` (the HttpRequest Django's loggers add) is left out: its text is only its repr, and a
    log line has no business holding more of a request than the path, which the message has.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_record: dict[str, Any]) -> dict[str, Any]:
        if log_record.get("request_id") is None:
            log_record.pop("request_id", None)
        # The timestamp first, where a reader looks for it.
        log_record = {"timestamp": log_record.pop("timestamp", None), **log_record}
        return super().process_log_record(log_record)


# --- Celery ---------------------------------------------------------------------------------------

_TOKEN_ATTRIBUTE = "_request_id_token"


def before_task_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Copy the current request id into the message's headers (protocol 2: the message headers)."""
    request_id = _request_id.get()
    if request_id and headers is not None and not valid(headers.get(TASK_HEADER)):
        headers[TASK_HEADER] = request_id


def _id_of(task_request: Any) -> str | None:
    # From a worker: a message header is an attribute of task.request. Eager (apply with
    # headers=...): only in task.request.headers.
    found = task_request.get(TASK_HEADER) or (task_request.get("headers") or {}).get(TASK_HEADER)
    return valid(found)


def task_prerun(task: Any = None, **_: Any) -> None:
    """Set the task's request id for its run (an eager task without one keeps its caller's)."""
    task_request = getattr(task, "request", None)
    if task_request is None:
        return
    request_id = _id_of(task_request)
    if request_id is None and task_request.get("is_eager"):
        return
    setattr(task_request, _TOKEN_ATTRIBUTE, _request_id.set(request_id))


def task_postrun(task: Any = None, **_: Any) -> None:
    task_request = getattr(task, "request", None)
    token = getattr(task_request, _TOKEN_ATTRIBUTE, None)
    if token is not None:
        delattr(task_request, _TOKEN_ATTRIBUTE)
        try:
            _request_id.reset(token)
        except ValueError:  # set in another context (cannot happen in a worker's run): just clear it
            _request_id.set(None)


def _configure_celery_handlers(logger: logging.Logger | None = None, **_: Any) -> None:
    """The worker's log handlers (Celery's own, it replaces the root logger's): the request id on
    every record, and the JSON formatter when LOG_FORMAT is json."""
    from django.conf import settings

    if logger is None:
        return
    json_lines = getattr(settings, "LOG_FORMAT", "plain") == "json"
    for handler in logger.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if json_lines:
            handler.setFormatter(JsonFormatter(**json_formatter_options(settings.LOGGING)))
            if not any(isinstance(f, CeleryTaskFilter) for f in handler.filters):
                handler.addFilter(CeleryTaskFilter())


class CeleryTaskFilter(logging.Filter):
    """In a worker's JSON lines, the running task's `task_id` and `task_name` (what Celery's plain
    task formatter shows), when a task is running."""

    def filter(self, record: logging.LogRecord) -> bool:
        from celery._state import get_current_task

        task = get_current_task()
        if task is not None and task.request and task.request.id is not None:
            record.__dict__.setdefault("task_id", task.request.id)
            record.__dict__.setdefault("task_name", task.name)
        return True


def json_formatter_options(logging_config: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the `json` formatter in a LOGGING dict."""
    return {k: v for k, v in logging_config["formatters"]["json"].items() if k != "()"}


def connect_celery() -> None:
    """Connect the handlers above to Celery's signals (weak=False: they are module functions anyway)."""
    from celery import signals

    signals.before_task_publish.connect(before_task_publish, weak=False, dispatch_uid="request_id.publish")
    signals.task_prerun.connect(task_prerun, weak=False, dispatch_uid="request_id.prerun")
    signals.task_postrun.connect(task_postrun, weak=False, dispatch_uid="request_id.postrun")
    signals.after_setup_logger.connect(_configure_celery_handlers, weak=False, dispatch_uid="request_id.logger")
    signals.after_setup_task_logger.connect(
        _configure_celery_handlers, weak=False, dispatch_uid="request_id.task_logger"
    )
