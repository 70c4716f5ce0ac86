"""`POST /v2/models/<name>/infer` at the floor of the stack: a WSGI app in front of Django's.

Issue #18 measured where an inference request's CPU went: the middleware stack, Django's request
signals and URL resolving cost more than the prediction of one row. `FastInference` (mounted by
config/wsgi.py) answers the infer routes itself when it can do so exactly as Django's view would,
and hands every other request, unchanged, to Django. It keeps what the routes promise:

- the host check (ALLOWED_HOSTS, as `HttpRequest.get_host` reads it) and https: a request Django
  would refuse or redirect is Django's to answer;
- the token (a key this process has cached, `access.tokens.cached`), the per-token throttle
  (`access.throttle`, counted in the shared cache in batches), the registry snapshot and the
  loaded model (`serving.router.served_at_once`), `protocol.parse_infer` with the same limits,
  orjson;
- both metric families: mlservice's (requests, rows, latency, degraded) and the site's HTTP
  counter and histogram, under the route Django's resolver would give;
- the request id (`X-Request-ID`: the client's when it is a valid one) and the security headers
  of the middleware (nosniff, referrer and opener policies, X-Frame-Options, HSTS on https, the
  Content-Security-Policy), built once per settings, not per response.

What it hands to Django: anything that would touch the database (a token not cached, a registry
snapshot older than MLSERVICE_REFRESH_SECONDS, a default alias whose `last_good` must be written)
or load a model, and anything that fails (no or a bad token, an unknown model, a throttled
request, a body over the limits or malformed, a model that refuses the input or raises). Django's
view then answers it with its own errors, metrics and logs; a request the throttle already counted
is marked so that the view does not count it twice (`access.THROTTLE_COUNTED`). The body read here
is given back to Django as it came.

tests/mlservice/conftest.py puts this app in front of the test client, so the whole inference
suite runs through it; tests/mlservice/test_fast_path.py proves which requests it answers.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.http.request import split_domain_port, validate_host

from core.metrics import HTTP_LATENCY, HTTP_REQUESTS
from core.request_id import HEADER as REQUEST_ID_HEADER
from core.request_id import META_KEY as REQUEST_ID_META
from core.request_id import new_request_id, valid

from . import access, protocol, serving
from .metrics import DEGRADED, LATENCY, REQUESTS, ROWS

logger = logging.getLogger(__name__)

# The routes of mlservice/urls.py, as Django's resolver names them in the HTTP metrics' `route`
# (tests/mlservice/test_fast_path.py checks that they still are).
ROUTE = "v2/models/<slug:name>/infer"
VERSION_ROUTE = "v2/models/<slug:name>/versions/<str:version>/infer"
# `slug` is Django's converter; a version is kept to plain ASCII here (anything else: Django).
_PATH = re.compile(r"/v2/models/([-a-zA-Z0-9_]+)(?:/versions/([A-Za-z0-9._+-]+))?/infer")

Answer = tuple[str, list[tuple[str, str]], bytes]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FastInference:
    """The WSGI app: `answer` or, when it gives None, the Django app it wraps."""

    def __init__(self, django_app: WSGIApp) -> None:
        self.django_app = django_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        answer = self.answer(environ)
        if answer is None:
            return self.django_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def answer(self, environ: dict[str, Any]) -> Answer | None:
        """The response to an infer request this app can answer itself, or None for Django."""
        if environ.get("REQUEST_METHOD") != "POST":
            return None
        match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or not _admissible(environ):
            return None
        key = access.token_from(environ.get("HTTP_AUTHORIZATION", ""))
        reach = access.tokens.cached(key) if key else None
        if reach is None:
            return None
        name, version = match.groups()
        served = serving.router.served_at_once(name, version, reach)
        if served is None:
            return None
        started = time.perf_counter()
        body = _read_body(environ)
        if body is None:
            return None
        try:
            waited = access.throttle.check(reach.user_id)
        except Exception:  # the shared cache does not answer: the view answers the 503, as for any request
            return None
        if waited is not None:
            return None  # the view answers the 429 (and counts it once more: the window is spent anyway)
        environ[access.THROTTLE_COUNTED] = True
        try:
            return _predict(environ, name, version, served, body, started)
        except Exception:  # bad input, a model that refuses it or fails: the view says so and counts it
            return None


def _admissible(environ: dict[str, Any]) -> bool:
    """Whether Django's middleware would let the request reach the view untouched: a valid host,
    https when it is required, a declared body within the limits, no user-agent or www rules."""
    if settings.SECURE_SSL_REDIRECT and not _is_secure(environ):
        return False
    if settings.DISALLOWED_USER_AGENTS or settings.PREPEND_WWW:
        return False
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    limit = settings.MLSERVICE_MAX_BODY_BYTES
    if settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None:
        limit = min(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return 0 < length <= limit and _host_allowed(environ)


def _host_allowed(environ: dict[str, Any]) -> bool:
    """`HttpRequest.get_host`'s check, without building a request."""
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        host = environ["HTTP_X_FORWARDED_HOST"]
    elif "HTTP_HOST" in environ:
        host = environ["HTTP_HOST"]
    else:
        host = environ.get("SERVER_NAME", "")
        port = str(environ.get("SERVER_PORT", ""))
        if port != ("443" if _is_secure(environ) else "80"):
            host = f"{host}:{port}"
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def _is_secure(environ: dict[str, Any]) -> bool:
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        name, secure_value = header
        value = environ.get(name)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The declared body, read once; Django's view reads the same bytes when it is handed over."""
    length = int(environ["CONTENT_LENGTH"])
    try:
        body = environ["wsgi.input"].read(length)
    except Exception:  # the client went away mid-body (each server raises its own): Django reads what is left
        logger.info("an inference body could not be read; handed to Django", exc_info=True)
        return None
    environ["wsgi.input"] = io.BytesIO(body)
    return body if len(body) == length else None


def _predict(
    environ: dict[str, Any], name: str, version: str | None, served: serving.Served, body: bytes, started: float
) -> Answer:
    """The view's 200, metrics and headers included; raises for anything the view answers otherwise."""
    limits = protocol.Limits(
        json_depth=settings.API_MAX_JSON_DEPTH,
        input_values=settings.MLSERVICE_MAX_INPUT_VALUES,
        output_values=settings.MLSERVICE_MAX_OUTPUT_VALUES,
    )
    parsed = protocol.parse_infer(body, served.version, allow_nan=served.loaded.allow_nan, limits=limits)
    outputs = [protocol.output_tensor(output, served.predict(output, parsed.features)) for output in parsed.outputs]
    answer: dict[str, Any] = {"model_name": name, "model_version": served.version.version}
    if parsed.id is not None:
        answer["id"] = parsed.id
    answer["outputs"] = outputs
    content = protocol.dumps(answer)
    request_id = valid(environ.get(REQUEST_ID_META)) or new_request_id()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(content))),
        *security_headers(_is_secure(environ)),
        (REQUEST_ID_HEADER, request_id),
    ]

    # Counted once nothing can fail any more: a request handed to the view is counted there only.
    requests, rows, latency, degraded = _model_children(name, served.version.version)
    requests.inc()
    if version is None:
        degraded.set(0)  # served_at_once never answers a degraded default
    rows.inc(len(parsed.features))
    latency.observe(time.perf_counter() - started)
    http_requests, http_latency = _http_children(VERSION_ROUTE if version is not None else ROUTE)
    http_requests.inc()
    http_latency.observe(time.perf_counter() - started)
    return "200 OK", headers, content


# --- label children and headers, made once ---------------------------------------------------------

_children: dict[tuple[str, str], tuple[Any, Any, Any, Any]] = {}
_http: dict[str, tuple[Any, Any]] = {}


def _model_children(name: str, version: str) -> tuple[Any, Any, Any, Any]:
    """Bounded by the registry (only a served version gets here), as the view's labels are."""
    children = _children.get((name, version))
    if children is None:
        labels = (name, version)
        children = (REQUESTS.labels(*labels), ROWS.labels(*labels), LATENCY.labels(*labels), DEGRADED.labels(name))
        _children[labels] = children
    return children


def _http_children(route: str) -> tuple[Any, Any]:
    children = _http.get(route)
    if children is None:
        children = _http[route] = (HTTP_REQUESTS.labels("POST", route, "200"), HTTP_LATENCY.labels("POST", route))
    return children


_headers: dict[bool, tuple[tuple[str, str], ...]] = {}


def security_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    """What SecurityMiddleware, the CSP middleware and XFrameOptionsMiddleware add to the view's
    answer, from the settings: built on first use and again only when a setting changes."""
    built = _headers.get(secure)
    if built is None:
        built = _headers[secure] = _build_security_headers(secure)
    return built


def _build_security_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    from csp.constants import HEADER, HEADER_REPORT_ONLY
    from csp.utils import build_policy

    headers = []
    if settings.SECURE_HSTS_SECONDS and secure:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers.append(("Strict-Transport-Security", hsts))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if policy := settings.SECURE_REFERRER_POLICY:
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if opener := settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", opener))
    if getattr(settings, "CONTENT_SECURITY_POLICY", None):
        headers.append((HEADER, build_policy()))
    if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None):
        headers.append((HEADER_REPORT_ONLY, build_policy(report_only=True)))
    headers.append(("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()))
    return tuple(headers)


def _forget_headers(**kwargs: Any) -> None:
    _headers.clear()


setting_changed.connect(_forget_headers, dispatch_uid="mlservice.fast.headers")
