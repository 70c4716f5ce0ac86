"""Prometheus metrics of the inference routes, per model and served version.

Under gunicorn each worker is a process: prometheus-client's multiprocess mode (on when
PROMETHEUS_MULTIPROC_DIR is set, which config/gunicorn.conf.py does) has each one write its
samples to files there, and `exposition()` adds them up, so `/metrics` is the same whichever
worker answers it. Without it (runserver, tests) the process's own registry is read.
`registry()` and `exposition()` live in core/metrics.py, with the site's other metrics.

Label values are never taken from a request as sent: an unknown model is counted as "(unknown)",
or anyone could grow the label set without bound.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge, Histogram

# One registry for the site: what `/metrics` serves (with the HTTP, Celery and scrape-time metrics
# of core/metrics.py) and what the dashboard reads back below.
from core.metrics import multiprocess, registry

UNKNOWN = "(unknown)"
# From a fraction of a millisecond (one row) to seconds (a large batch on a big model).
BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "mlservice_requests", "Inference requests that reached a model, answered or refused.", ["model", "version"]
)
ERRORS = Counter(
    "mlservice_errors",
    "Inference requests refused or failed, by kind (bad_input, not_found, unavailable, "
    "unauthorized, throttled, internal).",
    ["model", "version", "kind"],
)
ROWS = Counter("mlservice_rows", "Rows predicted.", ["model", "version"])
LATENCY = Histogram(
    "mlservice_request_duration_seconds",
    "Time to answer an inference request, from the body read to the response built.",
    ["model", "version"],
    buckets=BUCKETS,
)
DEGRADED = Gauge(
    "mlservice_degraded",
    "1 while the model's default version cannot be served and an earlier one answers.",
    ["model"],
    multiprocess_mode="livemax",
)


@dataclass
class VersionStats:
    """One model version's figures, read back from the metrics for the dashboard."""

    requests: float = 0
    rows: float = 0
    errors: dict[str, float] = field(default_factory=dict)
    buckets: list[tuple[float, float]] = field(default_factory=list)  # (upper bound, cumulative count)

    @property
    def error_total(self) -> float:
        return sum(self.errors.values())

    def quantile(self, q: float) -> float | None:
        """Seconds, interpolated within the bucket as Prometheus's histogram_quantile does."""
        if not self.buckets or self.buckets[-1][1] == 0:
            return None
        total = self.buckets[-1][1]
        rank = q * total
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in self.buckets:
            if count >= rank:
                if bound == float("inf"):
                    return lower_bound
                share = (rank - lower_count) / (count - lower_count) if count > lower_count else 0
                return lower_bound + (bound - lower_bound) * share
            lower_bound, lower_count = bound, count
        return lower_bound


def _families():
    """Our metric families: in one process, straight from our own metrics (the site's registry also
    holds every HTTP route's histogram, which a dashboard render has no reason to walk); under
    gunicorn, from every worker's files, which hold all metrics of a kind together."""
    if multiprocess():
        return registry().collect()
    return (family for metric in (REQUESTS, ERRORS, ROWS, LATENCY, DEGRADED) for family in metric.collect())


def read() -> tuple[dict[tuple[str, str], VersionStats], dict[str, bool]]:
    """(model, version) -> figures since the workers started, and model -> degraded now."""
    stats: dict[tuple[str, str], VersionStats] = defaultdict(VersionStats)
    degraded: dict[str, bool] = {}
    buckets: dict[tuple[str, str], dict[float, float]] = defaultdict(dict)
    for family in _families():
        for sample in family.samples:
            labels = sample.labels
            key = (labels.get("model", ""), labels.get("version", ""))
            if sample.name == "mlservice_requests_total":
                stats[key].requests += sample.value
            elif sample.name == "mlservice_rows_total":
                stats[key].rows += sample.value
            elif sample.name == "mlservice_errors_total":
                errors = stats[key].errors
                errors[labels["kind"]] = errors.get(labels["kind"], 0) + sample.value
            elif sample.name == "mlservice_request_duration_seconds_bucket":
                bound = float(labels["le"])
                buckets[key][bound] = buckets[key].get(bound, 0) + sample.value
            elif sample.name == "mlservice_degraded":
                degraded[labels["model"]] = degraded.get(labels["model"], False) or sample.value > 0
    for key, bounds in buckets.items():
        stats[key].buckets = sorted(bounds.items())
    return dict(stats), degraded
