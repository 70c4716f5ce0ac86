"""The dashboard's kept sections (`{% live "…" kept %}`) are rendered once per version of the
operation and kind of viewer (tracker/templatetags/live.py), and what must be fresh on every view
is: the request's own CSRF token, "… ago", and whether a check went stale."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in
from tracker import services
from tracker.models import Finding, Task
from tracker.templatetags import board, live

pytestmark = pytest.mark.django_db

TITLE = "AWS Account Check"
KEPT = ("phases", "current", "decisions", "blockers", "achievements", "next", "quotes")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


def dashboard(client, operation) -> str:
    response = client.get(reverse("tracker:operation", args=[operation.slug]))
    assert response.status_code == 200
    return response.content.decode()


def line_of(page: str, task: Task) -> str:
    start = page.index(f'<li id="task-{task.pk}"')
    return page[start : page.index("</li>", start)]


def token_free(html: str) -> str:
    return TOKEN.sub("", html)


def kept_sections(page: str) -> dict[str, str]:
    """Each kept section's markup in a page (its wrapper holds its version)."""
    found = {}
    for name in KEPT:
        start = page.index(f'<div data-live-section="{name}"')
        found[name] = page[start : page.index('<div data-live-section="', start + 1)]
    return found


@pytest.fixture
def rendered(monkeypatch):
    """How many pieces of the team's words each view renders anew (every line and row has some)."""
    counts = {"words": 0}
    md = board.md

    def counting(text):
        counts["words"] += 1
        return md(text)

    monkeypatch.setattr(board, "md", counting)
    return counts


def test_a_second_view_of_a_version_renders_no_line_again_and_shows_the_same(client, team, teammate, rendered):
    client = logged_in(client, teammate)

    first = dashboard(client, team)
    made = rendered["words"]
    second = dashboard(client, team)

    assert made > 30 and rendered["words"] == made
    assert {n: token_free(html) for n, html in kept_sections(first).items()} == {
        n: token_free(html) for n, html in kept_sections(second).items()
    }


def test_a_change_renders_the_changed_lines_anew(client, team, teammate):
    client = logged_in(client, teammate)
    task = Task.objects.get(title=TITLE)
    assert 'aria-pressed="false"' in line_of(dashboard(client, team), task)

    services.task_set_done(task=task, done=True, actor=teammate)

    assert 'aria-pressed="true"' in line_of(dashboard(client, team), task)


def test_how_long_ago_is_worked_out_on_every_view(client, team, teammate, monkeypatch):
    client = logged_in(client, teammate)
    task = Task.objects.get(title=TITLE)
    dashboard(client, team)  # its sections kept

    monkeypatch.setattr(board, "ago", lambda at: "a while ago")
    line = line_of(dashboard(client, team), task)

    assert re.search(r'<time data-ago datetime="[^"]+" title="changed [^"]+">a while ago</time>', line)


def test_a_check_that_goes_stale_with_the_clock_alone_shows_it_on_the_next_view(client, team, teammate, monkeypatch):
    finding = Finding.objects.get(operation=team, subject="VPC DNS")
    now = timezone.now()
    services.item_mark_checked(item=finding, at=now - dt.timedelta(minutes=10), stale_after=dt.timedelta(minutes=15))
    client = logged_in(client, teammate)
    assert "⚠️ stale" not in dashboard(client, team)

    monkeypatch.setattr(timezone, "now", lambda: now + dt.timedelta(minutes=6))  # nothing else moves

    assert "⚠️ stale: last checked" in dashboard(client, team)


def test_each_view_carries_its_own_csrf_token(client, team, owner, teammate):
    """Kept sections hold no token: each page's forms carry the token of the person viewing it."""
    pages = {}
    for user in (teammate, owner):  # the same version; the owner's view reads the teammate's sections
        page_client = logged_in(Client(), user)  # a browser each
        pages[user.username] = (dashboard(page_client, team), page_client.cookies["csrftoken"].value)

    for page, secret in pages.values():
        tokens = set(TOKEN.findall(page))
        assert len(tokens) == 1  # the ticks' and the other forms' alike
        assert _unmask_cipher_token(tokens.pop()) == secret
    assert pages["teammate"][1] != pages["owner"][1]
    assert not any(token for _version, markup in live._kept.values() for token in TOKEN.findall(markup))


def test_a_viewer_never_gets_the_forms_an_editor_was_shown(client, team, teammate, viewer):
    editor_page = dashboard(logged_in(Client(), teammate), team)

    viewer_page = dashboard(logged_in(client, viewer), team)

    editor_sections, viewer_sections = (
        "".join(kept_sections(editor_page).values()),
        "".join(kept_sections(viewer_page).values()),
    )
    assert "Mark done" in editor_sections and 'id="add-blocker"' in editor_sections
    assert "Mark done" not in viewer_sections and 'id="add-blocker"' not in viewer_sections
    assert not TOKEN.search(viewer_sections)


def test_a_public_link_never_shows_the_names_a_member_was_shown(client, team, owner, teammate):
    _link, token = services.public_link_create(operation=team, actor=owner)
    task = Task.objects.get(title=TITLE)
    services.task_update(task=task, detail="Checked by hand", actor=teammate)
    member_line = line_of(dashboard(logged_in(client, owner), team), task)

    client.logout()
    public_line = line_of(client.get(f"/p/{token}/").content.decode(), task)

    assert "· teammate" in member_line
    assert "teammate" not in public_line and "Mark done" not in public_line


def test_a_poll_sends_the_kept_sections_as_the_page_shows_them(client, team, teammate):
    client = logged_in(client, teammate)
    page = dashboard(client, team)

    news = client.get(reverse("tracker:operation-live", args=[team.slug])).json()["sections"]

    for name, markup in kept_sections(page).items():
        assert markup.startswith(f'<div data-live-section="{name}" data-version="{news[name]["version"]}">')
        assert token_free(news[name]["html"]) in token_free(markup)


def test_the_kept_sections_are_bounded(client, team, teammate, monkeypatch):
    monkeypatch.setattr(live, "MAX_KEPT_CHARACTERS", 2_000)

    page = dashboard(logged_in(client, teammate), team)

    assert live._kept_characters <= 2_000 or len(live._kept) == 1
    assert TITLE in page
