"""The top of the dashboard: where the operation stands, in one screen and in plain sentences.

Everything here is read from what the page has already loaded (the board, its charts, the panels
and the activity feed): the summary costs no query of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .lib.activity import is_routine
from .lib.forecast import Forecast
from .models import ActivityEntry, Blocker, Phase, Task

RECENT_CHANGES = 3  # entries of the activity feed the summary repeats
UNDO_WITHIN = dt.timedelta(minutes=10)  # how long after a tick or a resolve the page offers to undo it


@dataclass(frozen=True)
class Tally:
    """How many of a panel's things are failing, out of how many: "2 of 7" checks.

    A panel (tracker.dashboard.Panel) reports one so that the summary can say it without knowing what
    the panel is about."""

    noun: str  # plural: "checks"
    failing: int
    total: int
    pending: int = 0  # not run yet: neither passing nor failing


@dataclass(frozen=True)
class Standing:
    """One phase's two percentages, what the page shows, and why they differ."""

    phase: Phase
    shown: int
    stated: int | None
    ticked: int | None
    done: int
    total: int
    why: str


def standing(phase: Phase) -> Standing:
    """The stated % (the team's document) beside the % of listed tasks ticked, explained in one sentence."""
    stated, ticked = phase.stated_progress, phase.derived_progress
    total, done = phase._task_counts()
    counted = f"{done} of {total} task{'' if total == 1 else 's'}"
    if stated is None and ticked is None:
        why = "No percentage is stated in the document and the phase lists no tasks to count."
    elif stated is None:
        why = f"Counted from its tasks: {counted} ticked."
    elif ticked is None:
        why = f"{stated}% is the team's own figure from the document; the phase lists no tasks to count."
    elif stated == ticked:
        why = f"The team's figure and the ticked tasks agree: {counted} ticked."
    else:
        why = f"{stated}% is the team's own estimate in the document; {ticked}% counts the tasks ticked ({counted})."
    return Standing(phase, phase.progress, stated, ticked, done, total, why)


def _day(when: dt.datetime) -> str:
    return f"{when:%b} {when.day}, {when.year}"


def _short_day(when: dt.datetime) -> str:
    return f"{when:%b} {when.day}"


def forecast_sentence(forecast: Forecast, subject: str) -> str:
    """The forecast as one plain sentence about `subject` ("Phase 4", "The operation")."""
    if forecast.status == "done":
        return f"{subject} is complete."
    if forecast.status == "forecast" and forecast.estimate is not None:
        text = f"{subject} should be done by {_day(forecast.estimate)}"
        if forecast.latest is None:
            text += f" (not before {_short_day(forecast.earliest or forecast.estimate)}; it could take much longer)"
        elif forecast.earliest and _day(forecast.earliest) != _day(forecast.latest):
            text += f" (likely between {_short_day(forecast.earliest)} and {_short_day(forecast.latest)})"
        text += f", at {_rate(forecast.rate_per_day or 0.0)} points a day"
    elif forecast.status == "stalled":
        text = f"{subject} has stalled: its progress is not moving forward, so there is no date to project"
    else:
        text = f"Not enough history for a forecast yet: {_seen(forecast)}, and a date needs a day of them"
    return text + _risk(forecast.reason) + "."


def _seen(forecast: Forecast) -> str:
    if forecast.changes == 0:
        return "no progress change recorded"
    if forecast.changes == 1:
        return "one progress change so far"
    return f"{forecast.changes} progress changes in {_span(forecast.span)}"


def _span(span: dt.timedelta) -> str:
    seconds = span.total_seconds()
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            amount = round(seconds / size)
            return f"{amount} {unit}{'' if amount == 1 else 's'}"
    return "under a minute"


def _rate(points_per_day: float) -> str:
    return f"{points_per_day:.0f}" if abs(points_per_day) >= 10 else f"{points_per_day:.1f}".removesuffix(".0")


def _risk(reason: str) -> str:
    """The forecast's own "at risk: …" clause, reworded to end the page's sentence."""
    _, sep, risks = reason.rstrip(".").partition("; at risk: ")
    return f"; at risk because of {risks}" if sep else ""


def checks_tally(tallies: Sequence[Tally], items: Sequence[Task]) -> Tally | None:
    """Failing checks "n of m": what the panels report, else the tracker's own check-backed items."""
    if tallies:
        return Tally(
            tallies[0].noun,
            sum(tally.failing for tally in tallies),
            sum(tally.total for tally in tallies),
            sum(tally.pending for tally in tallies),
        )
    backed = [item for item in items if item.is_check_backed]
    if not backed:
        return None
    failing = sum(1 for item in backed if item.live_verdict == "fail" or item.is_stale())
    return Tally("checks", failing, len(backed))


@dataclass(frozen=True)
class Undo:
    """The reverse of the viewer's last tick or resolve, through the same endpoint that made it."""

    entry: ActivityEntry  # the change it undoes
    url_name: str  # tracker:task-toggle, tracker:blocker-reopen or tracker:blocker-resolve
    pk: int
    done: str  # the task-toggle form's `done` field ("" for blockers)
    verb: str  # what undoing does: "reopen", "tick", "resolve"
    title: str  # of the item, as the team wrote it


def undo_for(
    entries: Sequence[ActivityEntry],
    *,
    viewer_id: int | None,
    tasks: dict[int, Task],
    blockers: dict[int, Blocker],
    now: dt.datetime,
) -> Undo | None:
    """What "Undo" would do for the newest entry, when it is the viewer's own recent tick or resolve
    and the item is still as that change left it (nobody has changed it back since)."""
    if not entries or viewer_id is None:
        return None
    entry = entries[0]
    if entry.actor_id != viewer_id or entry.action != "updated" or now - entry.at > UNDO_WITHIN:
        return None
    changes = entry.changes or {}
    if "done" in changes and (task := tasks.get(entry.subject_id)) is not None:
        if task.done != changes["done"][1]:
            return None
        verb = "reopen" if task.done else "tick"
        return Undo(entry, "tracker:task-toggle", task.pk, "0" if task.done else "1", verb, task.title)
    if "state" in changes and (blocker := blockers.get(entry.subject_id)) is not None:
        if blocker.state != changes["state"][1]:
            return None
        if blocker.is_open:
            return Undo(entry, "tracker:blocker-resolve", blocker.pk, "", "resolve", blocker.title)
        return Undo(entry, "tracker:blocker-reopen", blocker.pk, "", "reopen", blocker.title)
    return None


@dataclass(frozen=True)
class Summary:
    """The first screen of the dashboard."""

    standing: Standing | None  # the current phase's
    blockers_open: int
    primary_blockers: int
    checks: Tally | None
    forecast: Forecast
    forecast_text: str  # the one sentence about it
    recent: list[ActivityEntry]


def build_summary(
    *,
    current: Phase | None,
    blockers_open: Sequence[Blocker],
    tallies: Sequence[Tally],
    check_backed: Sequence[Task],
    operation_forecast: Forecast,
    phase_forecast: Forecast | None,
    activity: Sequence[ActivityEntry],
) -> Summary:
    """One forecast is told: the current phase's, unless it is done (a phase moved back to), then the
    operation's, so the page never says "complete" and "at risk" about one thing."""
    if current is not None and phase_forecast is not None and phase_forecast.status != "done":
        forecast, subject = phase_forecast, f"Phase {current.number}"
    else:
        forecast, subject = operation_forecast, "The operation"
    return Summary(
        standing=standing(current) if current is not None else None,
        blockers_open=len(blockers_open),
        primary_blockers=sum(1 for blocker in blockers_open if blocker.severity == Blocker.Severity.PRIMARY),
        checks=checks_tally(tallies, check_backed),
        forecast=forecast,
        forecast_text=forecast_sentence(forecast, subject),
        recent=[entry for entry in activity if not is_routine(entry)][:RECENT_CHANGES],
    )
