"""Activity entries and forecasts as the sentences the dashboard shows (tracker/lib/activity.py,
tracker/summary.py): no Django needed, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from tracker.lib.activity import describe, is_routine
from tracker.lib.forecast import Forecast
from tracker.summary import forecast_sentence
from tracker.templatetags.tracker import activity_sentence


@dataclass
class Entry:
    action: str
    subject_type: str
    subject_label: str
    changes: dict[str, Any] = field(default_factory=dict)
    actor_name: str = "ana"
    actor_id: int | None = 7


def sentence(entry: Entry, viewer_id: int | None = None) -> str:
    return "".join(f"‘{part.value}’" if part.kind == "title" else part.value for part in describe(entry, viewer_id))


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            Entry("updated", "task", "Container Optimization", {"done": [False, True]}),
            "ana ticked ‘Container Optimization’",
        ),
        (
            Entry(
                "updated",
                "task",
                "Container Optimization",
                {"done": [True, False], "done_at": ["2026-12-06T04:42:22+00:00", None]},
            ),
            "ana reopened ‘Container Optimization’",
        ),
        (
            Entry("updated", "completion criterion", "All green", {"done": [False, True]}),
            "ana ticked the completion criterion ‘All green’",
        ),
        (
            Entry(
                "updated",
                "blocker",
                "VPC",
                {"state": ["open", "resolved"], "resolved_at": [None, "2026-12-06T04:42:22+00:00"]},
            ),
            "ana resolved the blocker ‘VPC’",
        ),
        (Entry("updated", "blocker", "VPC", {"state": ["resolved", "open"]}), "ana reopened the blocker ‘VPC’"),
        (Entry("created", "blocker", "Health check 404"), "ana raised the blocker ‘Health check 404’"),
        (Entry("created", "decision", "Serve on /healthz"), "ana recorded the decision ‘Serve on /healthz’"),
        (Entry("created", "achievement", "Green build"), "ana added the achievement ‘Green build’"),
        (Entry("deleted", "task", "Old"), "ana deleted the task ‘Old’"),
        (Entry("imported", "operation", "Operation Snail Trail"), "ana imported the tracker ‘Operation Snail Trail’"),
        (
            Entry("updated", "operation", "Op", {"current_phase": ["Phase 4: Deploy", "Phase 3: Build"]}),
            "ana moved the current phase to ‘Phase 3: Build’",
        ),
        (
            Entry(
                "updated",
                "phase",
                "Phase 2: Hybrid",
                {"status": ["in_progress", "complete"], "finished_at": [None, "2026-12-06T04:00:00+00:00"]},
            ),
            "ana marked ‘Phase 2: Hybrid’ complete",
        ),
        (
            Entry("updated", "blocker", "VPC", {"severity": ["secondary", "primary"]}),
            "ana changed the severity of the blocker ‘VPC’ to ‘primary’",
        ),
        (
            Entry("updated", "phase", "Phase 4", {"stated_progress": [90, 95]}),
            "ana changed the stated progress of the phase ‘Phase 4’ to 95%",
        ),
        (
            Entry("updated", "phase", "Phase 4", {"duration": [None, 9660.0]}),
            "ana changed the duration of the phase ‘Phase 4’ to 2 hours 41 minutes",
        ),
        (
            Entry("updated", "blocker", "VPC", {"description": ["a", "Run `aws`"]}),
            "ana changed the description of the blocker ‘VPC’",
        ),
        (
            Entry("updated", "blocker", "VPC", {"impact": ["a", "b"], "status_text": ["c", "d"]}),
            "ana edited the impact and status of the blocker ‘VPC’",
        ),
        (
            Entry(
                "updated",
                "finding",
                "VPC DNS",
                {"live_verdict": ["", "fail"]},
                actor_name="check: VPC DNS",
                actor_id=None,
            ),
            "The check “VPC DNS” found the finding ‘VPC DNS’ failing",
        ),
        (
            Entry("created", "membership", "ana · Editor", actor_name="system", actor_id=None),
            "The system added the membership ‘ana · Editor’",
        ),
    ],
)
def test_it_says_each_kind_of_change_in_words(entry: Entry, expected: str) -> None:
    assert sentence(entry) == expected


def test_the_viewer_is_you() -> None:
    entry = Entry("updated", "task", "Docs", {"done": [False, True]})

    assert sentence(entry, viewer_id=7) == "You ticked ‘Docs’"
    assert sentence(entry, viewer_id=8) == "ana ticked ‘Docs’"


def test_the_tag_renders_titles_as_markdown_and_escapes_the_rest() -> None:
    entry = Entry("updated", "task", "Run `aws` <b>now</b>", {"done": [False, True]}, actor_name="<i>eve</i>")

    assert (
        str(activity_sentence(entry)) == "&lt;i&gt;eve&lt;/i&gt; ticked ‘Run <code>aws</code> &lt;b&gt;now&lt;/b&gt;’"
    )


def test_a_checks_own_bookkeeping_is_routine_and_a_tick_is_not() -> None:
    assert is_routine(Entry("updated", "check", "VPC", {"next_due_at": ["a", "b"]}))
    assert not is_routine(Entry("updated", "task", "Docs", {"done": [False, True], "done_at": [None, "x"]}))
    assert not is_routine(Entry("created", "check", "VPC", {"next_due_at": [None, "b"]}))


NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("forecast", "expected"),
    [
        (Forecast("done", None, None, None, None, False, "Done."), "Phase 4 is complete."),
        (
            Forecast("forecast", NOW, NOW - dt.timedelta(days=2), NOW + dt.timedelta(days=3), 4.25, False, "x"),
            "Phase 4 should be done by Dec 6, 2026 (likely between Dec 4 and Dec 9), at 4.2 points a day.",
        ),
        (
            Forecast("forecast", NOW, NOW, None, 12.0, True, "x; at risk: 1 open primary blocker."),
            "Phase 4 should be done by Dec 6, 2026 (not before Dec 6; it could take much longer), at 12 points a day;"
            " at risk because of 1 open primary blocker.",
        ),
        (
            Forecast("stalled", None, None, None, 0.0, False, "Stalled."),
            "Phase 4 has stalled: its progress is not moving forward, so there is no date to project.",
        ),
        (
            Forecast("not_enough_history", None, None, None, None, False, "x", 3, dt.timedelta(minutes=12)),
            "Not enough history for a forecast yet: 3 progress changes in 12 minutes, and a date needs a day of them.",
        ),
        (
            Forecast("not_enough_history", None, None, None, None, False, "x", 0),
            "Not enough history for a forecast yet: no progress change recorded, and a date needs a day of them.",
        ),
    ],
)
def test_a_forecast_is_one_plain_sentence(forecast: Forecast, expected: str) -> None:
    assert forecast_sentence(forecast, "Phase 4") == expected
