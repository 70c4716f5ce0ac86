"""Clients on the standard credential chain, or on an environment's assumed role (moto's STS),
and a role that cannot be assumed named as such rather than as a missing describe permission."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ops import aws as ops_aws
from ops import services
from ops.checks.base import ERROR, aws_error

pytestmark = pytest.mark.django_db

ROLE = "arn:aws:iam::123456789012:role/SnailTrailReader"


def test_without_a_role_the_clients_use_the_standard_chain(aws):
    session = ops_aws.session_for(None)

    assert session.get_credentials().access_key == "testing"  # AWS_ACCESS_KEY_ID, as boto3 reads it


def test_an_environments_role_is_assumed_and_refreshable(aws, workspace):
    environment = services.environment_create(
        workspace=workspace,
        name="prod",
        account_id="123456789012",
        regions=["us-east-1"],
        role_arn=ROLE,
        external_id="snail-42",
    )
    session = ops_aws.session_for(environment)
    credentials = session.get_credentials()

    client = ops_aws.client("ec2", region="us-east-1", environment=environment)
    client.describe_vpcs()

    frozen = credentials.get_frozen_credentials()  # assumes the role now
    assert credentials.method == "assume-role"
    assert frozen.access_key != "testing"  # the role's, not the base credentials
    assert credentials.refresh_needed() is False  # botocore refreshes them shortly before they expire


def test_a_role_that_cannot_be_assumed_is_named_as_the_problem():
    error = ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized to assume"}}, "AssumeRole")

    observation = aws_error(error, "ec2.DescribeSubnets")

    assert observation.status == ERROR
    assert observation.message.startswith("sts:AssumeRole failed, so ec2.DescribeSubnets was not made")


def test_a_missing_permission_names_it():
    error = ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DescribeSubnets")

    assert "Missing permission ec2:DescribeSubnets" in aws_error(error, "ec2.DescribeSubnets").message
