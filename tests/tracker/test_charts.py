"""Charts, forecasts and live updates on the dashboard."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import logged_in
from tracker import services
from tracker.charts import build_charts
from tracker.dashboard import build_dashboard
from tracker.models import ProgressSnapshot, Task
from tracker.selectors import operation_with_content

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 8, 20, 12, 0, tzinfo=dt.UTC)


def words(html: str) -> str:
    """The text of some markup, as a reader sees it."""
    return re.sub(r"<[^>]*>", "", html)


def history(operation, points: list[tuple[int, int, int]]) -> None:
    """Replace the operation-wide history by (days before NOW, progress, tasks done)."""
    ProgressSnapshot.objects.filter(operation=operation, phase=None).delete()
    ProgressSnapshot.objects.bulk_create(
        ProgressSnapshot(
            operation=operation, at=NOW - dt.timedelta(days=days), progress=p, tasks_done=done, tasks_total=20
        )
        for days, p, done in points
    )


def charts_of(operation):
    board = build_dashboard(operation_with_content().get(pk=operation.pk))
    snapshots = list(ProgressSnapshot.objects.filter(operation=operation))
    return build_charts(
        board.operation, board.phases, snapshots, open_primary_blockers=len(board.primary_blockers), now=NOW
    )


def test_the_burnup_shows_done_against_scope_up_to_now(example_operation):
    history(example_operation, [(6, 20, 4), (4, 40, 8), (2, 60, 12)])

    burnup = charts_of(example_operation).burnup

    scope, done = burnup["data"]
    assert done["y"] == [4, 8, 12, 12] and scope["y"] == [20, 20, 20, 20]
    assert done["x"][-1] == NOW.isoformat()


def test_a_steady_history_gives_a_forecast_with_a_range(example_operation):
    services.blocker_resolve(blocker=example_operation.blockers.get(), actor=None)
    history(example_operation, [(8, 10, 2), (6, 30, 6), (4, 40, 8), (2, 62, 12)])

    forecast = charts_of(example_operation).operation_forecast

    assert forecast.status == "forecast" and not forecast.at_risk
    assert forecast.earliest <= forecast.estimate <= forecast.latest
    assert NOW < forecast.estimate < NOW + dt.timedelta(days=10)


def test_an_open_primary_blocker_puts_the_forecast_at_risk(example_operation):
    history(example_operation, [(8, 10, 2), (6, 30, 6), (4, 40, 8), (2, 62, 12)])

    assert charts_of(example_operation).operation_forecast.at_risk


def test_too_little_history_says_so_instead_of_inventing_a_date(client, team, viewer):
    page = logged_in(client, viewer).get(reverse("tracker:operation", args=[team.slug])).content.decode()

    assert "Not enough history for a forecast yet:" in page
    assert "Done by" not in page


def test_the_page_loads_plotly_from_our_own_static_files(client, team, viewer):
    page = logged_in(client, viewer).get(reverse("tracker:operation", args=[team.slug])).content.decode()

    assert '<script src="/static/vendor/plotly-basic.min.js" defer></script>' in page
    # Nothing from another host (a CSRF token may happen to spell "cdn": look at the addresses).
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)
    assert client.get("/static/vendor/plotly-basic.min.js").status_code == 200
    assert '<script id="chart-data" type="application/json">' in page


def test_an_unchanged_dashboard_answers_304_with_one_query(client, team, viewer):
    client = logged_in(client, viewer)
    url = reverse("tracker:operation", args=[team.slug])
    etag = client.get(url)["ETag"]

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert len([q for q in queries if "tracker_" in q["sql"]]) == 1  # the version; the rest is the session


def test_a_change_by_someone_else_changes_the_etag(client, team, viewer, teammate):
    client = logged_in(client, viewer)
    url = reverse("tracker:operation", args=[team.slug])
    etag = client.get(url)["ETag"]

    services.task_set_done(task=Task.objects.get(title="AWS Account Check"), done=True, actor=teammate)
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200 and response["ETag"] != etag
    assert "· teammate" in response.content.decode()


def test_an_outsider_polling_with_an_etag_still_gets_a_404(client, team, outsider, viewer):
    url = reverse("tracker:operation", args=[team.slug])
    etag = logged_in(client, viewer).get(url)["ETag"]

    assert logged_in(client, outsider).get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_a_phase_has_its_own_burnup_only_when_it_differs_from_the_operations(example_operation):
    """Phases 1-3 list no tasks (a flat zero) and phase 4 holds them all (the operation's chart again)."""
    charts = charts_of(example_operation)

    assert charts.phase_burnups == {} and "phase-burnup" not in charts.figures()
    assert charts.burnup_note == "Phase 4 holds all of the operation's tasks: its burn-up is the one above."

    services.task_create(
        operation=example_operation, phase=example_operation.phases.get(number=2), title="Late check", actor=None
    )
    charts = charts_of(example_operation)

    assert sorted(charts.phase_burnups) == [2, 4]
    assert charts.phase_burnup is charts.phase_burnups[4]  # the current phase's is shown first
    assert {"burnup", "phase-burnup", "phase-burnup-2", "phase-burnup-4"} <= charts.figures().keys()
    assert charts.burnup_note == ""


def test_a_check_backed_finding_shows_its_last_check_and_goes_stale(client, team, viewer):
    from tracker.models import Finding

    fresh = Finding.objects.get(subject="Subnet Configuration")
    old = Finding.objects.get(subject="VPC DNS")
    now = dt.datetime.now(dt.UTC)
    services.item_mark_checked(item=fresh, at=now - dt.timedelta(minutes=2), stale_after=dt.timedelta(minutes=15))
    services.item_mark_checked(item=old, at=now - dt.timedelta(hours=2), stale_after=dt.timedelta(minutes=15))

    page = logged_in(client, viewer).get(reverse("tracker:operation", args=[team.slug])).content.decode()

    fresh_item = page[page.index("Subnet Configuration") :]
    old_item = page[page.index("VPC DNS</strong>") :]
    assert "🔄 checked 2\xa0minutes ago" in words(fresh_item[: fresh_item.index("</li>")])
    assert "⚠️ stale: last checked 2\xa0hours ago" in words(old_item[: old_item.index("</li>")])
    # The instant itself is there too, in the <time> around the words.
    assert f'<time data-ago datetime="{now - dt.timedelta(hours=2):%Y-%m-%dT%H:%M}Z">' in old_item
    assert page.count('<span class="check') == 2  # items no check backs show nothing


def test_a_check_stamp_moves_the_etag_without_an_activity_entry(client, team, viewer):
    from tracker.models import ActivityEntry, Finding

    client = logged_in(client, viewer)
    url = reverse("tracker:operation", args=[team.slug])
    etag = client.get(url)["ETag"]
    entries = ActivityEntry.objects.count()

    services.item_mark_checked(item=Finding.objects.first(), at=dt.datetime.now(dt.UTC), stale_after=dt.timedelta(1))

    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert ActivityEntry.objects.count() == entries
