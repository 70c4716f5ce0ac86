"""The typed writes people make (tracker/services/edits.py): tick, untick, rename, move, and the
edits of a task, a phase and a blocker. Each changes only what it names, logs one entry, refuses
bad input with nothing saved, and never moves a task into another operation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from tracker import services
from tracker.models import ActivityEntry, Blocker, PhaseStatus, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def operation(owner, workspace):
    return services.operation_create(workspace=workspace, name="Operation Glass Lantern", actor=owner)


@pytest.fixture
def first(operation, owner):
    return services.phase_create(operation=operation, number=1, title="Foundations", actor=owner)


@pytest.fixture
def second(operation, owner):
    return services.phase_create(operation=operation, number=2, title="Rollout", actor=owner)


@pytest.fixture
def task(operation, first, owner):
    return services.task_create(operation=operation, phase=first, title="Pick a region", actor=owner)


@pytest.fixture
def blocker(operation, owner):
    return services.blocker_open(operation=operation, title="Quota", actor=owner)


def entries() -> int:
    return ActivityEntry.objects.count()


# --- tick and untick --------------------------------------------------------------------------------


def test_it_ticks_a_task_stamping_when(task, owner):
    services.task_tick(task=task, actor=owner)

    task.refresh_from_db()
    assert task.done and task.done_at is not None
    assert ActivityEntry.objects.first().changes["done"] == [False, True]


def test_it_unticks_a_task_clearing_when(task, owner):
    services.task_tick(task=task, actor=owner)
    services.task_untick(task=task, actor=owner)

    task.refresh_from_db()
    assert (task.done, task.done_at) == (False, None)


def test_ticking_a_done_task_again_logs_nothing(task, owner):
    services.task_tick(task=task, actor=owner)
    before = entries()

    services.task_tick(task=task, actor=owner)

    assert entries() == before


# --- rename -----------------------------------------------------------------------------------------


def test_it_renames_a_task(task, owner):
    services.task_rename(task=task, title="Pick two regions", actor=owner)

    task.refresh_from_db()
    assert task.title == "Pick two regions"
    assert ActivityEntry.objects.first().changes == {"title": ["Pick a region", "Pick two regions"]}


@pytest.mark.parametrize("title", ["", "   ", "two\nlines", "x" * 2000])
def test_it_refuses_a_title_that_is_no_title_and_saves_nothing(task, owner, title):
    before = entries()

    with pytest.raises(ValidationError) as refused:
        services.task_rename(task=task, title=title, actor=owner)

    assert "title" in refused.value.message_dict
    task.refresh_from_db()
    assert task.title == "Pick a region" and entries() == before


# --- move -------------------------------------------------------------------------------------------


def test_it_moves_a_task_to_another_phase(task, second, owner):
    services.task_move(task=task, phase=second, actor=owner)

    task.refresh_from_db()
    assert task.phase == second


def test_it_never_moves_a_task_into_another_operations_phase(task, owner, workspace):
    other = services.operation_create(workspace=workspace, name="Operation Paper Crane", actor=owner)
    theirs = services.phase_create(operation=other, number=1, title="Theirs", actor=owner)
    before = entries()

    with pytest.raises(ValidationError) as refused:
        services.task_move(task=task, phase=theirs, actor=owner)
    with pytest.raises(ValidationError):
        services.task_edit(task=task, phase=theirs, actor=owner)

    assert "another operation" in refused.value.message_dict["phase"][0]
    task.refresh_from_db()
    assert task.phase.title == "Foundations" and entries() == before


# --- the edits ----------------------------------------------------------------------------------------


def test_a_task_edit_changes_only_what_it_names(task, owner):
    services.task_edit(task=task, actor=owner, detail="eu-west-1 or eu-central-1", done=True)

    task.refresh_from_db()
    assert (task.title, task.detail, task.done) == ("Pick a region", "eu-west-1 or eu-central-1", True)
    assert task.done_at is not None
    assert set(ActivityEntry.objects.first().changes) == {"detail", "done", "done_at"}


def test_a_task_edit_refuses_an_unknown_kind_and_saves_nothing(task, owner):
    with pytest.raises(ValidationError):
        services.task_edit(task=task, actor=owner, kind="wish", title="Renamed")

    task.refresh_from_db()
    assert (task.kind, task.title) == (Task.Kind.TASK, "Pick a region")


def test_an_edit_takes_no_field_it_does_not_name(blocker, owner):
    with pytest.raises(TypeError):
        services.blocker_edit(blocker=blocker, actor=owner, state=Blocker.State.RESOLVED)  # resolve it instead


def test_finishing_a_phase_stamps_its_start_and_finish(first, owner):
    services.phase_edit(phase=first, actor=owner, status=PhaseStatus.COMPLETE)

    first.refresh_from_db()
    assert first.status == PhaseStatus.COMPLETE
    assert first.started_at is not None and first.finished_at is not None


def test_a_phase_edit_refuses_a_progress_over_100_and_saves_nothing(first, owner):
    with pytest.raises(ValidationError):
        services.phase_edit(phase=first, actor=owner, title="Ground work", stated_progress=140)

    first.refresh_from_db()
    assert (first.title, first.stated_progress) == ("Foundations", None)


def test_a_blocker_edit_changes_what_it_says_not_its_state(blocker, owner):
    services.blocker_edit(blocker=blocker, actor=owner, severity=Blocker.Severity.SECONDARY, impact="No new tasks")

    blocker.refresh_from_db()
    assert (blocker.severity, blocker.impact, blocker.state) == ("secondary", "No new tasks", Blocker.State.OPEN)


def test_a_blocker_edit_refuses_an_unknown_severity(blocker, owner):
    with pytest.raises(ValidationError):
        services.blocker_edit(blocker=blocker, actor=owner, severity="apocalyptic")

    blocker.refresh_from_db()
    assert blocker.severity == Blocker.Severity.PRIMARY


# --- the page and the API call them ---------------------------------------------------------------------


def test_the_api_edits_a_blocker_for_an_editor_only(operation, blocker, owner, viewer):
    services.membership_set(operation=operation, user=viewer, role="viewer", actor=owner)
    path = f"/api/operations/{operation.slug}/blockers/{blocker.pk}/"
    api = APIClient()

    api.force_authenticate(viewer)
    assert api.patch(path, {"title": "Quota (viewer)"}, format="json").status_code == 403
    api.force_authenticate(owner)
    answer = api.patch(path, {"title": "Quota raised"}, format="json")
    bad = api.patch(path, {"severity": "apocalyptic"}, format="json")

    assert answer.status_code == 200 and answer.json()["title"] == "Quota raised"
    assert bad.status_code == 400
    blocker.refresh_from_db()
    assert (blocker.title, blocker.severity) == ("Quota raised", Blocker.Severity.PRIMARY)


def test_the_api_moves_a_task_between_its_operations_phases_only(operation, task, second, owner):
    api = APIClient()
    api.force_authenticate(owner)
    path = f"/api/operations/{operation.slug}/tasks/{task.pk}/"

    moved = api.patch(path, {"phase": 2}, format="json")
    nowhere = api.patch(path, {"phase": 9}, format="json")

    assert moved.status_code == 200 and nowhere.status_code == 400
    task.refresh_from_db()
    assert task.phase == second


def test_the_page_ticks_and_unticks(operation, task, owner, client):
    client.force_login(owner)
    tick = f"/operations/{operation.slug}/tasks/{task.pk}/toggle/"

    client.post(tick, {"done": "1"})
    task.refresh_from_db()
    ticked = task.done
    client.post(tick, {"done": "0"})
    task.refresh_from_db()

    assert ticked is True and task.done is False


# --- findings, decisions, achievements ------------------------------------------------------------------


@pytest.fixture
def finding(operation, first, owner):
    return services.finding_create(operation=operation, phase=first, subject="VPC DNS", verdict="correct", actor=owner)


def test_a_finding_edit_changes_what_it_says(finding, second, owner):
    services.finding_edit(finding=finding, actor=owner, verdict="wrong", observed="NXDOMAIN", phase=second)

    finding.refresh_from_db()
    assert (finding.verdict, finding.observed, finding.phase, finding.subject) == (
        "wrong",
        "NXDOMAIN",
        second,
        "VPC DNS",
    )


def test_a_finding_edit_refuses_an_unknown_verdict_and_another_operations_phase(finding, owner, workspace):
    other = services.operation_create(workspace=workspace, name="Operation Red Fox", actor=owner)
    theirs = services.phase_create(operation=other, number=1, title="Theirs", actor=owner)
    before = entries()

    with pytest.raises(ValidationError):
        services.finding_edit(finding=finding, actor=owner, verdict="maybe")
    with pytest.raises(ValidationError):
        services.finding_edit(finding=finding, actor=owner, phase=theirs)

    finding.refresh_from_db()
    assert (finding.verdict, finding.phase.title) == ("correct", "Foundations") and entries() == before


def test_a_decision_and_an_achievement_edit_change_only_what_they_name(operation, owner):
    decision = services.decision_create(operation=operation, title="Use Transit Gateway", actor=owner)
    achievement = services.achievement_create(operation=operation, title="First light", actor=owner)

    services.decision_edit(decision=decision, actor=owner, detail="Peering does not scale")
    services.achievement_edit(achievement=achievement, actor=owner, icon="🎉")

    decision.refresh_from_db()
    achievement.refresh_from_db()
    assert (decision.title, decision.detail) == ("Use Transit Gateway", "Peering does not scale")
    assert (achievement.title, achievement.icon) == ("First light", "🎉")


def test_a_decision_edit_refuses_an_empty_title(operation, owner):
    decision = services.decision_create(operation=operation, title="Use Transit Gateway", actor=owner)

    with pytest.raises(ValidationError):
        services.decision_edit(decision=decision, actor=owner, title="")

    decision.refresh_from_db()
    assert decision.title == "Use Transit Gateway"


def test_the_api_edits_a_finding_through_its_service(operation, finding, owner):
    api = APIClient()
    api.force_authenticate(owner)
    path = f"/api/operations/{operation.slug}/findings/{finding.pk}/"

    answer = api.patch(path, {"verdict": "wrong"}, format="json")
    bad = api.patch(path, {"verdict": "maybe"}, format="json")

    assert answer.status_code == 200 and bad.status_code == 400
    finding.refresh_from_db()
    assert finding.verdict == "wrong"
    assert ActivityEntry.objects.first().changes == {"verdict": ["correct", "wrong"]}
