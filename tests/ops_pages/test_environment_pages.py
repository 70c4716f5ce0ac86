"""The AWS environment pages (/aws-environments/): members of a workspace read its environments, its
admins add, edit and delete them through plain forms (bad input shown again with a 400, nothing
written); the check form shows what each environment allows, a suggestion picks the one
environment that allows its type, and the workspace's page lists its environments.
The workspace boundary itself: tests/security/test_environment_boundaries.py."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory

from ops import panels, services
from ops.models import AwsEnvironment
from tests.conftest import join, logged_in
from tracker.models import Finding, Workspace

pytestmark = pytest.mark.django_db

SUBNET = {
    "name": "Subnet gives public IPs",
    "type": "subnet_attribute",
    "region": "us-east-1",
    "params": {"subnet_id": "subnet-0123456789abcdef0", "attribute": "MapPublicIpOnLaunch"},
    "expected": True,
}


@pytest.fixture
def admin(owner, workspace):
    return join(workspace, owner, "admin")


@pytest.fixture
def environment(workspace):
    return services.environment_create(
        workspace=workspace,
        name="snail-prod",
        account_id="123456789012",
        regions=["us-east-1"],
        external_id="keep-me",
    )


def form(**changes) -> dict:
    return {"name": "snail-dev", "account_id": "210987654321", "regions": "eu-west-1, eu-west-2"} | changes


def test_members_read_the_list_without_the_edit_links(client, teammate, environment):
    html = logged_in(client, teammate).get("/aws-environments/").content.decode()

    assert "snail-prod" in html and "123456789012" in html and "every type" in html
    assert f"/aws-environments/{environment.pk}/edit/" not in html and "Add an environment" not in html
    assert "keep-me" not in html


def test_the_admin_adds_one_in_the_workspace_they_administer(client, admin, workspace):
    page = logged_in(client, admin)

    shown = page.get("/aws-environments/add/")
    saved = page.post("/aws-environments/add/", form(workspace=workspace.pk, check_types=["subnet_attribute"]))

    assert shown.status_code == 200 and shown.context["form"]["workspace"].value() == workspace.pk
    assert saved.status_code == 302, saved.content
    environment = AwsEnvironment.objects.get(name="snail-dev")
    assert (environment.workspace, environment.regions, environment.check_types) == (
        workspace,
        ["eu-west-1", "eu-west-2"],
        ["subnet_attribute"],
    )


def test_the_workspace_page_link_preselects_its_workspace(client, admin, workspace):
    other = Workspace.objects.create(name="Other", slug="other")
    join(other, admin, "admin")

    shown = logged_in(client, admin).get("/aws-environments/add/", {"workspace": "other"})

    assert shown.context["form"]["workspace"].value() == other.pk


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"regions": "mars-1"}, "regions"),
        ({"account_id": "12"}, "account_id"),
        ({"check_types": ["no_such_type"]}, "check_types"),
        ({"name": "snail-prod"}, None),  # the name is taken in this workspace
    ],
)
def test_bad_input_is_shown_again_and_nothing_is_written(client, admin, workspace, environment, changes, field):
    response = logged_in(client, admin).post("/aws-environments/add/", form(workspace=workspace.pk, **changes))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert (field in errors) if field else errors
    assert AwsEnvironment.objects.count() == 1


def test_an_edit_left_without_an_external_id_keeps_it(client, admin, environment):
    saved = logged_in(client, admin).post(
        f"/aws-environments/{environment.pk}/edit/",
        {"name": "snail-prod", "account_id": "123456789012", "regions": "us-east-1 eu-west-1"},
    )

    assert saved.status_code == 302, saved.content
    environment.refresh_from_db()
    assert (environment.regions, environment.external_id) == (["us-east-1", "eu-west-1"], "keep-me")


def test_an_environment_in_use_is_not_deleted_and_the_page_says_why(client, admin, team, environment):
    services.check_create(operation=team, actor=None, environment=environment, **SUBNET)

    response = logged_in(client, admin).post(f"/aws-environments/{environment.pk}/delete/", follow=True)

    assert "Checks use it: Subnet gives public IPs" in response.content.decode()
    assert AwsEnvironment.objects.filter(pk=environment.pk).exists()


def test_the_admin_deletes_one_no_check_uses(client, admin, environment):
    response = logged_in(client, admin).post(f"/aws-environments/{environment.pk}/delete/")

    assert response.status_code == 302 and not AwsEnvironment.objects.exists()


def test_the_check_form_shows_what_each_environment_allows(client, team, teammate, environment, workspace):
    services.environment_create(
        workspace=workspace,
        name="snail-narrow",
        account_id="210987654321",
        regions=["eu-west-1"],
        check_types=["vpc_attribute"],
    )

    html = logged_in(client, teammate).get(f"/operations/{team.slug}/checks/add/").content.decode()

    assert "snail-prod: us-east-1 · every check type" in html
    assert "snail-narrow: eu-west-1 · only vpc_attribute" in html


def test_a_suggestion_picks_the_one_environment_that_allows_its_type(client, team, teammate, workspace, environment):
    services.environment_update(environment=environment, check_types=["vpc_attribute"])
    fitting = services.environment_create(
        workspace=workspace,
        name="subnets",
        account_id="210987654321",
        regions=["eu-west-1"],
        check_types=["subnet_attribute"],
    )
    finding = Finding.objects.get(operation=team, subject="Subnet Configuration")

    response = logged_in(client, teammate).get(
        f"/operations/{team.slug}/checks/add/", {"finding": finding.pk, "suggestion": 0}
    )

    bound = response.context["form"]
    assert bound["type"].value() == "subnet_attribute"
    assert (bound["environment"].value(), bound["region"].value()) == (fitting.pk, "eu-west-1")


def test_the_workspace_section_lists_its_environments(admin, teammate, workspace, environment):
    """What the workspace page includes, with the section's context as `data` (as the dashboard's panels)."""

    def drawn(user, is_admin: bool) -> str:
        section = panels.workspace_environments(workspace, user, is_admin)
        return render_to_string(section.template, {"data": section.context})

    as_admin, as_member = drawn(admin, True), drawn(teammate, False)

    assert "snail-prod" in as_admin and f"/aws-environments/{environment.pk}/edit/" in as_admin
    assert "/aws-environments/add/?workspace=team" in as_admin
    assert "snail-prod" in as_member and "/edit/" not in as_member and "/add/" not in as_member


def test_a_public_page_hides_unless_told_otherwise_and_fails_closed():
    template = Template("{% load ops_redact %}{% hides_infrastructure as hide %}{{ hide }}")
    request = RequestFactory().get("/p/no-such-token/")

    assert template.render(Context({})) == "False"  # a member's page
    assert template.render(Context({"public": True})) == "True"  # no request, no link: hide
    assert template.render(Context({"public": True, "request": request})) == "True"
    assert template.render(Context({"public": True, "shows_infrastructure": True})) == "False"


def test_the_admin_site_refuses_a_narrowing_that_strands_a_check_and_never_moves_one(
    admin_client, team, environment, workspace
):
    services.check_create(operation=team, actor=None, environment=environment, **SUBNET)
    Workspace.objects.create(name="Other", slug="other")
    url = f"/admin/ops/awsenvironment/{environment.pk}/change/"
    form = {
        "name": "snail-prod",
        "account_id": "123456789012",
        "regions": '["eu-west-1"]',
        "check_types": "[]",
        "role_arn": "",
        "external_id": "keep-me",
    }

    shown = admin_client.get(url)
    refused = admin_client.post(url, form)

    assert 'name="workspace"' not in shown.content.decode()  # read-only once made
    assert refused.status_code == 200 and "Subnet gives public IPs" in refused.content.decode()
    environment.refresh_from_db()
    assert (environment.regions, environment.workspace) == (["us-east-1"], workspace)
