"""The top of the dashboard (tracker/summary.py): where the operation stands, its forecast in one
sentence, activity as sentences, undo for ticks and resolves, the timeline from the document, and
what all of it costs in queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in
from tracker import services
from tracker.charts import build_charts
from tracker.dashboard import Panel, build_dashboard, panel_providers
from tracker.models import Blocker, Finding, ProgressSnapshot, Task
from tracker.selectors import operation_with_content
from tracker.summary import Tally

pytestmark = pytest.mark.django_db

TITLE = "AWS Account Check"


def page_of(client, user, operation) -> str:
    return logged_in(client, user).get(reverse("tracker:operation", args=[operation.slug])).content.decode()


def header_of(page: str) -> str:
    """The first screen: the live "status" section."""
    start = page.index('data-live-section="status"')
    return page[start : page.index("</header>", start)]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_it_shows_both_percentages_of_the_current_phase_and_why_they_differ(client, team, viewer):
    header = header_of(page_of(client, viewer, team))

    assert 'data-testid="stated-progress">90%<' in header
    assert 'data-testid="ticked-progress">38%<' in header
    assert "90% is the team&#x27;s own estimate in the document; 38% counts the tasks ticked (8 of 21 tasks)." in header


def test_the_phase_figures_agree_or_come_from_the_tasks_alone(client, team, viewer):
    phase = team.phases.get(number=4)
    services.item_update(item=phase, actor=None, stated_progress=None)

    header = header_of(page_of(client, viewer, team))
    tile = text_of(header[header.index("tile-phase") : header.index("tile-blockers")])

    assert "38% ticked" in tile and "stated" not in tile
    assert "Counted from its tasks: 8 of 21 tasks ticked." in tile


def test_it_names_the_open_primary_blockers_and_says_when_there_are_none(client, team, viewer, teammate):
    header = header_of(page_of(client, viewer, team))
    assert 'role="alert"' in header and "1 primary blocker open" in header

    services.blocker_resolve(blocker=team.blockers.get(), actor=teammate)
    header = header_of(page_of(client, viewer, team))

    assert 'role="alert"' not in header and "None open." in header


def test_it_counts_failing_checks_n_of_m_from_the_check_backed_items(client, team, viewer):
    header = text_of(header_of(page_of(client, viewer, team)))
    assert "No live checks." in header

    now = dt.datetime.now(dt.UTC)
    findings = list(Finding.objects.filter(operation=team)[:3])
    for finding, verdict in zip(findings, ("pass", "fail", "pass"), strict=True):
        services.item_mark_checked(item=finding, at=now, stale_after=dt.timedelta(minutes=5))
        services.item_record_check(item=finding, verdict=verdict, observed="seen")

    assert "1 of 3 failing" in text_of(header_of(page_of(client, viewer, team)))


def test_a_panel_that_reports_a_tally_is_what_the_summary_counts(client, team, viewer):
    def panel(operation):
        return Panel(
            id="probes", title="Probes", template="snippets/plotly_head.html", context={}, tally=Tally("checks", 2, 7)
        )

    panel_providers.append(panel)
    try:
        header = text_of(header_of(page_of(client, viewer, team)))
    finally:
        panel_providers.remove(panel)

    assert "2 of 7 failing" in header


def test_a_finished_phase_moved_back_to_is_complete_and_never_at_risk(client, team, viewer, owner):
    """Phase 3 is at 100% while a primary blocker is open: it is complete, the operation is at risk."""
    services.operation_set_current_phase(operation=team, phase=team.phases.get(number=3), actor=owner)
    page = page_of(client, viewer, team)

    boxes = re.findall(r'<div class="forecast ([^"]*)" data-testid="forecast">(.*?)</div>', page, re.S)
    phase_box = next(body for classes, body in boxes if "Phase 3" in body)
    assert "Phase 3 is complete." in phase_box and "at risk" not in phase_box
    summary = re.search(r'data-testid="summary-forecast">(.*?)</p>', page, re.S)[1]
    assert summary.startswith("Not enough history for a forecast yet") and "complete" not in summary
    assert summary.endswith("; at risk because of 1 open primary blocker.")


def test_activity_entries_read_as_sentences_with_their_time_in_a_time_element(client, team, viewer, teammate):
    task = Task.objects.get(title=TITLE)
    services.task_set_done(task=task, done=True, actor=teammate)
    services.blocker_resolve(blocker=team.blockers.get(), actor=teammate, status_text="Fresh VPC")

    page = page_of(client, viewer, team)
    start = page.index('id="activity"')
    feed = page[start : page.index("</section>", start)]

    assert "teammate resolved the blocker ‘VPC Network Configuration’" in feed
    assert f"teammate ticked ‘{TITLE}’" in feed
    visible = re.sub(r"<time [^>]*>", "<time>", feed)  # the instant is in the attribute, not in the text
    assert "`" not in text_of(visible) and "done_at" not in visible
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text_of(visible))
    assert re.search(r'<time data-ago datetime="\d{4}-\d\d-\d\dT[^"]+" title="[^"]+ UTC">[^<]*(?:ago|now)</time>', feed)
    # The summary repeats the latest ones.
    assert "teammate resolved the blocker" in header_of(page)


def test_the_viewer_reads_their_own_changes_as_you(client, team, teammate):
    services.task_set_done(task=Task.objects.get(title=TITLE), done=True, actor=teammate)

    assert f"You ticked ‘{TITLE}’" in page_of(client, teammate, team)


# --- undo ---------------------------------------------------------------------------------------


def undo_form(page: str) -> tuple[str, dict[str, str]] | None:
    """The action and fields of the undo toast's form, or None when the page offers no undo."""
    toast = re.search(r'<aside class="toast".*?</aside>', page, re.S)
    if toast is None:
        return None
    action = re.search(r'<form method="post" action="([^"]+)"', toast[0])[1]
    return action, dict(re.findall(r'name="(\w+)" value="([^"]*)"', toast[0]))


def test_an_editor_undoes_their_tick_through_the_toggle(client, team, teammate):
    task = Task.objects.get(title=TITLE)
    client = logged_in(client, teammate)
    client.post(reverse("tracker:task-toggle", args=[team.slug, task.pk]), {"done": "1"})

    action, fields = undo_form(page_of(client, teammate, team))
    assert action == reverse("tracker:task-toggle", args=[team.slug, task.pk]) and fields["done"] == "0"
    assert 'aria-label="Undo: reopen AWS Account Check"' in page_of(client, teammate, team)
    client.post(action, fields)

    task.refresh_from_db()
    assert task.done is False and task.done_at is None


def test_an_editor_undoes_a_resolve_by_reopening_the_blocker(client, team, teammate):
    blocker = team.blockers.get()
    client = logged_in(client, teammate)
    client.post(reverse("tracker:blocker-resolve", args=[team.slug, blocker.pk]), {"status_text": "gone"})

    action, fields = undo_form(page_of(client, teammate, team))
    assert action == reverse("tracker:blocker-reopen", args=[team.slug, blocker.pk])
    client.post(action, fields)

    blocker.refresh_from_db()
    assert blocker.state == Blocker.State.OPEN and blocker.resolved_at is None


def test_only_the_person_who_ticked_is_offered_the_undo_and_only_for_a_while(
    client, team, teammate, owner, viewer, monkeypatch
):
    task = Task.objects.get(title=TITLE)
    services.task_set_done(task=task, done=True, actor=teammate)

    assert undo_form(page_of(client, owner, team)) is None  # another editor: it is not theirs to undo
    assert undo_form(page_of(client, viewer, team)) is None  # a viewer may not tick at all
    assert undo_form(page_of(client, teammate, team)) is not None

    # Eleven minutes later, nothing else changed (the page of this version is read from the cache).
    later = timezone.now() + dt.timedelta(minutes=11)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert undo_form(page_of(client, teammate, team)) is None


def test_no_undo_once_someone_changed_the_item_back(client, team, teammate, owner):
    task = Task.objects.get(title=TITLE)
    services.task_set_done(task=task, done=True, actor=teammate)
    Task.objects.filter(pk=task.pk).update(done=False)  # changed back behind the log's back

    assert undo_form(page_of(client, teammate, team)) is None


def test_an_undo_posted_by_a_viewer_is_refused_and_changes_nothing(client, team, teammate, viewer):
    task = Task.objects.get(title=TITLE)
    services.task_set_done(task=task, done=True, actor=teammate)
    action, fields = undo_form(page_of(client, teammate, team))

    response = logged_in(client, viewer).post(action, fields)

    assert response.status_code == 403
    task.refresh_from_db()
    assert task.done is True


def test_the_reopen_and_tick_buttons_have_names_that_say_what_they_act_on(client, team, teammate):
    services.blocker_resolve(blocker=team.blockers.get(), actor=teammate)
    page = page_of(client, teammate, team)

    assert 'aria-label="Reopen blocker: VPC Network Configuration">Reopen</button>' in page
    assert f'aria-label="Mark done: {TITLE}">⬜</button>' in page
    assert 'aria-label="Mark done: `' not in page  # the words, not the markdown


# --- contents, timeline, burn-ups ----------------------------------------------------------------


def test_a_contents_list_leads_to_every_section(client, team, viewer):
    page = page_of(client, viewer, team)
    nav = re.search(r'<nav class="contents" aria-label="Sections of this page">(.*?)</nav>', page, re.S)[1]

    for anchor in re.findall(r'href="#([\w-]+)"', nav):
        assert f'id="{anchor}"' in page
    assert {"phases", "current", "blockers", "achievements", "activity"} <= set(re.findall(r'href="#([\w-]+)"', nav))


def charts_of(operation, now: dt.datetime):
    board = build_dashboard(operation_with_content().get(pk=operation.pk))
    snapshots = list(ProgressSnapshot.objects.filter(operation=operation))
    return build_charts(board.operation, board.phases, snapshots, open_primary_blockers=0, now=now)


def test_the_timeline_follows_the_documents_start_date_and_durations(example_operation):
    now = dt.datetime(2025, 8, 11, 6, 0, tzinfo=dt.UTC)
    charts = charts_of(example_operation, now)

    finished, running = charts.timeline["data"]
    assert finished["y"] == ["Phase 1", "Phase 2", "Phase 3"]
    assert finished["base"][0] == "2025-08-11T00:00:00+00:00"
    assert finished["x"][0] == (2 * 3600 + 41 * 60) * 1000  # "2 hours 41 minutes"
    assert finished["base"][1] == "2025-08-11T02:41:00+00:00"  # phase 2 starts when phase 1 ends
    assert running["y"] == ["Phase 4"] and running["base"] == ["2025-08-11T03:36:00+00:00"]
    assert (
        charts.timeline_note
        == "Placed by the document from its start date (Aug 11, 2025) and each phase's stated duration."
    )


def test_the_apps_own_stamps_win_over_the_document(example_operation):
    started = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    example_operation.phases.filter(number=1).update(started_at=started, finished_at=started + dt.timedelta(hours=1))

    finished, _ = charts_of(example_operation, started + dt.timedelta(days=1)).timeline["data"]

    assert finished["base"][0] == "2026-01-05T09:00:00+00:00" and finished["x"][0] == 3600 * 1000
    assert finished["base"][1] == "2026-01-05T10:00:00+00:00"


# --- cost -----------------------------------------------------------------------------------------


def dashboard_queries(client, user, operation) -> list[str]:
    client = logged_in(client, user)
    url = reverse("tracker:operation", args=[operation.slug])
    client.get(url)  # warm: the session's first use
    # The first view of a new version, which loads the whole content (a later view reads it from
    # the cache: tests/tracker/test_dashboard_cache.py).
    services.operations_touch(operation_ids=[operation.pk])
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in queries]


def test_the_summary_adds_no_query_and_the_count_does_not_grow_with_the_operation(client, team, teammate):
    before = dashboard_queries(client, teammate, team)
    phase = team.phases.get(number=4)
    for n in range(15):
        task = services.task_create(operation=team, phase=phase, title=f"Extra {n}", actor=teammate)
        services.task_set_done(task=task, done=True, actor=teammate)
    for n in range(5):
        services.blocker_open(operation=team, title=f"Blocker {n}", actor=teammate)
    # Changed by a person, which the page does not say of these: no join, and no query each.
    services.phase_edit(phase=phase, title="Renamed by a teammate", actor=teammate)
    services.quote_create(operation=team, text="Said by a teammate", actor=teammate)
    services.operation_update(operation=team, motto="Changed by a teammate", actor=teammate)

    after = dashboard_queries(client, teammate, team)

    assert len(after) == len(before)
    # One read of the activity feed (the summary's latest changes and the undo come from it).
    assert sum("tracker_activityentry" in sql for sql in after) == 1
