"""Prometheus metrics of the whole site: HTTP requests, Celery tasks, and gauges read at scrape time.

What `/metrics` serves (`metrics_view`, behind METRICS_TOKEN / METRICS_ALLOWED_NETWORKS) is
`exposition()` here: the counters and histograms of every process (mlservice's inference
metrics among them) and, computed when the scrape comes, the queue depth and the check lag.

- HTTP (`MetricsMiddleware`, second in MIDDLEWARE): `snailtrail_http_requests_total{method,route,
  status}` and `snailtrail_http_request_duration_seconds{method,route}`. `route` is the resolved
  URL pattern (`operations/<slug:slug>/`), never the path as sent: paths carry slugs and public
  link tokens, which would both leak and grow the label set without bound. A request that resolved
  to nothing, or was answered by a middleware before resolving (a redirect to https, a 413 body),
  is `(unmatched)`; a method outside the standard ones is `OTHER`.
- Celery (signal handlers connected by `connect_celery` from config.celery_app):
  `snailtrail_celery_tasks_total{task,state}` (state: success, failure, retry, ignore, reject)
  and `snailtrail_celery_task_duration_seconds{task}`. Eager tasks (CELERY_TASK_ALWAYS_EAGER) are
  counted too: Celery sends task_prerun/task_postrun for `apply()`.
- At scrape time (`ScrapeCollector`): `snailtrail_celery_queue_depth{queue}` (Redis: LLEN of the
  queue's keys; filesystem transport: its message files), and the gauges the apps register from
  their AppConfig.ready with `register_collector` (ops: `snailtrail_check_lag_seconds` and
  `snailtrail_checks_due`, source `checks`), so this module imports no app. A source that fails
  (broker or database down) is left out of that scrape, logged, and counted in
  `snailtrail_metrics_scrape_errors_total{source}`.

Several processes: under gunicorn (config/gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR) each
worker writes its samples to files in that directory and a scrape adds them up. A Celery worker
started with the same PROMETHEUS_MULTIPROC_DIR on the same host writes there too, so its task
metrics appear in gunicorn's `/metrics`. A worker on another host (or another container with its
own scratch directory, as in docker-compose.yml) is not seen by that scrape: share the directory
with it, or give it its own scrape target. Note that gunicorn empties the directory when it starts,
so a worker running across a gunicorn restart writes to deleted files until it restarts too.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

UNMATCHED = "(unmatched)"
OTHER_METHOD = "OTHER"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
# From a health probe (well under a millisecond) to a large import or a slow page.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# From a no-op task to a check group at its time limit (150 s) and a webhook timing out.
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

HTTP_REQUESTS = Counter(
    "snailtrail_http_requests",
    "HTTP requests answered, by method, route (the URL pattern) and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "snailtrail_http_request_duration_seconds",
    "Time from the request reaching the middleware stack to its response leaving it.",
    ["method", "route"],
    buckets=HTTP_BUCKETS,
)
TASKS = Counter("snailtrail_celery_tasks", "Celery task runs, by task name and final state.", ["task", "state"])
TASK_LATENCY = Histogram(
    "snailtrail_celery_task_duration_seconds", "Time a Celery task ran.", ["task"], buckets=TASK_BUCKETS
)
SCRAPE_ERRORS = Counter(
    "snailtrail_metrics_scrape_errors",
    "Scrape-time sources (queue_depth, checks) that failed and were left out of a scrape.",
    ["source"],
)


# --- the registry /metrics serves -----------------------------------------------------------------


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def registry() -> CollectorRegistry:
    """The metrics recorded by the processes: every worker's (multiprocess mode), else this one's."""
    if multiprocess():
        combined = CollectorRegistry()
        MultiProcessCollector(combined)
        return combined
    return REGISTRY


def scrape_registry() -> CollectorRegistry:
    """What `/metrics` serves: the scrape-time gauges (first: a failure they count is in this very
    scrape), then the recorded metrics. Built afresh for each scrape; `registry()` alone (the
    dashboard's figures) never queries the broker or the database."""
    served = CollectorRegistry()
    served.register(ScrapeCollector())
    if multiprocess():
        MultiProcessCollector(served)
    else:
        served.register(REGISTRY)  # no describe(): registered as a plain collector, no name checks
    return served


def exposition() -> bytes:
    return generate_latest(scrape_registry())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`/metrics`: the Prometheus text format, for METRICS_ALLOWED_NETWORKS, or anyone with
    METRICS_TOKEN when it is set; errors are the site's JSON `{"error": ...}`."""
    if request.method not in ("GET", "HEAD"):
        return JsonResponse(
            {"error": f"{request.method} is not allowed here; use GET."}, status=405, headers={"Allow": "GET"}
        )
    if not scrape_allowed(request.META):
        return JsonResponse({"error": "Metrics are not served to this address."}, status=403)
    return HttpResponse(exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")


def scrape_allowed(meta: dict[str, Any]) -> bool:
    """Who may read metrics (web's /metrics, /readyz's reasons, a worker's /metrics), from a request's
    META or WSGI environ: the holder of METRICS_TOKEN when it is set (`Authorization: Bearer
    <token>`), otherwise a direct client from METRICS_ALLOWED_NETWORKS. A request that came through a
    proxy (it carries X-Forwarded-For) is never taken for a local one: behind nginx on the same host,
    every visitor's address is the proxy's loopback."""
    from django.conf import settings
    from django.utils.crypto import constant_time_compare

    if settings.METRICS_TOKEN:
        scheme, _, key = meta.get("HTTP_AUTHORIZATION", "").partition(" ")
        key = key.strip()
        return (
            scheme.lower() in ("token", "bearer") and bool(key) and constant_time_compare(key, settings.METRICS_TOKEN)
        )
    if "HTTP_X_FORWARDED_FOR" in meta:
        return False
    try:
        client = ipaddress.ip_address(meta.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(network) for network in settings.METRICS_ALLOWED_NETWORKS)


# --- HTTP -----------------------------------------------------------------------------------------


class MetricsMiddleware:
    """Counts each response and times it by (method, route, status).

    Cheap on purpose (every inference request goes through it): two clock reads, one dict lookup
    for the label children (made once per key; the keys are bounded by the URL patterns), an
    increment and an observation.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - start
        match = request.resolver_match
        key = (request.method, match.route if match is not None else UNMATCHED, response.status_code)
        children = _http_children.get(key) or _http_children_for(key)
        children[0].inc()
        children[1].observe(elapsed)
        return response


_http_children: dict[tuple[Any, str, int], tuple[Any, Any]] = {}


def _http_children_for(key: tuple[Any, str, int]) -> tuple[Any, Any]:
    method, route, status = key
    method = method if method in METHODS else OTHER_METHOD
    route = readable_route(route)
    children = (HTTP_REQUESTS.labels(method, route, str(status)), HTTP_LATENCY.labels(method, route))
    if key[0] in METHODS:  # an odd method is not cached under its own name: it would grow the dict
        _http_children[key] = children
    return children


_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^()]*\)")


def readable_route(route: str) -> str:
    """A regex route (DRF's routers: `api/^operations/(?P<slug>[^/.]+)/$`) as the path-style one
    (`api/operations/<slug>/`). Once per label set, never on the hot path."""
    if "(?P<" not in route and "^" not in route and "$" not in route:
        return route
    readable = _NAMED_GROUP.sub(r"<\1>", route).replace("^", "").replace("$", "")
    return readable if "(" not in readable else route


# --- Celery ---------------------------------------------------------------------------------------

_STARTED_ATTRIBUTE = "_metrics_started"


def task_prerun(task: Any = None, **_: Any) -> None:
    task_request = getattr(task, "request", None)
    if task_request is not None:
        setattr(task_request, _STARTED_ATTRIBUTE, time.perf_counter())


def task_postrun(task: Any = None, state: str | None = None, **_: Any) -> None:
    name = getattr(task, "name", None) or "(unknown)"
    TASKS.labels(name, (state or "unknown").lower()).inc()
    started = getattr(getattr(task, "request", None), _STARTED_ATTRIBUTE, None)
    if started is not None:
        TASK_LATENCY.labels(name).observe(time.perf_counter() - started)


def connect_celery() -> None:
    """Connect the task handlers to Celery's signals (from config.celery_app)."""
    from celery import signals

    signals.task_prerun.connect(task_prerun, weak=False, dispatch_uid="metrics.prerun")
    signals.task_postrun.connect(task_postrun, weak=False, dispatch_uid="metrics.postrun")


# --- at scrape time -------------------------------------------------------------------------------

# kombu's Redis transport keeps a message of priority p > 0 under `<queue>\x06\x16<p>`.
REDIS_PRIORITY_SEPARATOR = "\x06\x16"
REDIS_PRIORITY_STEPS = (3, 6, 9)


def queue_depths() -> dict[str, int] | None:
    """Messages waiting per queue (METRICS_CELERY_QUEUES), or None for a broker we cannot count."""
    from django.conf import settings

    url = settings.CELERY_BROKER_URL or ""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    queues = list(settings.METRICS_CELERY_QUEUES)
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        return _redis_depths(url, options, queues, settings.METRICS_SCRAPE_TIMEOUT_SECONDS)
    if scheme == "filesystem":
        return _filesystem_depths(options, queues)
    return None


def _redis_depths(url: str, options: dict[str, Any], queues: list[str], timeout: float) -> dict[str, int]:
    import redis

    prefix = options.get("global_keyprefix", "")
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(prefix + queue)
            for step in REDIS_PRIORITY_STEPS:
                pipe.llen(f"{prefix}{queue}{REDIS_PRIORITY_SEPARATOR}{step}")
        lengths = pipe.execute()
    finally:
        client.close()
    per_queue = 1 + len(REDIS_PRIORITY_STEPS)
    return {queue: sum(lengths[i * per_queue : (i + 1) * per_queue]) for i, queue in enumerate(queues)}


def _filesystem_depths(options: dict[str, Any], queues: list[str]) -> dict[str, int]:
    # kombu names a message file `<ms>_<uuid>.<queue>.msg`.
    counts = dict.fromkeys(queues, 0)
    with os.scandir(options.get("data_folder_in", "data_in")) as entries:
        for entry in entries:
            queue = entry.name.partition(".")[2].removesuffix(".msg")
            if queue in counts and entry.name.endswith(".msg"):
                counts[queue] += 1
    return counts


# Gauges the apps add, by source name: each computed when a scrape comes (see `register_collector`).
ScrapeSource = Callable[[], Iterable[Metric]]
_sources: dict[str, ScrapeSource] = {}


def register_collector(source: str, collect: ScrapeSource) -> None:
    """Add gauges computed at scrape time, from an app's AppConfig.ready (ops: the check lag).

    `collect()` returns the metric families (GaugeMetricFamily...) to serve; it may query the
    database. When it raises, none of its families are in that scrape, the failure is logged and
    counted in `snailtrail_metrics_scrape_errors_total{source}`, and the rest of the scrape is
    served. Registering a source again replaces it."""
    _sources[source] = collect


class ScrapeCollector(Collector):
    """The gauges computed when a scrape comes; a failing source is skipped, not fatal."""

    def describe(self) -> list:
        return []  # nothing to check for clashes, and no query when it is registered

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            depths = queue_depths()
        except Exception:
            self._failed("queue_depth")
        else:
            if depths is not None:
                family = GaugeMetricFamily(
                    "snailtrail_celery_queue_depth", "Messages waiting in the Celery queue.", labels=["queue"]
                )
                for queue, depth in depths.items():
                    family.add_metric([queue], depth)
                yield family
        for source, collect in list(_sources.items()):
            try:
                families = list(collect())  # all of a source's families, or none of them
            except Exception:
                self._failed(source)
            else:
                yield from families

    @staticmethod
    def _failed(source: str) -> None:
        log.warning("metrics: %s left out of this scrape", source, exc_info=True)
        SCRAPE_ERRORS.labels(source).inc()
