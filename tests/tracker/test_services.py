"""The tracker's service functions: each change is validated, saved, and logged with its diff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from tracker import services
from tracker.models import ActivityEntry, Blocker, Finding, Phase, PhaseStatus, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def operation(owner, workspace):
    return services.operation_create(workspace=workspace, name="Operation Red Fox", actor=owner)


@pytest.fixture
def phase(operation, owner):
    return services.phase_create(operation=operation, number=1, title="Foundations", actor=owner)


def latest() -> ActivityEntry:
    return ActivityEntry.objects.first()


def test_it_makes_the_slug_from_the_name(operation):
    assert operation.slug == "operation-red-fox"
    assert (latest().action, latest().subject_type, latest().actor_name) == ("created", "operation", "owner")


def test_it_refuses_a_name_with_nothing_to_make_a_slug_from(owner, workspace):
    with pytest.raises(ValidationError):
        services.operation_create(workspace=workspace, name="🐌🐌", actor=owner)


def test_it_logs_what_changed_from_what_to_what(operation, owner):
    services.operation_update(operation=operation, actor=owner, status="in_progress", stated_progress=40)

    entry = latest()
    assert entry.action == "updated"
    assert entry.changes == {"status": ["not_started", "in_progress"], "stated_progress": [None, 40]}


def test_an_update_that_changes_nothing_logs_nothing(operation, owner):
    before = ActivityEntry.objects.count()

    services.operation_update(operation=operation, actor=owner, name=operation.name)

    assert ActivityEntry.objects.count() == before


def test_a_rejected_update_saves_nothing_and_logs_nothing(operation, owner):
    before = ActivityEntry.objects.count()

    with pytest.raises(ValidationError):
        services.operation_update(operation=operation, actor=owner, stated_progress=140)

    assert operation.stated_progress is None  # the object in hand is not left half-changed
    operation.refresh_from_db()
    assert operation.stated_progress is None
    assert ActivityEntry.objects.count() == before


def test_ticking_a_task_stamps_and_logs_it(operation, phase, owner):
    task = services.task_create(operation=operation, phase=phase, title="Push image", actor=owner)

    services.task_set_done(task=task, done=True, actor=owner)

    task.refresh_from_db()
    assert task.done is True and task.done_at is not None
    assert latest().changes["done"] == [False, True]


def test_unticking_clears_the_time(operation, phase, owner):
    task = services.task_create(operation=operation, phase=phase, title="Push image", actor=owner, done=True)

    services.task_set_done(task=task, done=False, actor=owner)

    task.refresh_from_db()
    assert (task.done, task.done_at) == (False, None)


def test_new_items_go_to_the_end_of_their_list(operation, phase, owner):
    first = services.task_create(operation=operation, phase=phase, title="One", actor=owner)
    second = services.task_create(operation=operation, phase=phase, title="Two", actor=owner)

    assert (first.position, second.position) == (0, 1)


def test_a_task_needs_a_phase_but_a_next_step_does_not(operation, owner):
    with pytest.raises(ValidationError):
        services.task_create(operation=operation, title="Orphan", actor=owner)

    step = services.task_create(operation=operation, title="Plan", kind=Task.Kind.NEXT_STEP, actor=owner)
    assert step.phase is None
    assert latest().subject_type == "next step"


def test_it_refuses_a_phase_of_another_operation(operation, owner):
    other = services.operation_create(workspace=operation.workspace, name="Other", actor=owner)
    foreign = services.phase_create(operation=other, number=1, title="Theirs", actor=owner)

    with pytest.raises(ValidationError):
        services.task_create(operation=operation, phase=foreign, title="Sneaky", actor=owner)
    with pytest.raises(ValidationError):
        services.operation_set_current_phase(operation=operation, phase=foreign, actor=owner)
    with pytest.raises(ValidationError):
        services.finding_create(operation=operation, phase=foreign, subject="VPC", verdict="correct", actor=owner)


def test_it_refuses_a_title_on_two_lines(operation, phase, owner):
    with pytest.raises(ValidationError):
        services.task_create(operation=operation, phase=phase, title="one\ntwo", actor=owner)


def test_starting_and_finishing_a_phase_stamps_the_times(phase, owner):
    services.phase_update(phase=phase, actor=owner, status=PhaseStatus.IN_PROGRESS)
    phase.refresh_from_db()
    assert phase.started_at is not None and phase.finished_at is None

    services.phase_update(phase=phase, actor=owner, status=PhaseStatus.COMPLETE)
    phase.refresh_from_db()
    assert phase.finished_at >= phase.started_at


def test_a_phase_keeps_a_stated_start_time(phase, owner):
    stated = dt.datetime(2025, 8, 11, 9, 0, tzinfo=dt.UTC)
    services.phase_update(phase=phase, actor=owner, status=PhaseStatus.IN_PROGRESS, started_at=stated)

    phase.refresh_from_db()
    assert phase.started_at == stated


def test_opening_and_resolving_a_blocker(operation, owner):
    blocker = services.blocker_open(operation=operation, title="No public IP", actor=owner, impact="Unreachable")
    assert blocker.state == Blocker.State.OPEN and blocker.opened_at is not None

    services.blocker_resolve(blocker=blocker, actor=owner, status_text="Moved to Fargate")
    blocker.refresh_from_db()
    assert blocker.state == Blocker.State.RESOLVED and blocker.resolved_at is not None
    assert latest().changes["state"] == ["open", "resolved"]

    services.blocker_reopen(blocker=blocker, actor=owner)
    blocker.refresh_from_db()
    assert (blocker.state, blocker.resolved_at) == (Blocker.State.OPEN, None)


def test_deleting_logs_the_item_it_deleted(operation, owner):
    finding = services.finding_create(operation=operation, subject="VPC DNS", verdict="correct", actor=owner)

    services.item_delete(item=finding, actor=owner)

    assert not Finding.objects.exists()
    assert (latest().action, latest().subject_label) == ("deleted", "VPC DNS")


def test_progress_derives_from_tasks_and_criteria_unless_stated(operation, phase, owner):
    for title, done in (("A", True), ("B", False), ("C", False)):
        services.task_create(operation=operation, phase=phase, title=title, done=done, actor=owner)
    services.task_create(operation=operation, phase=phase, title="D", kind=Task.Kind.CRITERION, done=True, actor=owner)
    services.task_create(operation=operation, title="Not counted", kind=Task.Kind.NEXT_STEP, actor=owner)

    phase = Phase.objects.get(pk=phase.pk)
    assert (phase.derived_progress, phase.progress) == (50, 50)

    services.phase_update(phase=phase, actor=owner, stated_progress=90)
    phase = Phase.objects.get(pk=phase.pk)
    assert (phase.derived_progress, phase.progress) == (50, 90)


def test_the_example_keeps_both_the_stated_and_the_derived_progress(example_operation):
    phase = example_operation.phases.get(number=4)

    assert phase.stated_progress == 90
    assert phase.derived_progress == 38  # 8 of 16 tasks and 0 of 5 criteria
    assert phase.progress == 90
