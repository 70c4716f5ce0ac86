"""The Open Inference Protocol v2 over REST.

Plain Django views rather than DRF: an inference request is one JSON body in and one out, and
DRF's negotiation, parsers and renderers would cost more than the prediction (bench/inference.py).
Every error is a 4xx or 503 with `{"error": "<what is wrong>"}`; nothing a client sends can
reach a traceback. A body nested deeper than API_MAX_JSON_DEPTH is a 400; one asking for more than
MLSERVICE_MAX_INPUT_VALUES values in or MLSERVICE_MAX_OUTPUT_VALUES out, a 413.

    GET  /v2                                  server metadata (public)
    GET  /v2/health/live, /v2/health/ready    for load balancers (public)
    GET  /v2/models/{m}[/versions/{v}]        model metadata, with its serving status
    GET  /v2/models/{m}[/versions/{v}]/ready  200 when it can answer, else 503 with the reason
    POST /v2/models/{m}[/versions/{v}]/infer  predictions
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import access, protocol, serving
from .metrics import DEGRADED, ERRORS, LATENCY, REQUESTS, ROWS, UNKNOWN
from .models import RegisteredModel

logger = logging.getLogger(__name__)

SERVER_NAME = "snailtrail-mlservice"
SERVER_VERSION = "1.0"


def _json(payload: Any, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(protocol.dumps(payload), status=status, content_type="application/json")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _error(message: str, status: int, **headers: str) -> HttpResponse:
    return _json({"error": message}, status, **headers)


def _only(request: HttpRequest, method: str) -> HttpResponse | None:
    if request.method == method or (method == "GET" and request.method == "HEAD"):
        return None
    return _error(f"{request.method} is not allowed here; use {method}.", 405, Allow=method)


def _gate(request: HttpRequest, method: str) -> access.Reach | HttpResponse:
    """The caller's reach (user and workspaces), or the response refusing the method or the
    missing or wrong token. A model outside the reach is answered as one that does not exist."""
    return _only(request, method) or _user_or_error(request)


def _user_or_error(request: HttpRequest) -> access.Reach | HttpResponse:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    key = access.token_from(header) if header else None
    if key is None:
        return _error(
            "Authentication required: send `Authorization: Token <your API token>`.",
            401,
            WWW_Authenticate='Token realm="api"',
        )
    reach = access.tokens.reach(key)
    if reach is None:
        return _error("The token is not valid.", 401, WWW_Authenticate='Token realm="api"')
    return reach


# --- public routes --------------------------------------------------------------------------


def server_metadata(request: HttpRequest) -> HttpResponse:
    return _only(request, "GET") or _json({"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": []})


def live(request: HttpRequest) -> HttpResponse:
    return _only(request, "GET") or _json({"live": True})


def ready(request: HttpRequest) -> HttpResponse:
    """Ready when the registry can be read. A model that cannot load does not take the server out
    of a load balancer (its own ready route says so): the other models still answer."""
    if refused := _only(request, "GET"):
        return refused
    try:
        RegisteredModel.objects.exists()
    except DatabaseError:
        logger.exception("the model registry cannot be read")
        return _json({"ready": False, "error": "The model registry cannot be read."}, 503)
    return _json({"ready": True})


# --- model routes ---------------------------------------------------------------------------


def _serving_parameters(served: serving.Served, admin: bool) -> dict[str, Any]:
    """`admin`: the caller administers the model's workspace, and is told reasons that name the artifact."""
    parameters: dict[str, Any] = {"degraded": served.degraded, "served_version": served.version.version}
    if served.degraded:
        parameters.update(wanted_version=served.wanted.version, reason=served.reason_told_to(admin))
    if served.warnings:
        parameters["warnings"] = list(served.warnings_told_to(admin))
    return parameters


def model_metadata(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    if isinstance(user := _gate(request, "GET"), HttpResponse):
        return user
    try:
        entry = serving.router.entry(name, user)
    except serving.NotFound as exc:
        return _error(str(exc), 404)
    admin = user.administers(entry.workspace_id)
    described = entry.versions.get(version) if version is not None else entry.default
    if described is None:
        if version is not None:
            return _error(f"Model {name!r} has no version {version!r} (it has: {', '.join(entry.versions)}).", 404)
        return _error(f"Model {name!r} has no versions yet.", 503)
    body = protocol.metadata(name, list(entry.versions), described)
    try:
        served = serving.router.serve(name, version, reach=user)
        body["parameters"] = {"ready": True, **_serving_parameters(served, admin)}
    except serving.Unavailable as exc:
        body["parameters"] = {"ready": False, "reason": exc.told_to(admin)}
    return _json(body)


def model_ready(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    if isinstance(user := _gate(request, "GET"), HttpResponse):
        return user
    try:
        served = serving.router.serve(name, version, reach=user)
    except serving.NotFound as exc:
        return _error(str(exc), 404)
    except serving.Unavailable as exc:
        return _json({"name": name, "ready": False, "error": exc.told_to(user.administers(exc.workspace_id))}, 503)
    parameters = _serving_parameters(served, user.administers(served.version.model.workspace_id))
    return _json({"name": name, "ready": True, "parameters": parameters})


@csrf_exempt  # token-authenticated only: a browser's cookies are never accepted here
def infer(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    started = time.perf_counter()
    if isinstance(user := _gate(request, "POST"), HttpResponse):
        if user.status_code == 401:
            ERRORS.labels(UNKNOWN, UNKNOWN, "unauthorized").inc()
        return user
    # Counted already when mlservice.fast let the request through, then handed it over to answer an error.
    wait = None if request.META.get(access.THROTTLE_COUNTED) else access.throttle.check(user.user_id)
    if wait is not None:
        ERRORS.labels(UNKNOWN, UNKNOWN, "throttled").inc()
        return _error(
            f"Too many requests for this token ({settings.MLSERVICE_INFER_RATE}); try again in {math.ceil(wait)} s.",
            429,
            Retry_After=str(math.ceil(wait)),
        )
    try:
        served = serving.router.serve(name, version, reach=user)
    except serving.NotFound as exc:
        ERRORS.labels(UNKNOWN, UNKNOWN, "not_found").inc()
        return _error(str(exc), 404)
    except serving.Unavailable as exc:
        ERRORS.labels(name, version or UNKNOWN, "unavailable").inc()
        DEGRADED.labels(name).set(1)
        error = exc.told_to(user.administers(exc.workspace_id))
        return _error(error, 503, Retry_After=str(math.ceil(settings.MLSERVICE_RETRY_SECONDS)))

    labels = (name, served.version.version)
    REQUESTS.labels(*labels).inc()
    if version is None:
        DEGRADED.labels(name).set(1 if served.degraded else 0)
    try:
        parsed = protocol.parse_infer(request.body, served.version, allow_nan=served.loaded.allow_nan, limits=_limits())
    except protocol.BadInput as exc:  # a 400, or a 413 for a request over the limits
        ERRORS.labels(*labels, "bad_input").inc()
        return _error(str(exc), exc.status)
    try:
        outputs = [protocol.output_tensor(output, served.predict(output, parsed.features)) for output in parsed.outputs]
    except (ValueError, TypeError) as exc:  # scikit-learn's own input checks (an unseen category...)
        ERRORS.labels(*labels, "bad_input").inc()
        return _error(f"The model refused the input: {exc}", 400)
    except Exception:
        ERRORS.labels(*labels, "internal").inc()
        logger.exception("prediction failed on %s", served.version)
        return _error("The prediction failed on our side; it has been logged.", 500)

    body: dict[str, Any] = {"model_name": name, "model_version": served.version.version}
    if parsed.id is not None:
        body["id"] = parsed.id
    if served.degraded:
        body["parameters"] = _serving_parameters(served, user.administers(served.version.model.workspace_id))
    body["outputs"] = outputs
    response = _json(body)
    ROWS.labels(*labels).inc(len(parsed.features))
    LATENCY.labels(*labels).observe(time.perf_counter() - started)
    return response


def _limits() -> protocol.Limits:
    return protocol.Limits(
        json_depth=settings.API_MAX_JSON_DEPTH,
        input_values=settings.MLSERVICE_MAX_INPUT_VALUES,
        output_values=settings.MLSERVICE_MAX_OUTPUT_VALUES,
    )
