"""Editing from the dashboard: editors change things through plain form posts; others cannot."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import logged_in
from tracker import services
from tracker.models import ActivityEntry, Blocker, Decision, Finding, Phase, Task

pytestmark = pytest.mark.django_db


def url(name: str, operation, *args) -> str:
    return reverse(f"tracker:{name}", args=[operation.slug, *args])


@pytest.fixture
def task(team):
    return Task.objects.get(title="AWS Account Check")


def test_an_editor_ticks_a_task(client, team, teammate, task):
    response = logged_in(client, teammate).post(url("task-toggle", team, task.pk), {"done": "1"})

    assert response.status_code == 302 and response["Location"].endswith(f"#task-{task.pk}")
    task.refresh_from_db()
    assert task.done
    entry = ActivityEntry.objects.first()
    assert (entry.actor_name, entry.changes["done"]) == ("teammate", [False, True])


def test_an_editor_unticks_a_task(client, team, teammate, task):
    services.task_set_done(task=task, done=True, actor=None)

    logged_in(client, teammate).post(url("task-toggle", team, task.pk), {"done": "0"})

    task.refresh_from_db()
    assert not task.done


def test_a_viewer_cannot_tick_a_task(client, team, viewer, task):
    response = logged_in(client, viewer).post(url("task-toggle", team, task.pk), {"done": "1"})

    assert response.status_code == 403
    task.refresh_from_db()
    assert not task.done


def test_an_outsider_cannot_even_find_the_task(client, team, outsider, task):
    assert logged_in(client, outsider).post(url("task-toggle", team, task.pk), {"done": "1"}).status_code == 404


def test_a_task_of_another_operation_is_not_found_here(client, team, teammate):
    other = services.operation_create(workspace=team.workspace, name="Operation Other", actor=None)
    phase = services.phase_create(operation=other, number=1, title="Theirs", actor=None)
    foreign = services.task_create(operation=other, phase=phase, title="Theirs", actor=None)

    assert logged_in(client, teammate).post(url("task-toggle", team, foreign.pk), {"done": "1"}).status_code == 404


def test_ticking_needs_a_post(client, team, teammate, task):
    assert logged_in(client, teammate).get(url("task-toggle", team, task.pk)).status_code == 405


def test_forms_refuse_a_post_without_the_csrf_token(team, teammate, task):
    client = Client(enforce_csrf_checks=True)
    client.force_login(teammate)

    assert client.post(url("task-toggle", team, task.pk), {"done": "1"}).status_code == 403
    task.refresh_from_db()
    assert not task.done


def test_an_editor_raises_a_blocker(client, team, teammate):
    form = {"title": "No NAT", "severity": "secondary", "description": "", "impact": "Slow pulls", "status_text": ""}

    response = logged_in(client, teammate).post(url("blocker-add", team), form)

    assert response.status_code == 302
    blocker = Blocker.objects.get(title="No NAT")
    assert (blocker.severity, blocker.state, blocker.updated_by.username) == ("secondary", "open", "teammate")


def test_a_bad_blocker_shows_the_form_again_and_saves_nothing(client, team, teammate):
    response = logged_in(client, teammate).post(url("blocker-add", team), {"title": "", "severity": "urgent"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Blocker.objects.count() == 1


def test_an_editor_edits_a_blocker(client, team, teammate):
    blocker = Blocker.objects.get()
    form = {
        "title": blocker.title,
        "severity": "primary",
        "description": blocker.description,
        "impact": "Nobody can reach the service",
        "status_text": blocker.status_text,
    }

    logged_in(client, teammate).post(url("blocker-edit", team, blocker.pk), form)

    blocker.refresh_from_db()
    assert blocker.impact == "Nobody can reach the service"
    assert ActivityEntry.objects.first().changes == {
        "impact": ["Enhanced ML service cannot be accessed from internet", "Nobody can reach the service"]
    }


def test_an_editor_resolves_and_reopens_a_blocker(client, team, teammate):
    blocker = Blocker.objects.get()
    client = logged_in(client, teammate)

    client.post(
        url("blocker-resolve", team, blocker.pk), {"status_text": "Tasks ran on EC2 capacity; moved to Fargate"}
    )
    blocker.refresh_from_db()
    assert (blocker.state, blocker.status_text) == ("resolved", "Tasks ran on EC2 capacity; moved to Fargate")

    client.post(url("blocker-reopen", team, blocker.pk))
    blocker.refresh_from_db()
    assert blocker.state == "open"


def test_a_viewer_cannot_resolve_a_blocker(client, team, viewer):
    blocker = Blocker.objects.get()

    assert logged_in(client, viewer).post(url("blocker-resolve", team, blocker.pk)).status_code == 403
    blocker.refresh_from_db()
    assert blocker.state == "open"


def test_an_editor_adds_a_finding_decision_and_achievement(client, team, teammate):
    client = logged_in(client, teammate)
    phase = team.phases.get(number=4)

    client.post(
        url("finding-add", team),
        {
            "phase": phase.pk,
            "subject": "Launch type",
            "observed": "`EC2`",
            "expected": "`FARGATE`",
            "verdict": "wrong",
            "note": "",
        },
    )
    client.post(url("decision-add", team), {"group": "Phase 4 Strategy", "title": "Move to Fargate", "detail": ""})
    client.post(
        url("achievement-add", team),
        {"category": "Technical Accomplishments", "icon": "🧭", "title": "Root cause found", "detail": ""},
    )

    assert Finding.objects.get(subject="Launch type").verdict == "wrong"
    assert Decision.objects.filter(title="Move to Fargate").exists()
    assert team.achievements.filter(title="Root cause found", icon="🧭").exists()


def test_a_finding_cannot_point_at_a_phase_of_another_operation(client, team, teammate):
    other = services.operation_create(workspace=team.workspace, name="Operation Other", actor=None)
    foreign = services.phase_create(operation=other, number=1, title="Theirs", actor=None)

    response = logged_in(client, teammate).post(
        url("finding-add", team), {"phase": foreign.pk, "subject": "X", "verdict": "correct"}
    )

    assert response.status_code == 400
    assert not Finding.objects.filter(subject="X").exists()


def test_an_editor_moves_the_current_phase(client, team, teammate):
    phase3 = Phase.objects.get(operation=team, number=3)

    logged_in(client, teammate).post(url("current-phase", team), {"phase": phase3.pk})

    team.refresh_from_db()
    assert team.current_phase == phase3


def test_the_add_forms_open_as_pages_without_javascript(client, team, teammate):
    client = logged_in(client, teammate)

    for name in ("blocker-add", "finding-add", "decision-add", "achievement-add", "current-phase"):
        assert client.get(url(name, team)).status_code == 200
