"""Issue #19, point 3: tasks that never start. ECS's stoppedReason in words, and the network that
explains a pull that timed out (moto for the walk; the reasons as ECS and Fargate write them)."""

from __future__ import annotations

import pytest

from ops import aws as ops_aws
from ops import demo
from ops.diagnosis import Code, diagnose_ecs, read_stop

REGION = "us-east-1"


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        (
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            "x.dkr.ecr.us-east-1.amazonaws.com/app:v1: dial tcp 3.5.0.1:443: i/o timeout",
            "network",
        ),
        (
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
            "failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: "
            "send request failed caused by: Post https://api.ecr.us-east-1.amazonaws.com/: context deadline "
            "exceeded",
            "network",
        ),
        (
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
            "failed: unable to retrieve secret from asm: AccessDeniedException: not authorized to perform "
            "secretsmanager:GetSecretValue",
            "permission",
        ),
        (
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            "x.dkr.ecr.us-east-1.amazonaws.com/app:v9: x.dkr.ecr.us-east-1.amazonaws.com/app:v9: not found",
            "image",
        ),
        (
            "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 "
            "times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group "
            "does not exist.",
            "logs",
        ),
        ("Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:...)", "health"),
        ("Essential container in task exited", "exited"),
        ("Scaling activity initiated by (deployment ecs-svc/1)", "other"),
    ],
)
def test_it_reads_why_a_task_stopped(reason, kind):
    stop = read_stop(3, {"lastStatus": "STOPPED", "stoppedReason": reason})

    assert (stop.index, stop.kind) == (3, kind)


def test_a_task_with_no_reason_says_nothing():
    assert read_stop(0, {"lastStatus": "STOPPED"}) is None


def test_a_group_that_lets_no_https_out_keeps_a_public_task_from_ecr(aws, aws_stub, monkeypatch):
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "0")
    ids = demo.seed_example(running_assign_public_ip="ENABLED", service_assign_public_ip="ENABLED")
    aws_stub("ec2", "DescribeVpcBlockPublicAccessOptions", response={"VpcBlockPublicAccessOptions": {}})
    ec2, ecs = ops_aws.client("ec2", region=REGION), ops_aws.client("ecs", region=REGION)
    ec2.revoke_security_group_egress(
        GroupId=ids["security_group_id"], IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    ecs.stop_task(
        cluster=ids["cluster"], task=ids["task_arns"][0],
        reason="CannotPullContainerError: ref pull has been retried 1 time(s): dial tcp 3.5.0.1:443: i/o timeout",
    )  # fmt: skip

    diagnosis = diagnose_ecs(cluster=ids["cluster"], service=ids["service"], region=REGION, port=5000)

    cause = next(c for c in diagnosis.root_causes if c.code == Code.NO_ROUTE_TO_REGISTRY)
    assert diagnosis.verdict == "unreachable"
    assert "do not let TCP 443 out" in cause.summary
    assert f"authorize-security-group-egress --group-id {ids['security_group_id']} --protocol tcp --port 443" in (
        cause.remediation
    )
    assert Code.ASSIGN_PUBLIC_IP_DISABLED not in diagnosis.codes
