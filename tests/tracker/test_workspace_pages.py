"""A workspace's page: its operations, members, allow-list, and the sections ops and mlservice add."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mlservice.models import RegisteredModel
from ops import services as ops_services
from tests.conftest import join, logged_in

pytestmark = pytest.mark.django_db


def test_the_page_lists_only_this_workspaces_environments_and_models(client, team, owner, outsider, elsewhere):
    ops_services.environment_create(
        workspace=team.workspace, name="prod-aws", account_id="123456789012", regions=["us-east-1"]
    )
    ops_services.environment_create(
        workspace=elsewhere, name="their-aws", account_id="210987654321", regions=["us-east-1"]
    )
    RegisteredModel.objects.create(workspace=team.workspace, name="iris", operation=team)
    RegisteredModel.objects.create(workspace=elsewhere, name="their-secret-model")

    page = logged_in(client, owner).get(reverse("tracker:workspace", args=[team.workspace.slug])).content.decode()

    assert "prod-aws" in page and "iris" in page and team.name in page
    assert "their-aws" not in page and "their-secret-model" not in page and "210987654321" not in page


def test_the_page_takes_the_same_queries_for_one_model_and_ten(client, team, owner, django_assert_max_num_queries):
    client = logged_in(client, owner)
    url = reverse("tracker:workspace", args=[team.workspace.slug])
    RegisteredModel.objects.create(workspace=team.workspace, name="model-0", operation=team)
    with django_assert_max_num_queries(30) as one:
        client.get(url)
    for index in range(1, 10):
        RegisteredModel.objects.create(workspace=team.workspace, name=f"model-{index}", operation=team)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)


def test_only_admins_see_the_forms_that_change_it(client, team, owner, teammate):
    join(team.workspace, owner, "admin")
    url = reverse("tracker:workspace", args=[team.workspace.slug])

    as_admin = logged_in(client, owner).get(url).content.decode()
    as_member = logged_in(client, teammate).get(url).content.decode()

    assert reverse("tracker:workspace-egress", args=[team.workspace.slug]) in as_admin
    assert reverse("tracker:workspace-egress", args=[team.workspace.slug]) not in as_member
    assert "Add an environment" in as_admin and "Add an environment" not in as_member
