"""/api/aws-environments/ beyond the workspace boundary (tests/security/test_environment_boundaries.py):
which workspace a new environment lands in, what the serializer shows and refuses, narrowing that
would strand a check, deleting one in use, and superusers seeing every workspace's."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ops import services
from ops.models import AwsEnvironment, Check
from tests.conftest import join
from tracker.models import Workspace

pytestmark = pytest.mark.django_db

URL = "/api/aws-environments/"
NEW = {"name": "prod", "account_id": "123456789012", "regions": ["us-east-1"]}
SUBNET = {
    "name": "Subnet gives public IPs",
    "type": "subnet_attribute",
    "region": "us-east-1",
    "params": {"subnet_id": "subnet-0123456789abcdef0", "attribute": "MapPublicIpOnLaunch"},
    "expected": True,
}


def client_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def admin(owner, workspace):
    return join(workspace, owner, "admin")


@pytest.fixture
def environment(workspace):
    return services.environment_create(
        workspace=workspace, name="prod", account_id="123456789012", regions=["us-east-1"]
    )


def test_a_new_environment_goes_to_the_only_workspace_its_admin_administers(admin, workspace):
    response = client_for(admin).post(URL, {**NEW, "external_id": "snail-42"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["workspace"], body["check_types"]) == ("team", [])
    assert "external_id" not in body  # written, never shown back
    assert AwsEnvironment.objects.get(pk=body["id"]).external_id == "snail-42"


def test_an_admin_of_several_workspaces_names_one(admin):
    join(Workspace.objects.create(name="Other", slug="other"), admin, "admin")

    unnamed = client_for(admin).post(URL, NEW, format="json")
    named = client_for(admin).post(URL, {**NEW, "workspace": "other"}, format="json")

    assert unnamed.status_code == 400 and "several" in unnamed.json()["fields"]["workspace"]
    assert named.status_code == 201 and named.json()["workspace"] == "other"


def test_names_are_unique_per_workspace_only(admin, environment):
    join(Workspace.objects.create(name="Other", slug="other"), admin, "admin")

    again = client_for(admin).post(URL, {**NEW, "workspace": "team"}, format="json")
    elsewhere = client_for(admin).post(URL, {**NEW, "workspace": "other"}, format="json")

    assert again.status_code == 400
    assert elsewhere.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"check_types": ["no_such_type"]}, "check_types"),
        ({"check_types": ["http_endpoint"]}, "check_types"),  # looks at no AWS: nothing to allow
        ({"check_types": "subnet_attribute"}, "check_types"),
        ({"regions": []}, "regions"),
        ({"regions": ["mars-1"]}, "regions"),
        ({"account_id": "12345"}, "account_id"),
        ({"role_arn": "arn:aws:iam::123:role/x"}, "role_arn"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin, change, field):
    response = client_for(admin).post(URL, {**NEW, **change}, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not AwsEnvironment.objects.exists()


def test_an_environment_never_moves_to_another_workspace(admin, environment):
    join(Workspace.objects.create(name="Other", slug="other"), admin, "admin")

    response = client_for(admin).patch(f"{URL}{environment.pk}/", {"workspace": "other"}, format="json")

    assert response.status_code == 400 and "stays in its workspace" in response.json()["fields"]["workspace"]
    assert AwsEnvironment.objects.get(pk=environment.pk).workspace.slug == "team"


def test_a_narrowing_that_would_strand_a_check_is_refused_naming_it(admin, team, environment):
    services.check_create(operation=team, actor=None, environment=environment, **SUBNET)
    api = client_for(admin)

    regions = api.patch(f"{URL}{environment.pk}/", {"regions": ["eu-west-1"]}, format="json")
    types = api.patch(f"{URL}{environment.pk}/", {"check_types": ["vpc_attribute"]}, format="json")
    fine = api.patch(f"{URL}{environment.pk}/", {"check_types": ["subnet_attribute", "vpc_attribute"]}, format="json")

    assert regions.status_code == 400 and "Subnet gives public IPs" in regions.json()["fields"]["regions"]
    assert types.status_code == 400 and "subnet_attribute" in types.json()["fields"]["check_types"]
    assert fine.status_code == 200, fine.content
    environment.refresh_from_db()
    assert (environment.regions, environment.check_types) == (["us-east-1"], ["subnet_attribute", "vpc_attribute"])


def test_an_environment_in_use_is_not_deleted(admin, team, environment):
    services.check_create(operation=team, actor=None, environment=environment, **SUBNET)

    response = client_for(admin).delete(f"{URL}{environment.pk}/")

    assert response.status_code == 400 and "Subnet gives public IPs" in response.json()["error"]
    assert AwsEnvironment.objects.filter(pk=environment.pk).exists() and Check.objects.exists()


def test_superusers_see_every_workspaces_environments(superuser, environment):
    other = Workspace.objects.create(name="Other", slug="other")
    services.environment_create(workspace=other, name="theirs", account_id="210987654321", regions=["eu-west-1"])

    rows = client_for(superuser).get(URL).json()["results"]

    assert sorted((row["workspace"], row["name"]) for row in rows) == [("other", "theirs"), ("team", "prod")]


def test_someone_in_no_workspace_sees_none_and_adds_none(outsider, environment):
    api = client_for(outsider)

    assert api.get(URL).json()["results"] == []
    assert api.post(URL, NEW, format="json").status_code == 403


def test_the_diagnosis_needs_an_environment_that_allows_its_walk(team, teammate, environment):
    services.environment_update(environment=environment, check_types=["subnet_attribute"])
    body = {"environment": environment.pk, "region": "us-east-1", "cluster": "c", "service": "s", "port": 80}

    response = client_for(teammate).post(f"/api/operations/{team.slug}/diagnose-ecs/", body, format="json")

    assert response.status_code == 400 and "ecs_reachability" in response.json()["fields"]["environment"]
