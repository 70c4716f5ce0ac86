"""An AWS environment is its workspace's: nobody outside it sees it or points a check at it, and
inside it only the workspace's admins add, change or delete it and narrow what may look at it.

The attack of issue #13: any signed-in user could create an operation, become its admin, and
attach an `aws_call` check to any environment, since environments were global and listed to
everyone. Here bob administers workspace Bravo and an operation in it; Alpha's environment must
not exist for him, in the API, on the pages, or in a diagnosis: answered exactly like an id that
was never made. mia is a member (not an admin) of Alpha: she reads its environments and changes
none (403). alice administers Alpha: she narrows its environment's check types and regions, and
the check API and form then refuse what is not allowed, saying why.

These tests build their own two workspaces, with the users of the one cast (tests/cast.py); the
sweep's world (tests/security/world.py) is built only in the modules that sweep it.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from ops import services
from ops.models import AwsEnvironment, Check
from tests import cast
from tests.conftest import join
from tracker import services as tracker_services
from tracker.models import Workspace

pytestmark = pytest.mark.django_db

MISSING = 987654
NO_SUCH = "No such AWS environment."
# The attack of the issue: an AWS metadata call, through the environment's role.
AWS_CALL = {
    "name": "Their VPCs",
    "type": "aws_call",
    "region": "us-east-1",
    "params": {"service": "ec2", "operation": "describe_vpcs", "expression": "length(Vpcs)"},
    "expected": 1,
}
SUBNET = {
    "name": "Subnet gives public IPs",
    "type": "subnet_attribute",
    "region": "us-east-1",
    "params": {"subnet_id": "subnet-0123456789abcdef0", "attribute": "MapPublicIpOnLaunch"},
    "expected": True,
}


@pytest.fixture(autouse=True)
def _in_a_savepoint(db):
    """Overrides the package's: these tests need the database, not the sweep's world (if another test
    built it, they run inside it, beside its rows)."""
    yield


class Two:
    """Alpha (alice admin, mia member, one environment) and Bravo (bob admin, his operation, his environment)."""

    def __init__(self, users):
        alice, mia, bob = users
        self.alice, self.mia, self.bob = alice, mia, bob
        self.alpha = Workspace.objects.create(name="Envs Alpha", slug="envs-alpha")
        self.bravo = Workspace.objects.create(name="Envs Bravo", slug="envs-bravo")
        join(self.alpha, alice, "admin")
        join(self.alpha, mia, "member")
        join(self.bravo, bob, "admin")
        self.alpha_env = services.environment_create(
            workspace=self.alpha,
            name="alpha-prod",
            account_id="111111111111",
            regions=["us-east-1"],
            role_arn="arn:aws:iam::111111111111:role/AlphaReader",
        )
        self.bravo_env = services.environment_create(
            workspace=self.bravo, name="bravo-prod", account_id="222222222222", regions=["us-east-1"]
        )
        self.alpha_operation = tracker_services.operation_create(
            workspace=self.alpha, name="Envs Alpha rollout", actor=alice
        )
        self.bravo_operation = tracker_services.operation_create(
            workspace=self.bravo, name="Envs Bravo rollout", actor=bob
        )

    def checks(self):
        """The checks of these two workspaces' operations (the sweep's world may hold others)."""
        return Check.objects.filter(operation__workspace__in=[self.alpha, self.bravo])


@pytest.fixture
def two(django_user_model) -> Two:
    # The cast's (tests/cast.py): alice is the owner, mia a teammate, bob the outsider in his own workspace.
    return Two([cast.make(name) for name in ("owner", "teammate", "outsider")])


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- attaching a check --------------------------------------------------------------------------------


def test_an_admin_of_another_workspace_cannot_attach_a_check_to_its_environment_through_the_api(two):
    url = f"/api/operations/{two.bravo_operation.slug}/checks/"

    theirs = api(two.bob).post(url, {**AWS_CALL, "environment": two.alpha_env.pk}, format="json")
    missing = api(two.bob).post(url, {**AWS_CALL, "environment": MISSING}, format="json")

    assert theirs.status_code == missing.status_code == 400, theirs.content
    assert theirs.json()["fields"]["environment"] == missing.json()["fields"]["environment"] == NO_SUCH
    assert not two.checks().exists()
    # Control: his own workspace's environment takes the same check.
    own = api(two.bob).post(url, {**AWS_CALL, "environment": two.bravo_env.pk}, format="json")
    assert own.status_code == 201, own.content


def test_an_admin_of_another_workspace_cannot_move_his_check_onto_its_environment(two):
    check = services.check_create(operation=two.bravo_operation, actor=two.bob, environment=two.bravo_env, **AWS_CALL)
    url = f"/api/operations/{two.bravo_operation.slug}/checks/{check.pk}/"

    theirs = api(two.bob).patch(url, {"environment": two.alpha_env.pk}, format="json")
    missing = api(two.bob).patch(url, {"environment": MISSING}, format="json")

    assert theirs.status_code == missing.status_code == 400
    assert theirs.json()["fields"]["environment"] == missing.json()["fields"]["environment"] == NO_SUCH
    assert Check.objects.get(pk=check.pk).environment_id == two.bravo_env.pk


def test_an_admin_of_another_workspace_cannot_attach_a_check_to_its_environment_on_the_page(two):
    page = browser(two.bob)
    url = f"/operations/{two.bravo_operation.slug}/checks/add/"
    form = {
        "name": AWS_CALL["name"],
        "type": "aws_call",
        "region": "us-east-1",
        "params": '{"service": "ec2", "operation": "describe_vpcs", "expression": "length(Vpcs)"}',
        "expected": "1",
        "interval": "300",
        "enabled": "on",
    }

    offered = page.get(url).content.decode()
    theirs = page.post(url, {**form, "environment": str(two.alpha_env.pk)})
    missing = page.post(url, {**form, "environment": str(MISSING)})

    assert "bravo-prod" in offered and "alpha-prod" not in offered  # not even offered
    assert theirs.status_code == missing.status_code == 400
    assert theirs.context["form"].errors["environment"] == missing.context["form"].errors["environment"] == [NO_SUCH]
    assert not two.checks().exists()


def test_an_admin_of_another_workspace_cannot_diagnose_through_its_environment(two):
    body = {"environment": two.alpha_env.pk, "region": "us-east-1", "cluster": "c", "service": "s", "port": 80}
    url = f"/api/operations/{two.bravo_operation.slug}/diagnose-ecs/"

    theirs = api(two.bob).post(url, body, format="json")
    missing = api(two.bob).post(url, {**body, "environment": MISSING}, format="json")
    page = browser(two.bob).post(
        f"/operations/{two.bravo_operation.slug}/checks/diagnose-ecs/", {**body, "environment": two.alpha_env.pk}
    )

    assert theirs.status_code == missing.status_code == 400
    assert theirs.json()["fields"]["environment"] == missing.json()["fields"]["environment"] == NO_SUCH
    assert page.status_code == 400 and page.context["form"].errors["environment"] == [NO_SUCH]


# --- seeing environments --------------------------------------------------------------------------------


def test_another_workspaces_environments_are_not_listed(two):
    bob_sees = [row["name"] for row in api(two.bob).get("/api/aws-environments/").json()["results"]]
    mia_sees = [row["name"] for row in api(two.mia).get("/api/aws-environments/").json()["results"]]
    page = browser(two.bob).get("/aws-environments/").content.decode()

    assert bob_sees == ["bravo-prod"] and mia_sees == ["alpha-prod"]
    assert "bravo-prod" in page and "alpha-prod" not in page and "111111111111" not in page


def test_another_workspaces_environment_is_a_404_like_one_that_does_not_exist(two):
    client, page = api(two.bob), browser(two.bob)
    wider = {"regions": ["eu-west-1"]}

    for pk in (two.alpha_env.pk, MISSING):
        assert client.get(f"/api/aws-environments/{pk}/").status_code == 404
        assert client.patch(f"/api/aws-environments/{pk}/", wider, format="json").status_code == 404
        assert client.delete(f"/api/aws-environments/{pk}/").status_code == 404
        assert page.get(f"/aws-environments/{pk}/edit/").status_code == 404
        assert page.post(f"/aws-environments/{pk}/delete/").status_code == 404
    theirs = client.get(f"/api/aws-environments/{two.alpha_env.pk}/").json()
    assert theirs == client.get(f"/api/aws-environments/{MISSING}/").json()
    assert AwsEnvironment.objects.get(pk=two.alpha_env.pk).regions == ["us-east-1"]
    # Control: its own admin finds it at the same URLs.
    assert api(two.alice).get(f"/api/aws-environments/{two.alpha_env.pk}/").status_code == 200
    assert browser(two.alice).get(f"/aws-environments/{two.alpha_env.pk}/edit/").status_code == 200


def test_a_workspace_named_by_someone_outside_it_is_answered_as_if_it_did_not_exist(two):
    body = {"workspace": "envs-alpha", "name": "sneaky", "account_id": "333333333333", "regions": ["us-east-1"]}

    theirs = api(two.bob).post("/api/aws-environments/", body, format="json")
    missing = api(two.bob).post("/api/aws-environments/", {**body, "workspace": "no-such"}, format="json")

    assert theirs.status_code == missing.status_code == 400
    assert theirs.json()["fields"]["workspace"].replace("envs-alpha", "X") == missing.json()["fields"][
        "workspace"
    ].replace("no-such", "X")
    assert not AwsEnvironment.objects.filter(name="sneaky").exists()


# --- managing environments --------------------------------------------------------------------------------


def test_a_member_reads_but_cannot_add_change_or_delete_an_environment(two):
    client, page = api(two.mia), browser(two.mia)
    pk = two.alpha_env.pk
    body = {"name": "mine", "account_id": "111111111111", "regions": ["us-east-1"]}

    assert client.get(f"/api/aws-environments/{pk}/").status_code == 200
    assert client.post("/api/aws-environments/", body, format="json").status_code == 403
    assert client.post("/api/aws-environments/", {**body, "workspace": "envs-alpha"}, format="json").status_code == 403
    assert client.patch(f"/api/aws-environments/{pk}/", {"check_types": ["aws_call"]}, format="json").status_code == 403
    assert client.delete(f"/api/aws-environments/{pk}/").status_code == 403
    assert page.get("/aws-environments/add/").status_code == 403
    assert page.get(f"/aws-environments/{pk}/edit/").status_code == 403
    edit = {"name": "x", "account_id": "1" * 12, "regions": "us-east-1"}
    assert page.post(f"/aws-environments/{pk}/edit/", edit).status_code == 403
    assert page.post(f"/aws-environments/{pk}/delete/").status_code == 403

    environment = AwsEnvironment.objects.get(pk=pk)
    assert (environment.name, environment.check_types) == ("alpha-prod", [])
    assert list(AwsEnvironment.objects.filter(workspace=two.alpha).values_list("name", flat=True)) == ["alpha-prod"]


def test_the_workspace_admin_adds_changes_and_deletes_one(two):
    client = api(two.alice)

    made = client.post(
        "/api/aws-environments/",
        {"name": "alpha-dev", "account_id": "111111111112", "regions": ["eu-west-1"], "check_types": ["vpc_attribute"]},
        format="json",
    )
    pk = made.json()["id"]
    changed = client.patch(f"/api/aws-environments/{pk}/", {"regions": ["eu-west-1", "eu-west-2"]}, format="json")
    deleted = client.delete(f"/api/aws-environments/{pk}/")

    assert made.status_code == 201, made.content
    assert (made.json()["workspace"], made.json()["check_types"]) == ("envs-alpha", ["vpc_attribute"])
    assert changed.status_code == 200 and changed.json()["regions"] == ["eu-west-1", "eu-west-2"]
    assert deleted.status_code == 204 and not AwsEnvironment.objects.filter(pk=pk).exists()


# --- narrowing ----------------------------------------------------------------------------------------


def test_an_environment_narrowed_to_some_check_types_refuses_the_others(two):
    narrowed = api(two.alice).patch(
        f"/api/aws-environments/{two.alpha_env.pk}/", {"check_types": ["subnet_attribute"]}, format="json"
    )
    url = f"/api/operations/{two.alpha_operation.slug}/checks/"

    refused = api(two.alice).post(url, {**AWS_CALL, "environment": two.alpha_env.pk}, format="json")
    allowed = api(two.alice).post(url, {**SUBNET, "environment": two.alpha_env.pk}, format="json")

    assert narrowed.status_code == 200 and narrowed.json()["check_types"] == ["subnet_attribute"]
    assert refused.status_code == 400
    assert "alpha-prod does not allow aws_call checks" in refused.json()["fields"]["type"]
    assert allowed.status_code == 201, allowed.content
    assert list(two.checks().values_list("type", flat=True)) == ["subnet_attribute"]


def test_an_environment_narrowed_to_some_regions_refuses_the_others_on_the_page_too(two):
    narrowed = api(two.alice).patch(
        f"/api/aws-environments/{two.alpha_env.pk}/", {"regions": ["eu-west-1"]}, format="json"
    )
    form = {
        "name": SUBNET["name"],
        "type": "subnet_attribute",
        "environment": str(two.alpha_env.pk),
        "region": "us-east-1",
        "params": '{"subnet_id": "subnet-0123456789abcdef0", "attribute": "MapPublicIpOnLaunch"}',
        "expected": "true",
        "interval": "300",
        "enabled": "on",
    }

    response = browser(two.alice).post(f"/operations/{two.alpha_operation.slug}/checks/add/", form)

    assert narrowed.status_code == 200, narrowed.content
    assert response.status_code == 400
    assert "us-east-1" in " ".join(response.context["form"].errors["region"])
    assert not two.checks().exists()


def test_the_page_form_narrows_the_check_types(two):
    page = browser(two.alice)
    url = f"/aws-environments/{two.alpha_env.pk}/edit/"

    saved = page.post(
        url,
        {
            "name": "alpha-prod",
            "account_id": "111111111111",
            "regions": "us-east-1",
            "check_types": ["subnet_attribute"],
        },
    )
    check_page = page.post(
        f"/operations/{two.alpha_operation.slug}/checks/add/",
        {
            "name": "VPCs",
            "type": "aws_call",
            "environment": str(two.alpha_env.pk),
            "region": "us-east-1",
            "params": '{"service": "ec2", "operation": "describe_vpcs", "expression": "length(Vpcs)"}',
            "expected": "1",
            "interval": "300",
        },
    )

    assert saved.status_code == 302, saved.content
    assert AwsEnvironment.objects.get(pk=two.alpha_env.pk).check_types == ["subnet_attribute"]
    assert check_page.status_code == 400
    assert "does not allow aws_call checks" in " ".join(check_page.context["form"].errors["type"])


def test_unknown_check_types_are_refused(two):
    response = api(two.alice).patch(
        f"/api/aws-environments/{two.alpha_env.pk}/", {"check_types": ["no_such_type"]}, format="json"
    )

    assert response.status_code == 400 and "check_types" in response.json()["fields"]
    assert AwsEnvironment.objects.get(pk=two.alpha_env.pk).check_types == []
