"""The checks' gauges on `/metrics`, computed when a scrape comes (registered with
`core.metrics.register_collector` from OpsConfig.ready, source `checks`):
`snailtrail_check_lag_seconds` (how late the most overdue enabled check is) and
`snailtrail_checks_due` (enabled checks due now). One query; when the database does not answer,
core leaves both out of that scrape and counts the failure."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

from django.db.models import Count, Min, Q
from prometheus_client.core import GaugeMetricFamily

from .models import Check


def check_figures(now: float | None = None) -> tuple[float, int]:
    """(seconds the most overdue enabled check is late, or 0; enabled checks due now): one query."""
    moment = dt.datetime.fromtimestamp(time.time() if now is None else now, tz=dt.UTC)
    figures = Check.objects.filter(enabled=True).aggregate(
        oldest=Min("next_due_at"), due=Count("id", filter=Q(next_due_at__lte=moment))
    )
    oldest = figures["oldest"]
    lag = max(0.0, (moment - oldest).total_seconds()) if oldest is not None else 0.0
    return lag, figures["due"] or 0


def check_gauges() -> Iterator[GaugeMetricFamily]:
    lag, due = check_figures()
    yield GaugeMetricFamily(
        "snailtrail_check_lag_seconds",
        "How late the most overdue enabled check is (0 when none is overdue).",
        value=lag,
    )
    yield GaugeMetricFamily("snailtrail_checks_due", "Enabled checks whose run is due now.", value=due)
