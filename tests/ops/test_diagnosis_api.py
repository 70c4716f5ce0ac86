"""Issue #19 through the API: the caller may accept a step that cannot tell (a role without the Block
Public Access permission on purpose), names only steps that exist, and reads each cause's impact."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ops import services
from ops.demo import seed_example

pytestmark = pytest.mark.django_db


@pytest.fixture
def environment(team):
    return services.environment_create(
        workspace=team.workspace, name="demo", account_id="123456789012", regions=["us-east-1"]
    )


def ask(user, team, **body):
    api = APIClient()
    api.force_authenticate(user)
    return api.post(f"/api/operations/{team.slug}/diagnose-ecs/", body, format="json")


def test_an_editor_can_accept_a_step_the_role_may_not_answer(aws, aws_stub, team, teammate, environment):
    ids = seed_example(running_assign_public_ip="ENABLED", running_tasks=2)
    aws_stub("ec2", "DescribeVpcBlockPublicAccessOptions", error_code="UnauthorizedOperation", status=403)
    body = {"environment": environment.pk, "region": "us-east-1", "cluster": ids["cluster"],
            "service": ids["service"], "port": 5000}  # fmt: skip

    assert ask(teammate, team, **body).json()["verdict"] == "unknown"
    answer = ask(teammate, team, **body, unknown_ok=["vpc-block-public-access"])

    assert answer.status_code == 200, answer.content
    assert answer.json()["verdict"] == "reachable"


def test_a_partial_answer_carries_each_causes_impact(aws, aws_stub, team, teammate, environment):
    from ops import aws as ops_aws

    ids = seed_example(running_assign_public_ip="ENABLED", running_tasks=2)
    aws_stub("ec2", "DescribeVpcBlockPublicAccessOptions", response={"VpcBlockPublicAccessOptions": {}})
    ec2 = ops_aws.client("ec2", region="us-east-1")
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=ids["network_interface_ids"][:1])["NetworkInterfaces"][0]
    ec2.disassociate_address(AssociationId=eni["Association"]["AssociationId"])

    body = ask(teammate, team, environment=environment.pk, region="us-east-1", cluster=ids["cluster"],
               service=ids["service"], port=5000).json()  # fmt: skip

    assert body["verdict"] == "partially reachable"
    assert [(c["code"], c["impact"]) for c in body["root_causes"]] == [("TASK_ENI_NO_PUBLIC_IP", "some")]


def test_an_unknown_step_name_is_a_400(team, teammate, environment):
    response = ask(teammate, team, environment=environment.pk, region="us-east-1", cluster="c", service="s",
                   port=5000, unknown_ok=["vpc-bpa"])  # fmt: skip

    assert response.status_code == 400 and "unknown_ok" in response.json()["fields"]
