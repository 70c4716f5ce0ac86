"""Progress history: a snapshot whenever a figure changes, and none when nothing did."""

from __future__ import annotations

import pytest

from tracker import services
from tracker.models import ProgressSnapshot, Task

pytestmark = pytest.mark.django_db


def snapshots(operation) -> list[tuple[int | None, int, int, int]]:
    rows = ProgressSnapshot.objects.filter(operation=operation).order_by("id")
    return [(None if s.phase is None else s.phase.number, s.progress, s.tasks_done, s.tasks_total) for s in rows]


def test_an_import_records_where_every_phase_stands(example_operation):
    assert snapshots(example_operation) == [
        (1, 100, 0, 0),
        (2, 100, 0, 0),
        (3, 100, 0, 0),
        (4, 90, 8, 21),
        (None, 90, 8, 21),
    ]


def test_ticking_a_task_records_its_phase_and_the_operation(example_operation, owner):
    before = len(snapshots(example_operation))
    services.item_update(item=example_operation.phases.get(number=4), actor=owner, stated_progress=None)

    services.task_set_done(task=Task.objects.get(title="AWS Account Check"), done=True, actor=owner)

    # The operation states 90% itself, so only its counts move.
    assert snapshots(example_operation)[before:] == [(4, 38, 8, 21), (4, 43, 9, 21), (None, 90, 9, 21)]


def test_a_change_that_moves_no_figure_records_nothing(example_operation, owner):
    before = len(snapshots(example_operation))

    services.item_update(item=Task.objects.get(title="AWS Account Check"), actor=owner, detail="Check SCPs too")

    assert len(snapshots(example_operation)) == before


def test_adding_and_deleting_a_task_changes_the_scope(example_operation, owner):
    phase = example_operation.phases.get(number=4)
    task = services.task_create(operation=example_operation, phase=phase, title="Load test", actor=owner)
    assert snapshots(example_operation)[-1] == (None, 90, 8, 22)

    services.item_delete(item=task, actor=owner)
    assert snapshots(example_operation)[-1] == (None, 90, 8, 21)
