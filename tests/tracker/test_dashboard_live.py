"""The dashboard's live view (tracker/views/pages.py: dashboard_live): 304 while the operation is
unchanged, else only the sections and figures whose versions the page does not hold."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.db.models import F
from django.urls import reverse

from tests.conftest import logged_in
from tracker import services
from tracker.models import Finding, Operation, Task

pytestmark = pytest.mark.django_db


def the_page(client, operation) -> tuple[dict[str, str], dict[str, str], str]:
    """The section versions, the figure versions and the ETag of the dashboard as a browser gets it."""
    response = client.get(reverse("tracker:operation", args=[operation.slug]))
    page = response.content.decode()
    sections = dict(re.findall(r'data-live-section="([^"]+)" data-version="([^"]+)"', page))
    figures = json.loads(re.search(r'<script id="chart-versions" type="application/json">(.*?)</script>', page)[1])
    return sections, figures, response["ETag"]


def poll(client, operation, sections: dict, figures: dict, etag: str = ""):
    held = {
        "X-Live-Sections": ",".join(f"{name}={version}" for name, version in sections.items()),
        "X-Live-Figures": ",".join(f"{key}={version}" for key, version in figures.items()),
    }
    if etag:
        held["If-None-Match"] = etag
    return client.get(reverse("tracker:operation-live", args=[operation.slug]), headers=held)


def bump(operation) -> None:
    Operation.objects.filter(pk=operation.pk).update(version=F("version") + 1)


def test_it_answers_304_while_the_operation_is_unchanged(client, team, viewer):
    client = logged_in(client, viewer)
    sections, figures, etag = the_page(client, team)

    assert poll(client, team, sections, figures, etag).status_code == 304


def test_it_sends_only_the_sections_and_figures_a_tick_changed(client, team, viewer, teammate):
    client = logged_in(client, viewer)
    sections, figures, etag = the_page(client, team)

    services.task_set_done(task=Task.objects.get(title="AWS Account Check"), done=True, actor=teammate)
    response = poll(client, team, sections, figures, etag)

    news = response.json()
    assert response.status_code == 200 and response["ETag"] != etag
    assert {"phases", "current", "activity"} <= news["sections"].keys()
    assert not {"decisions", "blockers", "achievements", "quotes"} & news["sections"].keys()
    assert "· teammate" in news["sections"]["current"]["html"]
    assert "burnup" in news["figures"]
    # Phase 4 holds all the operation's tasks: its burn-up would be the operation's again (issue #15).
    assert not {"phase-burnup", "phase-burnup-4", "phase-burnup-1"} & news["figures"].keys()
    assert "order" not in news


def test_a_check_run_within_the_minute_sends_no_section_and_no_figure(client, team, viewer):
    finding = Finding.objects.filter(operation=team).first()
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=3)
    services.item_mark_checked(item=finding, at=minute, stale_after=dt.timedelta(minutes=15))
    client = logged_in(client, viewer)
    sections, figures, etag = the_page(client, team)

    services.item_mark_checked(item=finding, at=minute + dt.timedelta(seconds=40), stale_after=dt.timedelta(minutes=15))
    bump(team)  # as ops/runner.py does after the runs
    response = poll(client, team, sections, figures, etag)

    assert response.status_code == 200
    assert response.json() == {"sections": {}, "figures": {}}


def test_a_check_that_stops_running_turns_stale_on_an_open_page(client, team, viewer, monkeypatch):
    """Nothing moves the version when the worker that runs the checks is gone: the clock alone must
    reach the open pages, or they would say "checked" for ever."""
    from django.utils import timezone

    finding = Finding.objects.get(operation=team, subject="VPC DNS")
    now = timezone.now()
    services.item_mark_checked(item=finding, at=now - dt.timedelta(minutes=10), stale_after=dt.timedelta(minutes=15))
    client = logged_in(client, viewer)
    sections, figures, etag = the_page(client, team)
    assert poll(client, team, sections, figures, etag).status_code == 304

    monkeypatch.setattr(timezone, "now", lambda: now + dt.timedelta(minutes=6))
    response = poll(client, team, sections, figures, etag)

    assert response.status_code == 200 and response["ETag"] != etag
    changed_sections = response.json()["sections"]
    assert any("⚠️ stale: last checked" in part["html"] for part in changed_sections.values())
    assert poll(client, team, sections, figures, response["ETag"]).status_code == 304  # and then quiet again


def test_a_section_the_page_lacks_comes_with_the_order_of_all_sections(client, team, viewer):
    client = logged_in(client, viewer)
    sections, figures, _ = the_page(client, team)
    del sections["blockers"]

    news = poll(client, team, sections, figures).json()

    assert list(news["sections"]) == ["blockers"]
    assert "1 open" in news["sections"]["blockers"]["html"]
    assert news["order"][:4] == ["status", "undo", "contents", "phases"]


def test_a_figure_the_page_holds_but_the_server_no_longer_has_is_dropped(client, team, viewer):
    client = logged_in(client, viewer)
    sections, figures, _ = the_page(client, team)

    news = poll(client, team, sections, {**figures, "ml-latency": "0ld"}).json()

    assert news["dropped_figures"] == ["ml-latency"]


def test_a_poll_leaves_a_message_for_the_next_page(client, team, teammate):
    client = logged_in(client, teammate)
    sections, figures, _ = the_page(client, team)
    task = Task.objects.get(title="AWS Account Check")
    client.post(reverse("tracker:task-toggle", args=[team.slug, task.pk]), {"done": "1"})  # not followed

    poll(client, team, sections, figures)
    page = client.get(reverse("tracker:operation", args=[team.slug])).content.decode()

    assert "Done: AWS Account Check" in page


def test_it_is_compressed_for_a_browser(client, team, viewer):
    client = logged_in(client, viewer)

    response = client.get(reverse("tracker:operation-live", args=[team.slug]), headers={"Accept-Encoding": "gzip"})

    assert response["Content-Encoding"] == "gzip" and response["Cache-Control"] == "no-store"


def test_an_outsider_gets_a_404_with_or_without_an_etag(client, team, viewer, outsider):
    _, _, etag = the_page(logged_in(client, viewer), team)
    client = logged_in(client, outsider)

    assert poll(client, team, {}, {}, etag).status_code == 404
    assert poll(client, team, {}, {}).status_code == 404


def test_a_figure_keeps_its_version_while_only_the_clock_moves(team):
    from tracker.dashboard import build_dashboard, page_charts, panels_for
    from tracker.selectors import operation_for_dashboard

    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=4)
    for number in (1, 2, 3, 4):  # one day each; phase 4, the current one, runs to now
        finished = start + dt.timedelta(days=number) if number < 4 else None
        team.phases.filter(number=number).update(started_at=start + dt.timedelta(days=number - 1), finished_at=finished)
    board = build_dashboard(operation_for_dashboard().get(pk=team.pk))

    first, second = page_charts(board, panels_for(team)), page_charts(board, panels_for(team))

    assert first.figures["timeline"] != second.figures["timeline"]  # the current phase's bar runs to now
    assert first.figures["burnup"] != second.figures["burnup"]
    assert first.versions == second.versions
