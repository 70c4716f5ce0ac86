"""A request id on every log line of a request, and of the Celery tasks the request enqueues.

- `RequestIdMiddleware` (first in MIDDLEWARE) takes the client's `X-Request-ID` when it is a short
  token (`^[A-Za-z0-9._-]{1,64}$`: a proxy's or load balancer's id), otherwise makes one
  (`uuid4().hex`), keeps it in a context variable for the request and answers it in `X-Request-ID`.
- `RequestIdFilter`, on the root console handler, puts it on every record as `request_id` (None
  outside a request or task), so the JSON formatter writes it.
- Every record also has its credentials redacted (`redact`, `RedactingFilter`, which
  `RequestIdFilter` is): the console handler's and the Celery worker's records, and gunicorn's
  access and error logs (config/gunicorn.conf.py adds the filter there). No secret is ever logged:
  a request line's `?token=`, a public link's path, an `Authorization` header or an AWS credential
  that a library (botocore, urllib3 at LOG_LEVEL=DEBUG) writes all come out as `[redacted]`.
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


# --- redaction -------------------------------------------------------------------------------------

REDACTED = "[redacted]"

# A name that says its value is a credential: of a query parameter or a form field (`?token=`,
# `access_token=`, `password=`, a presigned URL's `X-Amz-Signature=` and `X-Amz-Credential=`), or a
# key in JSON (STS's `SecretAccessKey`, `SessionToken`...).
_SECRET_NAME = re.compile(
    r"(?i)token|secret|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|signature|credential|session[_-]?id"
)
# Cheap tests first: a line without any of these (most of them) costs no regular expression.
_SECRET_WORDS = ("token", "secret", "passw", "pwd", "key", "signature", "credential", "session")
_HEADER_NAMES = ("authorization", "cookie", "x-amz-security-token", "x-api-key", "x-auth-token")


def _named(match: re.Match[str]) -> str:
    """`name=value` or `"name": "value"`, its value redacted when its name says it is a credential."""
    whole = match[0]
    if not _SECRET_NAME.search(match["name"]):
        return whole
    start, end = (at - match.start() for at in match.span("value"))
    return whole[:start] + REDACTED + whole[end:]


# (words of which the lowercased text must hold one, pattern, replacement)
_RULES: list[tuple[tuple[str, ...], re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # Headers that carry credentials, as a library prints them: `'Authorization': b'AWS4-HMAC-SHA256
    # Credential=AKIA...'` (botocore's request), `x-amz-security-token:...` (its canonical request).
    (
        _HEADER_NAMES,
        re.compile(rf"(?i)\b((?:proxy-)?{'|'.join(_HEADER_NAMES)})(['\"]?\s*[:=]\s*(?-i:b)?['\"]?)[^'\"\r\n]+"),
        rf"\1\2{REDACTED}",
    ),
    # An HTTP credential on its own: `Token <key>`, `Bearer <key>`, `Basic <base64>`.
    (
        ("token ", "bearer ", "basic "),
        re.compile(r"\b(Token|Bearer|Basic) [A-Za-z0-9._~+/-]{16,}=*"),
        rf"\1 {REDACTED}",
    ),
    # `name=value` (request lines, URLs, form bodies) and `"name": "value"` (JSON, a dict's repr).
    (_SECRET_WORDS, re.compile(r"(?<![\w.-])(?P<name>[\w.-]+)=(?P<value>[^&#\s\"',;]+)"), _named),
    (
        _SECRET_WORDS,
        re.compile(r"""(["'])(?P<name>[\w.-]+)\1\s*:\s*(?:b?(["'])(?P<value>(?:\\.|(?!\3).)*)\3)"""),
        _named,
    ),
    # XML: STS's AssumeRole answer, which botocore prints whole at DEBUG.
    (
        _SECRET_WORDS,
        re.compile(r"<(SecretAccessKey|SessionToken|AccessKeyId|Password|SecretKey|Token)>[^<]*</\1>"),
        rf"<\1>{REDACTED}</\1>",
    ),
    # An AWS access key id wherever it is (AKIA: a user's, ASIA: a temporary one).
    (("akia", "asia"), re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), rf"\1{REDACTED}"),
    # A URL's password: `redis://:password@host`, `postgres://user:password@host`.
    (("://",), re.compile(r"(?<![\w+.-])([a-zA-Z][\w+.-]*://[^/\s:@]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
    # A public link's token is its path (tracker.urls: `p/<token>/`; stored only hashed, shown once).
    (("/p/",), re.compile(r"(/p/)[A-Za-z0-9_-]{20,}"), rf"\1{REDACTED}"),
]
# urllib3 prints the path of every request it sends (DEBUG): an outgoing webhook's path often holds
# its receiver's own token, which tracker.webhooks never logs. `"POST /hooks/x HTTP/1.1"`.
_OUTGOING_REQUEST_LINE = re.compile(r'"([A-Z]+) [^" ]+ (HTTP/[0-9.]+)"')


def redact(text: str) -> str:
    """`text` with every credential it holds replaced by `[redacted]` (see `_RULES`)."""
    lowered = text.lower()
    for words, pattern, replacement in _RULES:
        if any(word in lowered for word in words):
            text = pattern.sub(replacement, text)
    return text


def _redact_values(value: Any, name: str = "") -> Any:
    """A JSON line's value: its text redacted, and all of it when its name says it is a credential."""
    if isinstance(value, str):
        return REDACTED if name and _SECRET_NAME.search(name) else redact(value)
    if isinstance(value, dict):
        return {key: _redact_values(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_values(item, name) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """Redacts credentials from a record's message and traceback; never drops a record.

    On a handler (the console handler through `RequestIdFilter`, Celery's) or a logger (gunicorn's
    access and error logs). A record whose message held one leaves with `msg` its redacted text
    and no `args`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it, with nothing to redact
            return True
        cleaned = redact(message)
        if record.name.startswith("urllib3"):
            cleaned = _OUTGOING_REQUEST_LINE.sub(rf'"\1 {REDACTED} \2"', cleaned)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # What the plain formatter prints (the JSON one redacts its own lines: process_log_record).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class RequestIdFilter(RedactingFilter):
    """Adds `request_id` (or None) to every record, and redacts it (`RedactingFilter`); never drops one.

    Django logs a 4xx/5xx answer ("Bad Request: /path", django.request) once the middleware chain
    has returned, so after the id is reset; that record has the request itself in `extra`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get() or valid(
                getattr(getattr(record, "request", None), "request_id", None)
            )
        return super().filter(record)


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter, one object a line: timestamp (ISO 8601, UTC), level, logger,
    message, request_id when there is one, exc_info (the traceback, a string) when there is one,
    and the record's other `extra` fields, every one with its credentials redacted (`redact`).

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
        # The traceback and the `extra` fields too, whatever a caller put there (the filter has
        # redacted the message).
        log_record = _redact_values(log_record)
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
    every record and its credentials redacted, and the JSON formatter when LOG_FORMAT is json."""
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
