"""Uploading a tracker document in the browser."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import EXAMPLE, logged_in
from tracker.models import Membership, Operation, Task

pytestmark = pytest.mark.django_db


def upload(client, content: bytes, *, replace: bool = False, name: str = "tracker.md"):
    data = {"document": SimpleUploadedFile(name, content, content_type="text/markdown")}
    if replace:
        data["replace"] = "on"
    return client.post(reverse("tracker:import"), data)


def test_uploading_creates_the_operation_and_makes_the_uploader_its_admin(client, outsider, elsewhere):
    response = upload(logged_in(client, outsider), EXAMPLE.read_bytes())

    operation = Operation.objects.get()
    assert response.status_code == 302 and response["Location"] == operation.get_absolute_url()
    assert Membership.objects.get(operation=operation, user=outsider).role == "admin"
    assert operation.workspace == elsewhere


def test_a_bad_document_shows_its_line_numbered_problems_and_saves_nothing(client, outsider, elsewhere):
    bad = (
        EXAMPLE.read_bytes()
        .replace(b"August 11, 2025", b"February 30, 2025")
        .replace(b"90% Complete", b"140% Complete")
    )

    response = upload(logged_in(client, outsider), bad, name="snail.md")

    page = response.content.decode()
    assert response.status_code == 400
    assert "<code>snail.md:8</code> &#x27;February 30, 2025&#x27; is not a real date" in page
    assert "<code>snail.md:10</code> progress must be between 0% and 100%, got 140%" in page
    assert not Operation.objects.exists()


def test_uploading_over_an_existing_operation_needs_replace(client, team, owner):
    response = upload(logged_in(client, owner), EXAMPLE.read_bytes())

    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_an_admin_replaces_the_operation(client, team, owner):
    changed = EXAMPLE.read_bytes().replace(b"- [ ] **AWS Account Check**", b"- [x] **AWS Account Check**")

    response = upload(logged_in(client, owner), changed, replace=True)

    assert response.status_code == 302
    assert Task.objects.get(title="AWS Account Check").done


def test_only_an_admin_can_replace(client, team, teammate):
    changed = EXAMPLE.read_bytes().replace(b"- [ ] **AWS Account Check**", b"- [x] **AWS Account Check**")

    response = upload(logged_in(client, teammate), changed, replace=True)

    assert response.status_code == 400
    assert "Only an admin of that operation can replace it." in response.content.decode()
    assert not Task.objects.get(title="AWS Account Check").done


def test_another_teams_replace_makes_their_own_operation_and_leaves_the_team_alone(client, team, outsider, elsewhere):
    changed = EXAMPLE.read_bytes().replace(b"- [ ] **AWS Account Check**", b"- [x] **AWS Account Check**")

    response = upload(logged_in(client, outsider), changed, replace=True)

    theirs = Operation.objects.get(workspace=elsewhere)
    assert response.status_code == 302 and theirs.slug != team.slug
    assert not Task.objects.get(operation=team, title="AWS Account Check").done
    assert Task.objects.get(operation=theirs, title="AWS Account Check").done
