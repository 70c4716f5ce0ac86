"""A Celery worker's own `/metrics`, for a worker whose samples web's scrape cannot see.

Web's `/metrics` adds up the files of every process that writes to its PROMETHEUS_MULTIPROC_DIR.
A worker in a container or on a host of its own writes elsewhere, so its task counts and durations
(`snailtrail_celery_*`, core/metrics.py) need a scrape target of their own. With
WORKER_METRICS_PORT set, the worker's main process serves them:

- its pool processes write to the worker's own PROMETHEUS_MULTIPROC_DIR (required: a prefork pool
  process's counters are in its own memory otherwise), emptied when the worker starts, as gunicorn
  empties web's (config/gunicorn.conf.py), so do not share that directory with gunicorn;
- `GET /metrics` on WORKER_METRICS_ADDRESS:WORKER_METRICS_PORT answers their sums, on a thread of
  the main process, to the same readers as web's: METRICS_TOKEN, else METRICS_ALLOWED_NETWORKS.

The scrape-time gauges (queue depth, check lag) stay with web: they read the broker and the
database, which any one web process can do for everyone.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.exposition import ThreadingWSGIServer

from core import metrics

log = logging.getLogger(__name__)


def application(environ: dict[str, Any], start_response) -> list[bytes]:
    """The endpoint, as a WSGI app: GET /metrics for allowed readers, 403 and 404 otherwise."""
    if environ.get("PATH_INFO") != "/metrics":
        return _answer(start_response, "404 Not Found", b"Not found: this server has /metrics only.\n")
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return _answer(start_response, "405 Method Not Allowed", b"GET /metrics\n", [("Allow", "GET, HEAD")])
    if not metrics.scrape_allowed(environ):
        return _answer(start_response, "403 Forbidden", b"Metrics are not served to this address.\n")
    return _answer(start_response, "200 OK", generate_latest(metrics.registry()), [], CONTENT_TYPE_LATEST)


def _answer(start_response, status: str, body: bytes, headers=(), content_type="text/plain; charset=utf-8"):
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers])
    return [body]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # every scrape would be a log line
        pass


def serve(port: int, address: str) -> ThreadingWSGIServer:
    """Start the endpoint on a daemon thread; returns the server (its port, for port 0)."""
    server = make_server(address, port, application, ThreadingWSGIServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


def start(**_: Any) -> None:
    """Celery's `worker_init`, in the main process before the pool starts: set up and serve."""
    port = settings.WORKER_METRICS_PORT
    if port is None:
        return
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        raise ImproperlyConfigured(
            "WORKER_METRICS_PORT needs PROMETHEUS_MULTIPROC_DIR: a directory of the worker's own, where its "
            "pool processes write their samples."
        )
    shutil.rmtree(directory, ignore_errors=True)  # a previous run's samples would be counted again
    Path(directory).mkdir(parents=True, mode=0o700)
    server = serve(port, settings.WORKER_METRICS_ADDRESS)
    log.info("Worker metrics at http://%s:%d/metrics", settings.WORKER_METRICS_ADDRESS, server.server_port)


def connect() -> None:
    from celery import signals

    signals.worker_init.connect(start, weak=False, dispatch_uid="worker_metrics.start")
