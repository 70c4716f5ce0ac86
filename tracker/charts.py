"""Chart data and forecasts for the dashboard, from the progress history.

Figures are plain plotly.js specs (data + layout dicts) embedded as JSON and drawn by
static/js/dashboard.js; the colours come from the page's CSS so they follow the light/dark theme.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .lib.forecast import Forecast, forecast_completion
from .models import Operation, Phase, ProgressSnapshot


@dataclass
class Charts:
    burnup: dict[str, Any]
    phase_burnups: dict[int, dict[str, Any]]  # by phase number, for every phase with a history
    current_number: int | None
    timeline: dict[str, Any] | None
    operation_forecast: Forecast
    phase_forecast: Forecast | None

    @property
    def phase_burnup(self) -> dict[str, Any] | None:
        return self.phase_burnups.get(self.current_number) if self.current_number is not None else None

    def figures(self) -> dict[str, dict[str, Any]]:
        figures = {"burnup": self.burnup}
        figures |= {f"phase-burnup-{number}": figure for number, figure in self.phase_burnups.items()}
        if self.phase_burnup:
            figures["phase-burnup"] = self.phase_burnup
        if self.timeline:
            figures["timeline"] = self.timeline
        return figures


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _burnup(snapshots: list[ProgressSnapshot], title: str, now: dt.datetime) -> dict[str, Any]:
    """Tasks done against total scope over time, as steps: both only change when someone acts."""
    x = [_iso(s.at) for s in snapshots] + ([_iso(now)] if snapshots else [])
    done = [s.tasks_done for s in snapshots] + ([snapshots[-1].tasks_done] if snapshots else [])
    scope = [s.tasks_total for s in snapshots] + ([snapshots[-1].tasks_total] if snapshots else [])
    return {
        "data": [
            {"type": "scatter", "mode": "lines", "line": {"shape": "hv"}, "name": "Scope", "x": x, "y": scope},
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv"},
                "fill": "tozeroy",
                "name": "Done",
                "x": x,
                "y": done,
            },
        ],
        "layout": {
            "title": {"text": title, "x": 0, "xanchor": "left"},
            "yaxis": {"title": {"text": "tasks"}, "rangemode": "tozero"},
        },
    }


def _timeline(phases: list[Phase], current: Phase | None, forecast: Forecast | None, now: dt.datetime):
    """Bars from start to finish; the current phase runs to its forecast, or to now when there is none."""
    bars = []
    for phase in phases:
        if phase.started_at is None:
            continue
        end = phase.finished_at
        expected = False
        if end is None and current is not None and phase.pk == current.pk:
            end, expected = (forecast.estimate, True) if forecast and forecast.estimate else (now, True)
        if end is None:
            continue
        bars.append((phase, phase.started_at, end, expected))
    if not bars:
        return None
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "expected" if expected else "actual",
                "y": [f"Phase {phase.number}"],
                "base": [_iso(start)],
                "x": [(end - start).total_seconds() * 1000],
                "hovertext": [f"{phase}: {start:%b %d %H:%M} → {end:%b %d %H:%M}{' (expected)' if expected else ''}"],
                "opacity": 0.5 if expected else 1,
                "showlegend": False,
            }
            for phase, start, end, expected in bars
        ],
        "layout": {"title": {"text": "Phase timeline"}, "xaxis": {"type": "date"}, "yaxis": {"autorange": "reversed"}},
    }


def build_charts(
    operation: Operation,
    phases: list[Phase],
    snapshots: list[ProgressSnapshot],
    *,
    open_primary_blockers: int,
    now: dt.datetime | None = None,
) -> Charts:
    now = now or dt.datetime.now(dt.UTC)
    by_phase: dict[int | None, list[ProgressSnapshot]] = defaultdict(list)
    for snapshot in snapshots:
        by_phase[snapshot.phase_id].append(snapshot)
    current = next((p for p in phases if p.pk == operation.current_phase_id), None)

    def forecast(history: list[ProgressSnapshot]) -> Forecast:
        return forecast_completion(
            [(s.at, s.progress) for s in history], now=now, open_primary_blockers=open_primary_blockers
        )

    phase_forecast = forecast(by_phase[current.pk]) if current else None
    return Charts(
        burnup=_burnup(by_phase[None], "Burn-up · operation", now),
        phase_burnups={
            phase.number: _burnup(by_phase[phase.pk], f"Burn-up · Phase {phase.number}", now)
            for phase in phases
            if by_phase[phase.pk]
        },
        current_number=current.number if current else None,
        timeline=_timeline(phases, current, phase_forecast, now),
        operation_forecast=forecast(by_phase[None]),
        phase_forecast=phase_forecast,
    )
