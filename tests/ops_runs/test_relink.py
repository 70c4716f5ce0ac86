"""A tracker replaced by a new import keeps its live checks on the items of the same words."""

from __future__ import annotations

import pytest

from ops import services
from ops.models import Check
from tracker.importers import import_document
from tracker.models import Blocker, Finding, Task

pytestmark = pytest.mark.django_db


def test_checks_follow_their_items_through_a_replace(example_operation, example_bytes, scripted):
    finding = Finding.objects.get(operation=example_operation, subject="ECS Service")
    criterion = Task.objects.get(operation=example_operation, title="Enhanced ML service accessible from internet")
    blocker = Blocker.objects.get(operation=example_operation, title="VPC Network Configuration")
    check = services.check_create(
        operation=example_operation,
        name="linked",
        type=scripted.code,
        actor=None,
        params={"key": "a"},
        finding=finding,
        task=criterion,
        blocker=blocker,
    )

    import_document(data=example_bytes, actor=None, workspace=example_operation.workspace, replace=True)

    check = Check.objects.select_related("finding", "task", "blocker").get(pk=check.pk)
    assert not Finding.objects.filter(pk=finding.pk).exists()  # the old rows are gone...
    assert check.finding.subject == "ECS Service"  # ...and the check holds their successors
    assert (check.task.kind, check.task.title) == ("criterion", criterion.title)
    assert check.blocker.title == blocker.title


def test_a_link_whose_item_left_the_document_is_dropped(example_operation, example_bytes, scripted):
    finding = Finding.objects.get(operation=example_operation, subject="ECS Service")
    check = services.check_create(
        operation=example_operation, name="linked", type=scripted.code, actor=None, params={"key": "a"}, finding=finding
    )
    without = example_bytes.replace(b"**ECS Service**", b"**ECS Service Config**")

    import_document(data=without, actor=None, workspace=example_operation.workspace, replace=True)

    assert Check.objects.get(pk=check.pk).finding is None
