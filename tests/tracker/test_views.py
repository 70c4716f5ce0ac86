"""The read-only pages: the operation list, one operation, and its downloads."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.conftest import EXAMPLE

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_log_in(client, example_operation):
    for url in (
        reverse("tracker:operation-list"),
        example_operation.get_absolute_url(),
        reverse("tracker:export-json", args=[example_operation.slug]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_shows_status_progress_and_open_blockers(
    owner_client, example_operation, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = owner_client.get(reverse("tracker:operation-list"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Operation Snail Trail" in page and "In progress" in page and "90%" in page
    assert '<strong class="danger">1</strong>' in page


def test_the_operation_page_shows_phases_blockers_and_stated_progress(
    owner_client, example_operation, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        response = owner_client.get(example_operation.get_absolute_url())

    page = response.content.decode()
    assert "Phase 4: Enhanced ML Service Deployment" in page
    assert "VPC Network Configuration" in page
    assert "(tasks: 38%)" in page  # stated 90%, derived from tasks shown beside it


def test_an_unknown_operation_is_a_404(owner_client):
    assert owner_client.get("/operations/nope/").status_code == 404
    assert owner_client.get("/operations/nope/export.md").status_code == 404


def test_it_downloads_the_markdown_and_the_json(owner_client, example_operation):
    markdown = owner_client.get(reverse("tracker:export-markdown", args=[example_operation.slug]))
    as_json = owner_client.get(reverse("tracker:export-json", args=[example_operation.slug]))

    assert markdown.content.decode() == EXAMPLE.read_text()
    assert markdown["Content-Disposition"] == 'attachment; filename="operation-snail-trail.md"'
    assert json.loads(as_json.content)["name"] == "Operation Snail Trail"


def test_tracker_text_is_rendered_as_markdown_never_as_html(owner_client, example_operation):
    from tracker import services
    from tracker.models import Task

    task = Task.objects.get(title="AWS Account Check")
    services.item_update(item=task, actor=None, detail="Run `aws sts get-caller-identity` <script>alert(1)</script>")

    page = owner_client.get(example_operation.get_absolute_url()).content.decode()

    assert "<code>aws sts get-caller-identity</code>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page


def test_durations_read_as_words(owner_client, example_operation):
    page = owner_client.get(example_operation.get_absolute_url()).content.decode()

    assert "2 hours 41 minutes" in page
