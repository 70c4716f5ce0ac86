"""What a team is told about an event: a title and a markdown body, in the tracker's own words.

Only what every member of the operation already sees, and nothing a public link hides: a check
is named with its verdict, never with what it observed or AWS's evidence (ENI ids, addresses,
account ids: ops.redact's business, which this app cannot import).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from tracker.events import Event, Occurrence

from .flaps import Say

_VERDICT = {"pass": "passes", "fail": "fails", "error": "cannot be checked", "pending": "has not run yet"}


def operation_url(slug: str) -> str:
    return f"{settings.NOTIFY_SITE_URL.rstrip('/')}/operations/{slug}/"


def _title_of(occurrence: Occurrence) -> str:
    return (occurrence.subject or {}).get("title") or ""


def _day(value: Any) -> str:
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{when:%a} {when:%b} {when.day}, {when.year}"


def _forecast(occurrence: Occurrence) -> tuple[str, str]:
    details = occurrence.details
    slip = float(details.get("slip_days") or 0)
    return (
        f"Forecast slipped {slip:.0f} day{'s' if round(slip) != 1 else ''}",
        f"The forecast moved from {_day(details.get('old'))} to **{_day(details.get('new'))}**"
        + (
            f" (likely between {_day(details['earliest'])} and {_day(details['latest'])})."
            if details.get("earliest") and details.get("latest")
            else "."
        ),
    )


def _check(occurrence: Occurrence) -> tuple[str, str]:
    name = _title_of(occurrence)
    status = (occurrence.changes.get("status") or [None, None])[1]
    if occurrence.event == Event.CHECK_STALE:
        return f"Check stale: {name}", f"Check **{name}** has not been answered for a while: its verdict is stale."
    return f"Check {_VERDICT.get(status, status)}: {name}", f"Check **{name}** now {_VERDICT.get(status, status)}."


def describe(occurrence: Occurrence) -> tuple[str, str]:
    """(title, markdown body) for one event."""
    event, title, actor = occurrence.event, _title_of(occurrence), occurrence.actor
    simple = {
        Event.BLOCKER_OPENED: ("Blocker opened", f"{actor} opened a blocker: **{title}**."),
        Event.BLOCKER_RESOLVED: ("Blocker resolved", f"{actor} resolved the blocker **{title}**."),
        Event.TASK_DONE: ("Done", f"{actor} ticked **{title}**."),
        Event.TASK_REOPENED: ("Reopened", f"{actor} reopened **{title}**."),
        Event.CRITERION_DONE: ("Criterion met", f"{actor} ticked the completion criterion **{title}**."),
        Event.CRITERION_REOPENED: ("Criterion reopened", f"{actor} reopened the completion criterion **{title}**."),
        Event.PHASE_COMPLETED: ("Phase completed", f"**{title}** is complete."),
        Event.OPERATION_COMPLETED: ("Operation completed", "Every phase is complete."),
    }
    if event in simple:
        head, body = simple[event]
    elif event == Event.FORECAST_SLIPPED:
        head, body = _forecast(occurrence)
    else:
        head, body = _check(occurrence)
    return _framed(occurrence.operation.name, occurrence.operation.slug, head, body)


def describe_flap(*, operation_name: str, slug: str, check_name: str, say: Say) -> tuple[str, str]:
    """(title, markdown body) for what flap suppression lets through."""
    verdict = _VERDICT.get(say.to_status, say.to_status)
    if say.kind == "flapping":
        head = f"Check flapping: {check_name}"
        body = f"Check **{check_name}** keeps changing its verdict; you will be told once it holds one."
    elif say.kind == "settled":
        head = f"Check settled: {check_name}"
        body = f"Check **{check_name}** stopped flapping and {verdict} again, as before."
    else:
        head = f"Check {verdict}: {check_name}"
        body = f"Check **{check_name}** now {verdict}" + (" (after flapping)." if say.after_flapping else ".")
    return _framed(operation_name, slug, head, body)


def _framed(name: str, slug: str, head: str, body: str) -> tuple[str, str]:
    return f"{name}: {head}"[:300], f"{body}\n\n[{name}]({operation_url(slug)})"
