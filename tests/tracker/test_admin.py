"""The admin writes through the services: its changes are validated and land in the activity log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tracker import services
from tracker.models import ActivityEntry, Blocker, Task

pytestmark = pytest.mark.django_db


def test_every_admin_page_opens(admin_client, example_operation):
    for model in (
        "operation",
        "phase",
        "task",
        "challenge",
        "finding",
        "blocker",
        "decision",
        "achievement",
        "quote",
        "membership",
        "publiclink",
        "note",
        "activityentry",
    ):
        assert admin_client.get(reverse(f"admin:tracker_{model}_changelist")).status_code == 200
    task = Task.objects.first()
    assert admin_client.get(reverse("admin:tracker_task_change", args=[task.pk])).status_code == 200


def test_ticking_a_task_in_the_admin_logs_who_did_it(admin_client, example_operation):
    task = Task.objects.get(title="AWS Account Check")
    url = reverse("admin:tracker_task_change", args=[task.pk])
    form = {
        "operation": task.operation_id,
        "phase": task.phase_id,
        "kind": task.kind,
        "group": task.group,
        "title": task.title,
        "detail": task.detail,
        "done": "on",
        "icon": "",
        "position": task.position,
    }

    response = admin_client.post(url, form)

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.done and task.done_at is not None
    entry = ActivityEntry.objects.first()
    assert (entry.actor_name, entry.action, entry.changes["done"]) == ("admin", "updated", [False, True])


def test_adding_a_blocker_in_the_admin_opens_it(admin_client, example_operation):
    form = {
        "operation": example_operation.pk,
        "severity": "secondary",
        "title": "Quota",
        "description": "",
        "impact": "",
        "status_text": "",
        "opened_at_0": "",
        "opened_at_1": "",
        "position": 0,
    }

    response = admin_client.post(reverse("admin:tracker_blocker_add"), form)

    assert response.status_code == 302
    blocker = Blocker.objects.get(title="Quota")
    assert blocker.state == Blocker.State.OPEN
    assert ActivityEntry.objects.first().action == "created"


def test_the_resolve_action_resolves_through_the_service(admin_client, example_operation):
    blocker = Blocker.objects.get()

    admin_client.post(
        reverse("admin:tracker_blocker_changelist"), {"action": "resolve", "_selected_action": [blocker.pk]}
    )

    blocker.refresh_from_db()
    assert blocker.state == Blocker.State.RESOLVED
    assert ActivityEntry.objects.first().changes["state"] == ["open", "resolved"]


def test_deleting_in_the_admin_is_logged(admin_client, example_operation):
    quote = example_operation.quotes.get()

    admin_client.post(reverse("admin:tracker_quote_delete", args=[quote.pk]), {"post": "yes"})

    assert not example_operation.quotes.exists()
    assert ActivityEntry.objects.first().action == "deleted"


def test_the_activity_log_cannot_be_edited(admin_client, example_operation):
    entry = ActivityEntry.objects.first()

    assert admin_client.get(reverse("admin:tracker_activityentry_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:tracker_activityentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert ActivityEntry.objects.filter(pk=entry.pk).exists()


def test_a_non_staff_user_cannot_open_the_admin(client, outsider):
    client.force_login(outsider)

    assert client.get(reverse("admin:tracker_task_changelist")).status_code == 302


def test_the_admin_refuses_a_current_phase_of_another_operation(admin_client, example_operation, superuser):
    other = services.operation_create(workspace=example_operation.workspace, name="Other", actor=superuser)
    theirs = services.phase_create(operation=other, number=1, title="Theirs", actor=superuser)
    url = reverse("admin:tracker_operation_change", args=[example_operation.pk])
    form = {
        "name": example_operation.name,
        "slug": example_operation.slug,
        "status": "in_progress",
        "status_icon": "",
        "start_date": "",
        "stated_progress": "",
        "current_phase": theirs.pk,
        "motto": "",
        "footer": "",
        "emoji": "",
        "title": "",
    }

    response = admin_client.post(url, form)

    assert response.status_code == 200  # the form again, with the error
    example_operation.refresh_from_db()
    assert example_operation.current_phase.number == 4
