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
    phase_burnups: dict[int, dict[str, Any]]  # by phase number, for every phase whose burn-up says something new
    current_number: int | None
    timeline: dict[str, Any] | None
    operation_forecast: Forecast
    phase_forecast: Forecast | None
    burnup_note: str = ""  # why the current phase has no burn-up of its own
    timeline_note: str = ""  # where the timeline's dates come from, when not from the app's own stamps

    @property
    def phase_burnup(self) -> dict[str, Any] | None:
        return self.phase_burnups.get(self.current_number) if self.current_number is not None else None

    def burnup_keys(self) -> set[str]:
        keys = {"burnup", *(f"phase-burnup-{number}" for number in self.phase_burnups)}
        return keys | ({"phase-burnup"} if self.phase_burnup else set())

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


@dataclass
class _Span:
    phase: Phase
    start: dt.datetime
    end: dt.datetime
    expected: bool  # runs to a forecast or to now: the phase is not finished
    from_document: bool  # placed by the document's start date and durations, not by the app's stamps


def _spans(operation: Operation, phases: list[Phase], current: Phase | None, forecast: Forecast | None, now):
    """Where each phase sits in time: its own start and finish when the app stamped them, else the
    document's: the operation's start date, then each phase's stated duration, one after another.
    The current phase runs to its forecast, or to now when there is none."""
    cursor = dt.datetime.combine(operation.start_date, dt.time(), tzinfo=dt.UTC) if operation.start_date else None
    spans = []
    for phase in phases:
        start, from_document = (phase.started_at, False) if phase.started_at else (cursor, True)
        if start is None:
            continue
        end = phase.finished_at or (start + phase.duration if phase.duration is not None else None)
        expected = current is not None and phase.pk == current.pk and phase.finished_at is None
        if expected:
            end = forecast.estimate if forecast and forecast.estimate else max(now, end or now)
        if end is None or end < start:
            continue
        spans.append(_Span(phase, start, end, expected, from_document and phase.finished_at is None))
        cursor = end
    return spans


def _timeline(spans: list[_Span]) -> dict[str, Any] | None:
    """Bars from start to finish, a finished phase solid and the running one faint."""
    if not spans:
        return None
    layout: dict[str, Any] = {
        "title": {"text": "Phase timeline", "x": 0, "xanchor": "left"},
        "xaxis": {"type": "date"},
        "yaxis": {"autorange": "reversed"},
    }
    known = [span for span in spans if not span.expected]
    if known and any(span.expected for span in spans):
        # A phase that has run for months beside phases of hours would leave those as slivers: show the
        # finished ones in full and let the running one go off the edge (its hover text says how long).
        first, last = known[0].start, max(span.end for span in known)
        running = max(span.end for span in spans if span.expected)
        if (running - first) > 10 * (last - first) > dt.timedelta(0):
            layout["xaxis"]["range"] = [_iso(first), _iso(last + (last - first) * 0.6)]
    done = [span for span in spans if not span.expected]
    running = [span for span in spans if span.expected]
    return {"data": [_bars(done, "finished", 1.0), _bars(running, "running", 0.45)], "layout": layout}


def _bars(spans: list[_Span], name: str, opacity: float) -> dict[str, Any]:
    """One bar trace; "--accent" is the page's colour, put in by static/js/dashboard.js."""
    return {
        "type": "bar",
        "orientation": "h",
        "name": name,
        "y": [f"Phase {span.phase.number}" for span in spans],
        "base": [_iso(span.start) for span in spans],
        "x": [(span.end - span.start).total_seconds() * 1000 for span in spans],
        "hovertext": [_hover(span) for span in spans],
        "hoverinfo": "text",
        "marker": {"color": "--accent"},
        "opacity": opacity,
        "showlegend": False,
    }


def _hover(span: _Span) -> str:
    when = f"{span.start:%b %d %H:%M} → {span.end:%b %d %H:%M}"
    if span.expected:
        when = f"since {span.start:%b %d, %Y %H:%M}, still running"
    return f"{span.phase}: {when}" + (" (from the document)" if span.from_document else "")


def _timeline_note(spans: list[_Span], operation: Operation) -> str:
    if not any(span.from_document for span in spans):
        return ""
    start = f" from its start date ({operation.start_date:%b} {operation.start_date.day}, {operation.start_date.year})"
    return f"Placed by the document{start if operation.start_date else ''} and each phase's stated duration."


def _steps(snapshots: list[ProgressSnapshot]) -> list[tuple[dt.datetime, int, int]]:
    """A burn-up's points where its counts move: two histories with the same steps draw the same chart."""
    steps: list[tuple[dt.datetime, int, int]] = []
    for snapshot in snapshots:
        if not steps or steps[-1][1:] != (snapshot.tasks_done, snapshot.tasks_total):
            steps.append((snapshot.at, snapshot.tasks_done, snapshot.tasks_total))
    return steps


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
    # A phase's own burn-up only when it says something the operation's does not: a phase with no
    # tasks is a flat zero, and the one phase holding all the tasks would be the same chart twice.
    operation_steps = _steps(by_phase[None])
    own = {
        phase.number: by_phase[phase.pk]
        for phase in phases
        if any(s.tasks_total for s in by_phase[phase.pk]) and _steps(by_phase[phase.pk]) != operation_steps
    }
    burnup_note = ""
    if current is not None and current.number not in own and operation_steps and _steps(by_phase[current.pk]):
        if _steps(by_phase[current.pk]) == operation_steps:
            burnup_note = f"Phase {current.number} holds all of the operation's tasks: its burn-up is the one above."
    spans = _spans(operation, phases, current, phase_forecast, now)
    return Charts(
        burnup=_burnup(by_phase[None], "Burn-up · operation", now),
        phase_burnups={number: _burnup(history, f"Burn-up · Phase {number}", now) for number, history in own.items()},
        current_number=current.number if current else None,
        timeline=_timeline(spans),
        operation_forecast=forecast(by_phase[None]),
        phase_forecast=phase_forecast,
        burnup_note=burnup_note,
        timeline_note=_timeline_note(spans, operation),
    )


def still_timeline(
    operation: Operation, phases: list[Phase], snapshots: list[ProgressSnapshot], *, open_primary_blockers: int, at
) -> dict[str, Any] | None:
    """The timeline as drawn at the fixed instant `at`, for its version: its running bar goes to now."""
    current = next((p for p in phases if p.pk == operation.current_phase_id), None)
    forecast = None
    if current is not None:
        history = [(s.at, s.progress) for s in snapshots if s.phase_id == current.pk]
        forecast = forecast_completion(history, now=at, open_primary_blockers=open_primary_blockers)
    return _timeline(_spans(operation, phases, current, forecast, at))


def without_now(burnup: dict[str, Any]) -> dict[str, Any]:
    """A burn-up without the point that carries it to now, for its version: what is left moves only
    when the history does."""
    return {**burnup, "data": [{**trace, "x": trace["x"][:-1]} for trace in burnup["data"]]}
