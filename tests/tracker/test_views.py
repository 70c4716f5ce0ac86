"""The read-only pages: the operation list, one operation, and its downloads."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.conftest import EXAMPLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, owner):
    client.force_login(owner)
    return client


def test_anonymous_visitors_are_sent_to_log_in(client, example_operation):
    for url in (
        reverse("tracker:operation-list"),
        example_operation.get_absolute_url(),
        reverse("tracker:export-json", args=[example_operation.slug]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_shows_status_progress_and_open_blockers(
    staff_client, example_operation, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = staff_client.get(reverse("tracker:operation-list"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Operation Snail Trail" in page and "In progress" in page and "90%" in page
    assert '<strong class="danger">1</strong>' in page


def test_the_operation_page_shows_phases_blockers_and_stated_progress(
    staff_client, example_operation, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        response = staff_client.get(example_operation.get_absolute_url())

    page = response.content.decode()
    assert "Phase 4: Enhanced ML Service Deployment" in page
    assert "VPC Network Configuration" in page
    assert "(tasks: 38%)" in page  # stated 90%, derived from tasks shown beside it


def test_an_unknown_operation_is_a_404(staff_client):
    assert staff_client.get("/operations/nope/").status_code == 404
    assert staff_client.get("/operations/nope/export.md").status_code == 404


def test_it_downloads_the_markdown_and_the_json(staff_client, example_operation):
    markdown = staff_client.get(reverse("tracker:export-markdown", args=[example_operation.slug]))
    as_json = staff_client.get(reverse("tracker:export-json", args=[example_operation.slug]))

    assert markdown.content.decode() == EXAMPLE.read_text()
    assert markdown["Content-Disposition"] == 'attachment; filename="operation-snail-trail.md"'
    assert json.loads(as_json.content)["name"] == "Operation Snail Trail"
