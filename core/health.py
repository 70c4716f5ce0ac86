"""Health probes for a load balancer or an orchestrator.

`/healthz`: the process is alive and answers (touches nothing else). `/readyz`: it can do its
work: the database answers `SELECT 1`, the cache gives back what was written to it, and the Celery
broker can be reached (a connection to Redis with a short timeout; for the embedded filesystem
transport, its queue folders are writable). 200 `{"status": "ok", "checks": {...}}`, or 503 with
each check's result and, for the ones that failed, a short reason: never a traceback, never a
password from a URL. The reasons name internal hosts and addresses, so only the readers of
/metrics get them (METRICS_TOKEN or METRICS_ALLOWED_NETWORKS: the container's own healthcheck, from
loopback, does); anyone else learns which check failed, and the log has why.

Both answer GET and HEAD only, without a login or a CSRF token and never from a cache, and
production's https redirect skips them (SECURE_REDIRECT_EXEMPT), so a probe can speak plain
http to the container.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import uuid
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from kombu import Connection

from core.metrics import scrape_allowed

logger = logging.getLogger(__name__)

METHODS = ("GET", "HEAD")
REASON_MAX_CHARS = 200
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)


class CheckFailed(Exception):
    """A check that failed for a reason of our own words (not an exception from a client library)."""


def _probe(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        if request.method not in METHODS:
            response = JsonResponse({"error": f"{request.method} is not allowed here: use GET or HEAD."}, status=405)
            response["Allow"] = ", ".join(METHODS)
            return response
        return view(request)

    return csrf_exempt(never_cache(wrapped))


# --- the checks -----------------------------------------------------------------------------------


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    if not row or row[0] != 1:
        raise CheckFailed("SELECT 1 did not answer 1")


def check_cache() -> None:
    cache = caches["default"]
    key = f"snailtrail:readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=30)
    try:
        if cache.get(key) != "ok":
            raise CheckFailed("a value written to the cache was not read back")
    finally:
        cache.delete(key)


def _writable(folder: str | None) -> None:
    if not folder:
        raise CheckFailed("the filesystem transport has no queue folder configured")
    path = Path(folder)
    if not path.is_dir():
        raise CheckFailed("a queue folder of the filesystem transport does not exist")
    # Named so that the transport never takes it for a message (those are <id>.<queue>.msg).
    probe = path / f".readyz-{os.getpid()}-{threading.get_ident()}.probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CheckFailed(f"a queue folder of the filesystem transport is not writable ({exc.strerror})") from exc


def check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {})
    if url.partition("://")[0] == "filesystem":
        for name in ("data_folder_in", "data_folder_out"):
            _writable(options.get(name))
        return
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    # The Redis transport reads its timeouts from the transport options; AMQP from connect_timeout.
    options.update(socket_connect_timeout=timeout, socket_timeout=timeout)
    with Connection(url, connect_timeout=timeout, transport_options=options) as connection:
        connection.ensure_connection(max_retries=0)  # one attempt: the prober asks again soon enough


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


# --- reasons without secrets --------------------------------------------------------------------


def _secrets() -> set[str]:
    """Every password the settings hold, as written in a URL and decoded."""
    found: set[str] = set()
    for database in settings.DATABASES.values():
        if database.get("PASSWORD"):
            found.add(str(database["PASSWORD"]))
    urls = [settings.CELERY_BROKER_URL, getattr(settings, "REDIS_URL", "")]
    for cache in settings.CACHES.values():
        location = cache.get("LOCATION", "")
        urls.extend(location if isinstance(location, (list, tuple)) else [location])
    for url in urls:
        try:
            password = urlsplit(str(url)).password
        except ValueError:
            continue
        if password:
            found.update({password, unquote(password)})
    return {secret for secret in found if secret}


def reason(exc: BaseException) -> str:
    """One short line: the exception's type and first line, with any credentials blanked out."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = message if isinstance(exc, CheckFailed) else f"{type(exc).__name__}: {message}".rstrip(": ")
    text = _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
    for secret in sorted(_secrets(), key=len, reverse=True):
        text = text.replace(secret, "***")
    if len(text) > REASON_MAX_CHARS:
        text = text[: REASON_MAX_CHARS - 1] + "…"
    return text


# --- the views --------------------------------------------------------------------------------------


@_probe
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@_probe
def readyz(request: HttpRequest) -> HttpResponse:
    results: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure is "not ready", reported in words
            results[name] = "failed"
            errors[name] = reason(exc)
            logger.warning("readiness check %s failed: %s", name, errors[name])
        else:
            results[name] = "ok"
    if errors:
        body = {"status": "unavailable", "checks": results}
        if scrape_allowed(request.META):
            body["errors"] = errors
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ok", "checks": results})
