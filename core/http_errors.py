"""One error shape for every 4xx of the API: {"error": "<what is wrong>", "fields": {...}}.

`fields` is there for validation errors only, naming each field and what is wrong with it; an
import that fails adds `problems`, each with its line. Django's own ValidationError (raised by a
model's `full_clean` inside a service) becomes a 400 the same way, so a rule the model enforces
needs no copy in the serializer. Outside the API views, `not_found` and `server_error` answer
`/api/` URLs in the same shape instead of an HTML page, and `BodySizeLimit` refuses a body over
`API_MAX_BODY_BYTES` (or a route's own limit, `register_body_limit`) with a 413 before anything
reads it.

A real 403, from the API (`exception_handler`) or a page (`forbidden`, handler403), is sent as
`core.signals.permission_denied` (`report_denied`): the audit app records it, and this module
knows nothing of that app.

A database, cache or broker that does not answer (a dropped connection, a restart, a failover, a
timeout) is not our bug and will pass: wherever it surfaces, in a view or in a middleware, the
answer is a 503 with Retry-After, not a 500. Django closes a broken database connection at the end
of that request and the next one opens a new one (tests/reliability/test_database_drop.py drops it
under real requests); redis-py and kombu reconnect on their own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults

from core import signals

# DRF's views, redis and kombu are imported where they are needed, not here: this module is loaded
# by every process's setup (tracker's ready() registers a body limit), and those three cost it
# about a quarter of a second of CPU (issue #18; tests/test_startup_imports.py keeps them out).


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    return str(detail)


def _as_drf(exc: DjangoValidationError):
    from rest_framework import exceptions

    if hasattr(exc, "error_dict"):
        detail = {
            ("non_field_errors" if name == "__all__" else name): messages for name, messages in exc.message_dict.items()
        }
        return exceptions.ValidationError(detail)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def report_denied(request, *, reason: str, operation: str | None = None, view: str | None = None) -> None:
    """Tell the listeners (`core.signals.permission_denied`; the audit app records it) about a real
    403: a permission check said no. Not a 401 (NotAuthenticated, even when DRF answers it as a 403,
    is not a PermissionDenied), not a throttle, not an outsider's 404."""
    user = getattr(request, "user", None)
    details = {
        "method": getattr(request, "method", None),
        "path": getattr(request, "path", None),
        "operation": operation,
        "reason": reason,
    }
    if view is not None:
        details["view"] = view
    signals.permission_denied.send(
        sender=__name__,
        request=request,
        user=user if user is not None and user.is_authenticated else None,
        **details,
    )


def _report_api_denied(exc, context) -> None:
    kwargs = context.get("kwargs") or {}
    report_denied(
        context.get("request"),
        # The URL's operation, under the names the routes give it.
        operation=kwargs.get("operation_slug") or kwargs.get("slug"),
        view=type(context["view"]).__name__ if context.get("view") is not None else None,
        reason=_flatten(getattr(exc, "detail", None) or str(exc)),
    )


def exception_handler(exc, context):
    # DRF calls this from one of its views, so both are loaded by then: the imports cost nothing.
    from rest_framework import exceptions
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        exc = _as_drf(exc)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)) and response is not None:
        _report_api_denied(exc, context)
    if response is None:
        return None  # not an API error: Django's handling (a 500 is logged, never shown)
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        fields = {name: _flatten(value) for name, value in exc.detail.items() if name != "non_field_errors"}
        message = _flatten(exc.detail.get("non_field_errors", "")) or "Some fields are not valid."
        response.data = {"error": message, "fields": fields}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": _flatten(response.data["detail"])}
    else:
        response.data = {"error": _flatten(response.data)}
    if getattr(exc, "problems", None) is not None:
        response.data["problems"] = exc.problems
    return response


def _is_api(request) -> bool:
    """The REST API and the inference routes (/v2/...): clients there read JSON, not pages."""
    return request.path.startswith(("/api/", "/v2/"))


# Routes whose body has a limit of its own instead of the API's general one, by path: what the
# app that owns the route registered from its AppConfig.ready (tracker: a tracker import has
# TRACKER_MAX_DOCUMENT_BYTES, as the page upload and `import_tracker` do). Each takes
# (Content-Length, content type) and answers why the body is refused, or None.
BodyCheck = Callable[[int, str], str | None]
_body_checks: dict[str, BodyCheck] = {}


def register_body_limit(path: str, check: BodyCheck) -> None:
    """Give the API route at `path` (e.g. "/api/operations/import/") a body limit of its own."""
    _body_checks[path] = check


def _body_limit(request) -> int:
    return settings.MLSERVICE_MAX_BODY_BYTES if request.path.startswith("/v2/") else settings.API_MAX_BODY_BYTES


def forbidden(request, exception=None):
    """handler403: every page's 403 (a member without the role; outsiders get 404, not this),
    reported to the listeners like the API's."""
    match = getattr(request, "resolver_match", None)
    report_denied(request, operation=match.kwargs.get("slug") if match else None, reason=str(exception or ""))
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"error": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


# Seconds a client is asked to wait after a 503: about what a database restart or failover takes.
RETRY_AFTER_SECONDS = 5


# What each kind of outage is called in a 503, by the exceptions that show it: the module that
# defines them and their names there. They are looked up in sys.modules, not imported: an error of
# redis's or kombu's can only be raised in a process that has imported that module, and importing
# them to find out would cost every process's setup (issue #18).
UNAVAILABLE = (
    ("django.db", ("OperationalError", "InterfaceError"), "The database"),
    ("redis.exceptions", ("ConnectionError", "TimeoutError"), "The cache"),
    ("kombu.exceptions", ("OperationalError",), "The task queue"),
)


def outage(error: BaseException | None) -> str | None:
    """What did not answer ("The database", "The cache", "The task queue") when `error` shows an
    outage, else None."""
    for module_name, names, what in UNAVAILABLE:
        module = sys.modules.get(module_name)
        if module is not None and isinstance(error, tuple(getattr(module, name) for name in names)):
            return what
    return None


def unavailable(request, what: str = "The database"):
    """503 for a service that did not answer. Renders nothing that reads the database (no user, no
    session): the page is a template of its own, without context processors."""
    if _is_api(request):
        response = JsonResponse({"error": f"{what} is not answering; try again in a few seconds."}, status=503)
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    """handler500. Django calls it while handling the exception, so `sys.exc_info()` names it."""
    what = outage(sys.exc_info()[1])
    if what is not None:
        return unavailable(request, what)
    if _is_api(request):
        return JsonResponse({"error": "Something went wrong on our side; it has been logged."}, status=500)
    return defaults.server_error(request)


class BodySizeLimit:
    """413 for an API write whose declared body is larger than `API_MAX_BODY_BYTES` (for the
    inference routes, `MLSERVICE_MAX_BODY_BYTES`; for a route with a limit of its own,
    `register_body_limit`'s: a tracker import has `TRACKER_MAX_DOCUMENT_BYTES`).

    DRF's JSON parser reads the whole stream without Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, so
    the limit is enforced here, on the Content-Length, before any of the body is read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _is_api(request) and request.method in ("POST", "PUT", "PATCH"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return JsonResponse({"error": "The Content-Length header is not a number."}, status=400)
            check = _body_checks.get(request.path)
            if check is not None:
                refused = check(length, request.content_type)
                if refused:
                    return JsonResponse({"error": refused}, status=413)
                return self.get_response(request)
            limit = _body_limit(request)
            if length > limit:
                return JsonResponse({"error": f"The body is {length} bytes; the limit is {limit}."}, status=413)
        return self.get_response(request)
