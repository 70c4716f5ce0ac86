"""The "ML endpoints" section of an operation's dashboard (registered in MlserviceConfig.ready).

For each model linked to the operation: the version its default alias points at, whether this
worker can serve it (or serves an earlier one, degraded, and why), and per version the requests,
errors by kind, rows, p50 / p95 / p99 and a latency distribution chart, from the Prometheus
metrics of every worker since they started. Figures over time are Prometheus's job: scrape
`/metrics`.

Only models of the operation's workspace are shown (a model is linked to operations of its own
workspace only: mlservice.registry; filtered here anyway). Why an artifact cannot be loaded names
its path and sha256 values, so the panel says it only to the workspace's admins (and superusers)
on the members' dashboard; everyone else, and every public link, gets `serving.GENERIC_REASON`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from tracker.dashboard import Panel
from tracker.models import Operation, WorkspaceMembership

from . import metrics, serving
from .models import RegisteredModel

FRESHNESS_SECONDS = 10


@dataclass
class VersionRow:
    version: str
    stats: metrics.VersionStats
    is_default: bool

    @property
    def p50_ms(self) -> float | None:
        return _ms(self.stats.quantile(0.5))

    @property
    def p95_ms(self) -> float | None:
        return _ms(self.stats.quantile(0.95))

    @property
    def p99_ms(self) -> float | None:
        return _ms(self.stats.quantile(0.99))


@dataclass
class ModelRow:
    name: str
    default_version: str | None
    served_version: str | None = None
    state: str = "ok"  # ok, degraded, unavailable
    reason: str = ""  # for everyone: names no artifact
    warnings: tuple[str, ...] = ()  # likewise
    detail: str = ""  # the reason naming the artifact, for the workspace's admins only
    detail_warnings: tuple[str, ...] = ()
    versions: list[VersionRow] = field(default_factory=list)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def ml_endpoints(operation: Operation) -> Panel | None:
    """One query for the operation's models (a second, for the workspace's admins, when one cannot be
    served well); the rest is this process's registry snapshot and metrics."""
    names = list(
        RegisteredModel.objects.filter(operation=operation, workspace_id=operation.workspace_id).values_list(
            "name", flat=True
        )
    )
    if not names:
        return None
    snapshot = serving.router.snapshot()
    stats, _ = metrics.read()
    rows = []
    for name in names:
        entry = snapshot.get(name)
        if entry is None or entry.workspace_id != operation.workspace_id:  # not in this worker's snapshot yet
            continue
        row = ModelRow(name, entry.default.version if entry.default else None)
        try:
            served = serving.router.serve(name)
        except serving.Unavailable as exc:
            row.state, row.reason, row.detail = "unavailable", exc.public, exc.reason
        else:
            row.served_version = served.version.version
            row.warnings, row.detail_warnings = served.warnings_told_to(False), served.warnings
            if served.degraded:
                row.state, row.reason, row.detail = "degraded", served.public_reason, served.reason
        for label in entry.versions:
            figures = stats.get((name, label))
            if figures is not None or label == row.default_version:
                row.versions.append(VersionRow(label, figures or metrics.VersionStats(), label == row.default_version))
        rows.append(row)
    answered = any(v.stats.buckets and v.stats.buckets[-1][1] for r in rows for v in r.versions)
    admins: frozenset[int] = frozenset()
    if any(r.detail != r.reason or r.detail_warnings != r.warnings for r in rows):
        admins = frozenset(
            WorkspaceMembership.objects.filter(
                workspace_id=operation.workspace_id, role=WorkspaceMembership.Role.ADMIN
            ).values_list("user_id", flat=True)
        )
    return Panel(
        id="ml-endpoints",
        title="🧠 ML endpoints",
        template="mlservice/endpoints_panel.html",
        # `admins`: who may see `detail` (with superusers), never on a public link (the template).
        context={"models": rows, "has_chart": answered, "alias": settings.MLSERVICE_DEFAULT_ALIAS, "admins": admins},
        figures={"ml-latency": _latency_figure(rows)} if answered else {},
    )


def _bucket_label(bound: float) -> str:
    if bound == float("inf"):
        return f"> {metrics.BUCKETS[-1]:g} s"
    return f"≤ {bound:g} s" if bound >= 1 else f"≤ {bound * 1000:g} ms"


def _latency_figure(rows: list[ModelRow]) -> dict[str, Any]:
    """Share of answered requests per latency bucket, one bar series per model version, up to the
    slowest bucket any request fell in."""
    series = []
    for row in rows:
        for version in row.versions:
            buckets = version.stats.buckets
            total = buckets[-1][1] if buckets else 0
            if total:
                cumulative = [count for _, count in buckets]
                counts = [now - before for now, before in zip(cumulative, [0.0, *cumulative[:-1]], strict=True)]
                series.append((f"{row.name} v{version.version}", buckets, [100 * c / total for c in counts]))
    last = max((max(i for i, share in enumerate(shares) if share) for *_, shares in series), default=0)
    data = [
        {
            "type": "bar",
            "name": name,
            "x": [_bucket_label(bound) for bound, _ in buckets[: last + 1]],
            "y": [round(share, 2) for share in shares[: last + 1]],
        }
        for name, buckets, shares in series
    ]
    return {
        "data": data,
        "layout": {
            # Two short lines and room made by the axes themselves: a phone's 360 px keeps them whole.
            "title": {"text": "Inference latency<br><sub>share of answered requests</sub>", "x": 0, "xanchor": "left"},
            "barmode": "group",
            "yaxis": {"title": {"text": "% of requests"}, "rangemode": "tozero", "automargin": True},
            "xaxis": {"type": "category", "automargin": True},
        },
    }


def freshness(operation_id: int) -> str | None:
    """Changes every FRESHNESS_SECONDS for an operation with models, so an open dashboard redraws
    the figures; one indexed query, and the dashboards of other operations still get their 304s."""
    if not RegisteredModel.objects.filter(operation_id=operation_id).exists():
        return None
    return f"ml{int(time.time() // FRESHNESS_SECONDS)}"


def workspace_models(workspace, user, is_admin: bool):
    """The workspace's models, for its page: each with its versions, its aliases and the operation
    whose dashboard shows it (two queries, however many models; a third for an admin's forms)."""
    from django.db.models import Prefetch

    from tracker.selectors import visible_operations
    from tracker.workspace_sections import Section

    from .models import ModelAlias, ModelVersion

    models = list(
        RegisteredModel.objects.filter(workspace=workspace)
        .select_related("operation")
        .prefetch_related(
            Prefetch("versions", queryset=ModelVersion.objects.only("id", "model_id", "version", "created_at")),
            Prefetch("aliases", queryset=ModelAlias.objects.select_related("version").order_by("name")),
        )
        .order_by("name")
    )
    # For its admins' forms (mlservice/pages.py): the operations a model may be linked to.
    operations = list(visible_operations(user).filter(workspace=workspace).order_by("name")) if is_admin else []
    return Section(
        id="models",
        title="🤖 Models",
        template="mlservice/workspace_models.html",
        context={"models": models, "is_admin": is_admin, "operations": operations},
    )
