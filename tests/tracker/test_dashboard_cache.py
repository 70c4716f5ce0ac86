"""The dashboard's content is loaded once per version of the operation (tracker/dashboard_cache.py):
a second view of an unchanged operation reads it from the cache, any change shows at once (items,
activity, progress), the viewer's role is never the cached copy's, and a cache that is down only
makes the page load as it did without one."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import logged_in
from tracker import services
from tracker.models import Decision, Task

pytestmark = pytest.mark.django_db

# What the page loads of the operation besides its row: its phases and items (the dashboard's
# prefetches), its progress history and its latest activity. Read from the cache, none is queried.
CONTENT_TABLES = (
    "tracker_progresssnapshot",
    "tracker_activityentry",
    "tracker_phase",
    "tracker_task",
    "tracker_challenge",
    "tracker_finding",
    "tracker_blocker",
    "tracker_decision",
    "tracker_achievement",
    "tracker_quote",
)


def dashboard_url(operation) -> str:
    return reverse("tracker:operation", args=[operation.slug])


def queried_tables(client, url: str) -> tuple[str, list[str]]:
    """The page, and the tracker content tables its queries read from."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    froms = [query["sql"].split(" FROM ", 1)[1].split()[0].strip('"') for query in captured if " FROM " in query["sql"]]
    return response.content.decode(), [table for table in froms if table in CONTENT_TABLES]


def test_a_second_view_of_the_same_version_reads_no_content_and_shows_the_same(client, team, viewer):
    client = logged_in(client, viewer)

    first, first_tables = queried_tables(client, dashboard_url(team))
    second, second_tables = queried_tables(client, dashboard_url(team))

    assert sorted(set(first_tables)) == sorted(CONTENT_TABLES)
    assert second_tables == []
    for words in ("AWS Account Check", "Investigation results", "Achievements"):
        assert first.count(words) == second.count(words) > 0


def done_over_time(page: str) -> list[int]:
    """The operation burn-up's "done" line, as the page's chart data draws it."""
    figures = json.loads(re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page, re.S)[1])
    return figures["burnup"]["data"][1]["y"]


def test_a_change_shows_on_the_next_view(client, team, teammate):
    client = logged_in(client, teammate)
    before = client.get(dashboard_url(team)).content.decode()  # cached at this version

    services.decision_create(operation=team, title="Serve from two regions", actor=teammate)
    task = Task.objects.get(title="AWS Account Check")
    services.task_update(task=task, title="AWS account checked twice", actor=teammate)
    services.task_set_done(task=task, done=True, actor=teammate)

    page, tables = queried_tables(client, dashboard_url(team))
    assert "Serve from two regions" in page and "AWS account checked twice" in page
    assert "tracker_decision" in tables  # a new version is loaded afresh
    activity = page[page.index('data-live-section="activity"') :]
    assert "Serve from two regions" in activity[: activity.index("</section>")]
    # The tick is a new point of the burn-up, drawn from the progress history of the new version.
    assert done_over_time(page)[-1] == done_over_time(before)[-1] + 1
    # The live endpoint reads the same version's content: what it sends is the new one.
    live = client.get(reverse("tracker:operation-live", args=[team.slug]))
    assert "Serve from two regions" in live.content.decode()


def test_each_viewer_gets_their_own_role_from_a_shared_entry(client, team, owner, viewer):
    admin_page = logged_in(client, owner).get(dashboard_url(team)).content.decode()
    viewer_page, tables = queried_tables(logged_in(client, viewer), dashboard_url(team))
    again = logged_in(client, owner).get(dashboard_url(team)).content.decode()

    assert tables == []  # the viewer read the entry the admin's view left
    assert "Raise a blocker" in admin_page and "Raise a blocker" in again
    assert "Raise a blocker" not in viewer_page and "Mark done" not in viewer_page


def test_an_outsider_gets_a_404_even_when_the_content_is_cached(client, team, viewer, outsider):
    logged_in(client, viewer).get(dashboard_url(team))

    assert logged_in(client, outsider).get(dashboard_url(team)).status_code == 404


def test_a_cache_that_is_down_leaves_the_page_as_it_was(client, team, viewer, monkeypatch, caplog):
    def refused(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(caches["default"], "get", refused)
    monkeypatch.setattr(caches["default"], "set", refused)
    client = logged_in(client, viewer)

    for _ in range(2):
        page, tables = queried_tables(client, dashboard_url(team))
        assert "AWS Account Check" in page and sorted(set(tables)) == sorted(CONTENT_TABLES)
    assert "dashboard cache unavailable" in caplog.text


def test_a_row_with_the_same_id_and_version_but_another_creation_is_never_read_from_the_entry(client, team, viewer):
    """A database whose ids start again (a restored backup, a new test run on a shared cache) can
    hold another operation under the same id at the same version: its creation time tells them apart."""
    client = logged_in(client, viewer)
    client.get(dashboard_url(team))
    # Another row in the same place: the same id and version, other content, no version bump.
    type(team).objects.filter(pk=team.pk).update(created_at=team.created_at - dt.timedelta(days=1))
    Decision.objects.filter(operation=team).update(title="A decision of another operation")

    page, tables = queried_tables(client, dashboard_url(team))

    assert "A decision of another operation" in page and "tracker_decision" in tables


def test_an_entry_of_another_release_is_never_read(client, team, viewer, monkeypatch):
    """The key holds a digest of the shape of what is kept: a release that adds a field (to a model or
    to DashboardContent) or runs another Django reads none of the entries the last one wrote."""
    from tracker import dashboard_cache

    client = logged_in(client, viewer)
    client.get(dashboard_url(team))
    shape = dashboard_cache._content_shape()

    real_fields = dashboard_cache.fields
    monkeypatch.setattr(dashboard_cache, "fields", lambda cls: (*real_fields(cls), *real_fields(cls)[:1]))
    dashboard_cache._content_shape.cache_clear()
    try:
        _, tables = queried_tables(client, dashboard_url(team))
        assert dashboard_cache._content_shape() != shape
    finally:
        dashboard_cache._content_shape.cache_clear()

    assert sorted(set(tables)) == sorted(CONTENT_TABLES)


def instances(content) -> list:
    """Every model instance a dashboard's content holds."""
    operation = content.operation
    prefetched = [item for items in operation._prefetched_objects_cache.values() for item in items]
    return [operation, *prefetched, *content.history, *content.activity]


def test_views_share_a_process_copy_and_never_change_it(client, team, owner, viewer, teammate, monkeypatch):
    """Each process keeps the versions it read as objects, shared by its requests (threads
    included): no view may set anything on them, or one viewer's role or words could reach another."""
    from tracker import dashboard_cache

    monkeypatch.setattr(dashboard_cache, "_in_process", {})
    logged_in(client, viewer).get(dashboard_url(team))
    (content,) = dashboard_cache._in_process.values()
    before = [
        (obj, dict(vars(obj)), dict(vars(obj._state)) | {"fields_cache": dict(obj._state.fields_cache)})
        for obj in instances(content)
    ]

    for user in (owner, teammate, viewer):
        user_client = logged_in(client, user)
        assert user_client.get(dashboard_url(team)).status_code == 200
        assert user_client.get(reverse("tracker:operation-live", args=[team.slug])).status_code == 200

        (again,) = dashboard_cache._in_process.values()
        assert again is content  # the same objects, read by every view
        for obj, attributes, state in before:
            assert vars(obj) == attributes, (user, obj)
            assert dict(vars(obj._state)) | {"fields_cache": dict(obj._state.fields_cache)} == state, (user, obj)


def test_a_write_that_does_not_move_the_version_shows_once_the_content_is_read_again(
    client, team, teammate, viewer, monkeypatch
):
    """A person renamed (or SQL by hand) moves no operation's version: what each process keeps, and
    the sections kept from it, are served at most CACHE_SECONDS after they were read."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from tracker import dashboard_cache

    services.task_set_done(task=Task.objects.get(operation=team, title="AWS Account Check"), done=True, actor=teammate)
    client = logged_in(client, viewer)
    assert teammate.username in client.get(dashboard_url(team)).content.decode()
    get_user_model().objects.filter(pk=teammate.pk).update(username="renamed-teammate")

    assert "renamed-teammate" not in client.get(dashboard_url(team)).content.decode()  # kept, as it should be
    later = timezone.now() + dt.timedelta(seconds=dashboard_cache.CACHE_SECONDS + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the shared cache's own expiry does not move

    assert "renamed-teammate" in client.get(dashboard_url(team)).content.decode()


def test_a_public_links_kept_sections_are_rendered_again_each_period(client, team, owner, monkeypatch):
    from django.utils import timezone

    from tracker import dashboard_cache

    _link, token = services.public_link_create(operation=team, actor=owner)
    url = reverse("tracker:public", args=[token])
    task = Task.objects.get(operation=team, title="AWS Account Check")
    assert task.title in client.get(url).content.decode()
    Task.objects.filter(pk=task.pk).update(title="Renamed by hand")

    assert "Renamed by hand" not in client.get(url).content.decode()
    later = timezone.now() + dt.timedelta(seconds=dashboard_cache.CACHE_SECONDS + 1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert "Renamed by hand" in client.get(url).content.decode()


def test_what_is_kept_holds_no_ones_password_hash_or_email(client, team, owner, teammate, viewer, monkeypatch):
    """The content goes into the shared cache (Redis in production): it holds who changed what by
    name, never the rest of their user row."""
    import pickle

    from tracker import dashboard_cache

    monkeypatch.setattr(dashboard_cache, "_in_process", {})
    services.task_set_done(task=Task.objects.get(operation=team, title="AWS Account Check"), done=True, actor=teammate)
    services.task_set_done(task=Task.objects.get(operation=team, title="AWS Account Check"), done=False, actor=owner)
    logged_in(client, viewer).get(dashboard_url(team))
    (content,) = dashboard_cache._in_process.values()
    kept = pickle.dumps(content)

    assert teammate.username.encode() in kept and owner.username.encode() in kept
    for user in (owner, teammate):
        user.refresh_from_db()
        assert user.password.encode() not in kept and user.email.encode() not in kept
