"""The dashboard's item lines and phase rows are rendered once per version of the operation and
kind of viewer (tracker/templatetags/board.py), and what must be fresh on every view is: the
request's own CSRF token, "… ago", what a live check saw and whether it went stale."""

from __future__ import annotations

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from tests.conftest import logged_in
from tracker import services
from tracker.models import Task
from tracker.templatetags import board

pytestmark = pytest.mark.django_db

TITLE = "AWS Account Check"


def dashboard(client, operation) -> str:
    response = client.get(reverse("tracker:operation", args=[operation.slug]))
    assert response.status_code == 200
    return response.content.decode()


def line_of(page: str, task: Task) -> str:
    start = page.index(f'<li id="task-{task.pk}"')
    return page[start : page.index("</li>", start)]


@pytest.fixture
def rendered(monkeypatch):
    """How many lines and rows each view renders anew."""
    counts = {"lines": 0}

    def counting(render):
        def wrapper(*args, **kwargs):
            counts["lines"] += 1
            return render(*args, **kwargs)

        return wrapper

    for name in ("_task_line_parts", "_item_line_parts", "_phase_row"):
        monkeypatch.setattr(board, name, counting(getattr(board, name)))
    return counts


def test_a_second_view_of_a_version_renders_no_line_again_and_shows_the_same(client, team, teammate, rendered):
    client = logged_in(client, teammate)

    first = dashboard(client, team)
    made = rendered["lines"]
    second = dashboard(client, team)

    assert made > 30 and rendered["lines"] == made
    tasks = Task.objects.filter(operation=team, phase=team.current_phase)
    assert tasks and all(token_free(line_of(first, t)) == token_free(line_of(second, t)) for t in tasks)


def token_free(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_a_change_renders_the_changed_lines_anew(client, team, teammate):
    client = logged_in(client, teammate)
    task = Task.objects.get(title=TITLE)
    assert 'aria-pressed="false"' in line_of(dashboard(client, team), task)

    services.task_set_done(task=task, done=True, actor=teammate)

    assert 'aria-pressed="true"' in line_of(dashboard(client, team), task)


def test_how_long_ago_is_worked_out_on_every_view(client, team, teammate, monkeypatch):
    client = logged_in(client, teammate)
    task = Task.objects.get(title=TITLE)
    dashboard(client, team)  # its lines kept

    monkeypatch.setattr(board, "_ago", lambda at: "a while ago")

    assert "a while ago</time>" in line_of(dashboard(client, team), task)


def test_each_view_carries_its_own_csrf_token(client, team, owner, teammate):
    """Kept lines hold no token: each page's tick forms carry the token of the person viewing it."""
    pages = {}
    for user in (teammate, owner):  # the same version; the owner's view reads the teammate's lines
        page_client = logged_in(Client(), user)  # a browser each
        pages[user.username] = (dashboard(page_client, team), page_client.cookies["csrftoken"].value)

    for page, secret in pages.values():
        tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', page))
        assert len(tokens) == 1  # the ticks' and the other forms' alike
        assert _unmask_cipher_token(tokens.pop()) == secret
    assert pages["teammate"][1] != pages["owner"][1]


def test_a_public_link_never_shows_the_names_a_member_was_shown(client, team, owner, teammate):
    _link, token = services.public_link_create(operation=team, actor=owner)
    task = Task.objects.get(title=TITLE)
    services.task_update(task=task, detail="Checked by hand", actor=teammate)
    member_line = line_of(dashboard(logged_in(client, owner), team), task)

    client.logout()
    public_line = line_of(client.get(f"/p/{token}/").content.decode(), task)

    assert "· teammate" in member_line
    assert "teammate" not in public_line and "Mark done" not in public_line


def test_the_kept_lines_are_bounded(client, team, teammate, monkeypatch):
    monkeypatch.setattr(board, "MAX_KEPT_LINES", 5)

    page = dashboard(logged_in(client, teammate), team)

    assert len(board._kept_lines) <= 5
    assert TITLE in page
