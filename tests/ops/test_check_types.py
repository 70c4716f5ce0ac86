"""Every check type against a moto server: what passes, what fails, what errors without taking its
group down with it, and how many AWS calls a group costs (one batched call per group, not per check).

Faults moto cannot produce (AccessDenied, throttling, 5xx) are injected below boto3 with a botocore
`before-send` handler, so the client's real retry logic runs and the attempts can be counted.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from django.core.exceptions import ValidationError

from ops import aws as ops_aws
from ops.checks import generic, registry
from ops.checks import http as http_checks
from ops.checks.base import ERROR, FAIL, PASS, CallLog, Observation, Target
from ops.checks.rules import nacl_decision, sg_ingress_match
from ops.demo import create_network, push_image, seed_example

REGION = "us-east-1"


# --- helpers --------------------------------------------------------------------------------------


def client(service: str):
    return ops_aws.client(service, region=REGION)


def run(code: str, *checks: tuple[dict[str, Any], Any]) -> tuple[list[Observation], list[str]]:
    """Clean each (params, expected) as saving a check would, collect them as one group."""
    kind = registry.get(code)
    targets = []
    for number, (params, expected) in enumerate(checks, start=1):
        cleaned, wanted = kind.clean(params, expected)
        targets.append(Target(id=number, params=cleaned, expected=wanted))
    calls = CallLog()
    observations = kind.collect(targets, client_for=client, region=REGION, calls=calls)
    assert set(observations) == {target.id for target in targets}
    json.dumps([(o.observed, o.evidence) for o in observations.values()])  # what a run stores must be JSON
    return [observations[target.id] for target in targets], calls.calls


def statuses(observations: list[Observation]) -> list[str]:
    return [observation.status for observation in observations]


def clean_error(code: str, params: dict[str, Any], expected: Any = None) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        registry.get(code).clean(params, expected)
    return caught.value.message_dict


class _Body:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


@pytest.fixture
def fault(aws) -> Iterator[Callable[[str, str, int, str], list[int]]]:
    """fault(service, operation, status, body): answer every attempt at `operation` with this response,
    before it leaves the ops.aws client (a `before-send` handler), so the client's retry handler still
    runs; returns the list that counts the attempts."""
    registered: list[tuple[Any, str, Callable]] = []

    def inject(service: str, operation: str, status: int, body: str) -> list[int]:
        attempts: list[int] = []
        kind = "application/x-amz-json-1.1" if body.startswith("{") else "text/xml"

        def answer(request, **_: Any) -> AWSResponse:
            attempts.append(1)
            return AWSResponse(request.url, status, {"Content-Type": kind}, _Body(body.encode()))

        service_client = client(service)
        event = f"before-send.{service_client.meta.service_model.service_id.hyphenize()}.{operation}"
        service_client.meta.events.register_first(event, answer)
        registered.append((service_client, event, answer))
        return attempts

    yield inject
    for service_client, event, handler in registered:
        service_client.meta.events.unregister(event, handler)


def ec2_error(code: str, message: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error></Errors><RequestID>req-1</RequestID></Response>"
    )


# --- the AWS it looks at ------------------------------------------------------------------------


@pytest.fixture
def example(aws) -> dict[str, Any]:
    """The example's network, image and ECS service (running deployment DISABLED, service ENABLED)."""
    return seed_example(region=REGION)


@pytest.fixture
def network(aws) -> dict[str, Any]:
    """The example's network alone (VPC, two public subnets, route table, IGW, group open on 5000)."""
    return create_network(region=REGION)


@pytest.fixture
def image(aws) -> dict[str, Any]:
    """The example's ECR repository with its one tag."""
    return push_image(region=REGION)


@pytest.fixture
def private_subnet(network) -> str:
    """A subnet of the example's VPC with no explicit association: the main table, which has no 0.0.0.0/0."""
    return client("ec2").create_subnet(VpcId=network["vpc_id"], CidrBlock="10.0.9.0/24")["Subnet"]["SubnetId"]


MISSING_SUBNET = "subnet-0123456789abcdef0"
MISSING_GROUP = "sg-0123456789abcdef0"


# --- subnet_attribute -----------------------------------------------------------------------------


def test_it_judges_subnet_attributes_with_one_call_for_the_group(network, private_subnet):
    public = network["subnet_ids"][0]
    observations, calls = run(
        "subnet_attribute",
        ({"subnet_id": public, "attribute": "MapPublicIpOnLaunch"}, True),
        ({"subnet_id": private_subnet, "attribute": "MapPublicIpOnLaunch"}, True),
        ({"subnet_id": public, "attribute": "Ipv6Native"}, "false"),
        ({"subnet_id": public, "attribute": "CidrBlock"}, "10.0.1.0/24"),
    )
    assert statuses(observations) == [PASS, FAIL, PASS, PASS]
    assert observations[0].evidence == {"SubnetId": public, "VpcId": network["vpc_id"], "MapPublicIpOnLaunch": True}
    assert observations[1].observed is False
    assert calls == ["ec2.DescribeSubnets"]


def test_it_makes_one_describe_subnets_for_25_subnet_checks(aws):
    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = [ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.1.{n}.0/24")["Subnet"]["SubnetId"] for n in range(25)]
    observations, calls = run(
        "subnet_attribute", *[({"subnet_id": s, "attribute": "MapPublicIpOnLaunch"}, False) for s in subnet_ids]
    )
    assert statuses(observations) == [PASS] * 25
    assert calls == ["ec2.DescribeSubnets"]


def test_it_errors_a_missing_subnet_without_erroring_the_rest_of_its_group(network):
    observations, calls = run(
        "subnet_attribute",
        ({"subnet_id": network["subnet_ids"][0], "attribute": "MapPublicIpOnLaunch"}, True),
        ({"subnet_id": MISSING_SUBNET, "attribute": "MapPublicIpOnLaunch"}, True),
        ({"subnet_id": network["subnet_ids"][1], "attribute": "MapPublicIpOnLaunch"}, True),
    )
    assert statuses(observations) == [PASS, ERROR, PASS]
    assert observations[1].error_code == "InvalidSubnetID.NotFound"
    assert MISSING_SUBNET in observations[1].message
    assert calls == ["ec2.DescribeSubnets"]  # a filter, not SubnetIds=[...], which AWS fails as a whole


def test_it_refuses_bad_subnet_attribute_params():
    errors = clean_error("subnet_attribute", {"subnet_id": "subnet-xyz", "attribute": "Colour", "zone": "a"}, True)
    text = " ".join(errors["params"])
    assert "Unknown parameter zone" in text
    assert "subnet_id: 'subnet-xyz' is not a subnet id" in text
    assert "attribute: must be one of" in text
    assert "expected" in clean_error("subnet_attribute", {"subnet_id": MISSING_SUBNET, "attribute": "Ipv6Native"}, 3)


def test_it_normalises_the_attribute_spelling_and_the_expected_boolean():
    params, expected = registry.get("subnet_attribute").clean(
        {"subnet_id": MISSING_SUBNET, "attribute": "mappubliciponlaunch"}, "TRUE"
    )
    assert params == {"subnet_id": MISSING_SUBNET, "attribute": "MapPublicIpOnLaunch"}
    assert expected is True


# --- vpc_attribute --------------------------------------------------------------------------------


def test_it_judges_vpc_attributes_one_call_per_vpc_and_attribute(network):
    ec2 = client("ec2")
    other = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    observations, calls = run(
        "vpc_attribute",
        ({"vpc_id": network["vpc_id"], "attribute": "enableDnsHostnames"}, True),
        ({"vpc_id": network["vpc_id"], "attribute": "enableDnsSupport"}, True),
        ({"vpc_id": other, "attribute": "enableDnsHostnames"}, True),  # moto's default is false
        ({"vpc_id": "vpc-0123456789abcdef0", "attribute": "enableDnsSupport"}, True),
        ({"vpc_id": network["vpc_id"], "attribute": "enableDnsSupport"}, False),  # shares the second call
    )
    assert statuses(observations) == [PASS, PASS, FAIL, ERROR, FAIL]
    assert observations[0].evidence == {"VpcId": network["vpc_id"], "EnableDnsHostnames.Value": True}
    assert observations[3].error_code == "InvalidVpcID.NotFound"
    assert observations[3].message.startswith("ec2.DescribeVpcAttribute:")
    assert calls == ["ec2.DescribeVpcAttribute"] * 4


# --- subnet_internet_route ------------------------------------------------------------------------


def test_it_follows_the_route_table_that_really_applies(network, private_subnet):
    observations, calls = run(
        "subnet_internet_route",
        ({"subnet_id": network["subnet_ids"][0]}, True),
        ({"subnet_id": private_subnet}, True),
        ({"subnet_id": private_subnet}, False),
        ({"subnet_id": MISSING_SUBNET}, True),
    )
    assert statuses(observations) == [PASS, FAIL, PASS, ERROR]
    public = observations[0].evidence
    assert public["RouteTableId"] == network["route_table_id"]
    assert public["Association"] == "explicit"
    assert public["Route"] == {
        "DestinationCidrBlock": "0.0.0.0/0",
        "GatewayId": network["internet_gateway_id"],
        "State": "active",
    }
    assert public["InternetGateway.Attachments"] == [{"State": "available", "VpcId": network["vpc_id"]}]
    private = observations[1]
    assert private.observed is False
    assert private.evidence["Association"] == "main"
    assert private.evidence["Route"] is None
    assert "no 0.0.0.0/0 route" in private.message
    assert observations[3].error_code == "InvalidSubnetID.NotFound"
    assert calls == ["ec2.DescribeSubnets", "ec2.DescribeRouteTables", "ec2.DescribeInternetGateways"]


def test_it_fails_a_route_to_a_gateway_detached_from_the_vpc(network):
    ec2 = client("ec2")
    ec2.detach_internet_gateway(InternetGatewayId=network["internet_gateway_id"], VpcId=network["vpc_id"])
    [observation], _ = run("subnet_internet_route", ({"subnet_id": network["subnet_ids"][0]}, True))
    # moto leaves the route active (AWS would make it a blackhole): the gateway's attachments say it.
    assert observation.status == FAIL
    assert observation.evidence["Route"]["State"] == "active"
    assert observation.evidence["InternetGateway.Attachments"] == []
    assert f"{network['internet_gateway_id']}, which is not attached to {network['vpc_id']}" in observation.message


def test_it_fails_a_blackhole_route_without_asking_about_its_gateway(network, aws_stub):
    subnet_id, vpc_id = network["subnet_ids"][0], network["vpc_id"]
    table = {
        "RouteTableId": "rtb-0123456789abcdef0",
        "VpcId": vpc_id,
        "Associations": [{"SubnetId": subnet_id, "RouteTableId": "rtb-0123456789abcdef0", "Main": False}],
        "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-0123456789abcdef0", "State": "blackhole"}],
    }
    aws_stub("ec2", "DescribeRouteTables", response={"RouteTables": [table]})  # moto never makes a blackhole
    [observation], calls = run("subnet_internet_route", ({"subnet_id": subnet_id}, True))
    assert observation.status == FAIL
    assert observation.evidence["Route"]["State"] == "blackhole"
    assert "is a blackhole" in observation.message
    assert calls == ["ec2.DescribeSubnets", "ec2.DescribeRouteTables"]


def test_it_fails_a_default_route_that_is_not_an_internet_gateway(network, private_subnet):
    ec2 = client("ec2")
    table = ec2.create_route_table(VpcId=network["vpc_id"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId="nat-0123456789abcdef0")
    ec2.associate_route_table(RouteTableId=table, SubnetId=private_subnet)
    [observation], calls = run("subnet_internet_route", ({"subnet_id": private_subnet}, True))
    assert observation.status == FAIL
    assert observation.evidence["RouteTableId"] == table
    assert "not to an internet gateway" in observation.message
    assert "ec2.DescribeInternetGateways" not in calls  # no gateway worth asking about


# --- security_group_ingress -----------------------------------------------------------------------


def test_it_judges_security_group_ingress_in_one_call(network):
    ec2 = client("ec2")
    group = network["security_group_id"]
    everything = ec2.create_security_group(GroupName="all", Description="all", VpcId=network["vpc_id"])["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=everything, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    )
    ipv6 = ec2.create_security_group(GroupName="v6", Description="v6", VpcId=network["vpc_id"])["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=ipv6,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 444, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
    )
    observations, calls = run(
        "security_group_ingress",
        ({"group_id": group, "port": 5000}, True),
        ({"group_id": group, "port": 22}, True),
        ({"group_id": group, "port": 5000, "protocol": "udp"}, True),
        ({"group_id": everything, "port": 9999, "protocol": "udp", "source": "10.1.2.0/24"}, True),
        ({"group_id": everything, "port": 9999}, False),  # 0.0.0.0/0 is wider than 10.0.0.0/8
        ({"group_id": ipv6, "port": 444, "source": "2001:db8::/32"}, True),
        ({"group_id": ipv6, "port": 444}, False),  # an IPv6 range says nothing about IPv4 sources
        ({"group_id": MISSING_GROUP, "port": 5000}, True),
    )
    assert statuses(observations) == [PASS, FAIL, FAIL, PASS, PASS, PASS, PASS, ERROR]
    assert observations[0].evidence["IpPermissions (matching)"] == {
        "IpProtocol": "tcp",
        "FromPort": 5000,
        "ToPort": 5000,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
    }
    assert "No ingress rule lets 0.0.0.0/0 in on tcp/22" in observations[1].message
    assert observations[7].error_code == "InvalidGroup.NotFound"
    assert calls == ["ec2.DescribeSecurityGroups"]


def test_it_counts_prefix_lists_and_group_sources_as_no_match_and_says_so():
    permissions = [
        {"IpProtocol": "tcp", "FromPort": 5000, "ToPort": 5000, "PrefixListIds": [{"PrefixListId": "pl-1234"}]},
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "UserIdGroupPairs": [{"GroupId": "sg-lb"}]},
    ]
    rule, notes = sg_ingress_match(permissions, port=5000, protocol="tcp")
    assert rule is None
    assert any("pl-1234" in note for note in notes) and any("sg-lb" in note for note in notes)


def test_it_refuses_bad_security_group_params():
    text = " ".join(
        clean_error("security_group_ingress", {"group_id": "sg-1", "port": 70000, "protocol": "icmp", "source": "x"})[
            "params"
        ]
    )
    assert "group_id" in text and "port: must be from 0 to 65535" in text
    assert "protocol: must be one of tcp, udp" in text and "source: 'x' is not a CIDR block" in text
    params, expected = registry.get("security_group_ingress").clean({"group_id": MISSING_GROUP, "port": "5000"}, None)
    assert params == {"group_id": MISSING_GROUP, "port": 5000, "protocol": "tcp", "source": "0.0.0.0/0"}
    assert expected is True


# --- nacl_allows_port -----------------------------------------------------------------------------


def test_it_judges_the_subnets_network_acl_lowest_rule_first(network, private_subnet):
    ec2 = client("ec2")
    acl = ec2.create_network_acl(VpcId=network["vpc_id"])["NetworkAcl"]["NetworkAclId"]
    for number, action, ports in ((90, "deny", (5000, 5000)), (100, "allow", (0, 65535))):
        ec2.create_network_acl_entry(
            NetworkAclId=acl, RuleNumber=number, Protocol="6", RuleAction=action, Egress=False,
            CidrBlock="0.0.0.0/0", PortRange={"From": ports[0], "To": ports[1]},
        )  # fmt: skip
    ec2.create_network_acl_entry(
        NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=True,
        CidrBlock="0.0.0.0/0", PortRange={"From": 1024, "To": 65535},
    )  # fmt: skip
    association = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [private_subnet]}])
    current = next(
        a["NetworkAclAssociationId"]
        for a in association["NetworkAcls"][0]["Associations"]
        if a["SubnetId"] == private_subnet
    )
    ec2.replace_network_acl_association(AssociationId=current, NetworkAclId=acl)

    public = network["subnet_ids"][0]
    observations, calls = run(
        "nacl_allows_port",
        ({"subnet_id": public, "port": 5000}, True),  # the default ACL allows everything
        ({"subnet_id": private_subnet, "port": 5000}, True),  # rule 90 denies before rule 100 allows
        ({"subnet_id": private_subnet, "port": 5001}, True),
        ({"subnet_id": private_subnet, "port": 5001, "protocol": "udp"}, False),  # no udp rule: the * deny
        ({"subnet_id": private_subnet, "port": 40000, "direction": "egress"}, True),  # ephemeral replies
        ({"subnet_id": private_subnet, "port": 80, "direction": "egress"}, False),
        ({"subnet_id": MISSING_SUBNET, "port": 5000}, True),
    )
    assert statuses(observations) == [PASS, FAIL, PASS, PASS, PASS, PASS, ERROR]
    denied = observations[1]
    assert denied.evidence["NetworkAclId"] == acl
    assert denied.evidence["Entry"]["RuleNumber"] == 90 and denied.evidence["Entry"]["RuleAction"] == "deny"
    assert "Rule 90" in denied.message
    assert observations[3].evidence["Entry"] is None and "final * rule denies" in observations[3].message
    assert observations[6].error_code == "InvalidSubnetID.NotFound"
    # The subnet the association filter did not return is looked up again: on AWS only a missing
    # one is, with one DescribeSubnets; moto's multi-value filter also drops the public subnet here,
    # whose VPC's ACLs are then read by vpc-id.
    assert calls[:2] == ["ec2.DescribeNetworkAcls", "ec2.DescribeSubnets"] and len(calls) <= 3

    _, calls = run(
        "nacl_allows_port", *[({"subnet_id": s, "port": 5000}, True) for s in [*network["subnet_ids"], private_subnet]]
    )
    assert calls == ["ec2.DescribeNetworkAcls"]


def test_it_skips_nacl_entries_that_cover_only_part_of_the_peer():
    entries = [
        {"RuleNumber": 50, "Protocol": "-1", "RuleAction": "deny", "Egress": False, "CidrBlock": "10.0.0.0/8"},
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": False, "CidrBlock": "0.0.0.0/0",
         "PortRange": {"From": 5000, "To": 5000}},
    ]  # fmt: skip
    assert nacl_decision(entries, egress=False, port=5000)[1]["RuleNumber"] == 100
    assert nacl_decision(entries, egress=False, port=5000, cidr="10.1.0.0/16")[1]["RuleNumber"] == 50
    assert nacl_decision(entries, egress=False, port=5001) == (None, None)


# --- ecs_service_network / ecs_service_steady ---------------------------------------------------


def test_it_observes_the_running_deployments_network_configuration_not_the_services(example):
    cluster, service = example["cluster"], example["service"]
    observations, calls = run(
        "ecs_service_network",
        ({"cluster": cluster, "service": service, "field": "assignPublicIp"}, "ENABLED"),
        ({"cluster": cluster, "service": service, "field": "subnets"}, list(reversed(example["subnet_ids"]))),
        ({"cluster": cluster, "service": service, "field": "securityGroups"}, [example["security_group_id"]]),
        ({"cluster": cluster, "service": "no-such-service", "field": "assignPublicIp"}, "ENABLED"),
        ({"cluster": "no-such-cluster", "service": service, "field": "assignPublicIp"}, "ENABLED"),
    )
    assert statuses(observations) == [FAIL, PASS, PASS, ERROR, ERROR]
    stale = observations[0]
    assert stale.observed == "DISABLED"
    assert stale.evidence["networkConfiguration.awsvpcConfiguration.assignPublicIp"] == "ENABLED"
    assert stale.evidence["deployments[PRIMARY].networkConfiguration.awsvpcConfiguration.assignPublicIp"] == "DISABLED"
    assert "old network configuration" in stale.message and "--force-new-deployment" in stale.message
    assert observations[3].error_code == "MISSING"
    assert observations[4].error_code == "ClusterNotFoundException"
    assert calls == ["ecs.DescribeServices", "ecs.DescribeServices"]  # one per cluster


def test_it_describes_services_ten_at_a_time(example):
    ecs = client("ecs")
    names = [f"svc-{n}" for n in range(11)]
    for name in names:
        ecs.create_service(
            cluster=example["cluster"], serviceName=name, taskDefinition=example["task_definition_arn"],
            desiredCount=0, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": example["subnet_ids"],
                                                          "securityGroups": [example["security_group_id"]],
                                                          "assignPublicIp": "ENABLED"}},
        )  # fmt: skip
    observations, calls = run(
        "ecs_service_network",
        *[({"cluster": example["cluster"], "service": name, "field": "assignPublicIp"}, "ENABLED") for name in names],
    )
    assert statuses(observations) == [PASS] * 11
    assert calls == ["ecs.DescribeServices"] * 2


def test_it_calls_a_service_steady_only_when_running_desired_and_rollout_agree(aws, monkeypatch):
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")  # the in-process moto server reads it at create_service
    example = seed_example(region=REGION, running_assign_public_ip="ENABLED")
    ecs = client("ecs")
    ecs.create_service(
        cluster=example["cluster"], serviceName="wants-two", taskDefinition=example["task_definition_arn"],
        desiredCount=2, launchType="FARGATE",
    )  # fmt: skip
    cluster, service = example["cluster"], example["service"]
    observations, calls = run(
        "ecs_service_steady",
        ({"cluster": cluster, "service": service}, None),
        ({"cluster": cluster, "service": service, "revision": 12}, True),
        ({"cluster": cluster, "service": service, "revision": 11}, True),
        ({"cluster": cluster, "service": "wants-two"}, True),
        ({"cluster": cluster, "service": "gone"}, True),
    )
    assert statuses(observations) == [PASS, PASS, FAIL, FAIL, ERROR]
    assert observations[0].observed == {
        "runningCount": 1,
        "desiredCount": 1,
        "deployments": 1,
        "rolloutState": "COMPLETED",
        "taskDefinition": "enhanced-ml-service:12",
    }
    assert "revision 12, expected 11" in observations[2].message
    assert "1 of 2 tasks running" in observations[3].message and "IN_PROGRESS" in observations[3].message
    assert calls == ["ecs.DescribeServices"]


def test_it_refuses_bad_ecs_params():
    text = " ".join(clean_error("ecs_service_network", {"cluster": "c", "service": "s", "field": "vpc"}, "x")["params"])
    assert "field: must be one of assignPublicIp, subnets, securityGroups" in text
    assert clean_error("ecs_service_network", {"cluster": "c", "service": "s", "field": "assignPublicIp"}, "YES")
    assert clean_error("ecs_service_network", {"cluster": "c", "service": "s", "field": "subnets"}, ["sg-1"])
    assert "expected" in clean_error("ecs_service_steady", {"cluster": "c", "service": "s"}, False)
    assert "service: this parameter is required." in clean_error("ecs_service_steady", {"cluster": "c"})["params"]


# --- ecr_image_tag --------------------------------------------------------------------------------


def test_it_finds_image_tags_with_one_call_per_repository(image):
    repository, tag = image["repository"], image["image_tag"]
    observations, calls = run(
        "ecr_image_tag",
        ({"repository": repository, "tag": tag}, True),
        ({"repository": repository, "tag": tag}, None),
    )
    assert statuses(observations) == [PASS, PASS]
    assert observations[0].evidence["imageDigest"].startswith("sha256:")
    assert calls == ["ecr.DescribeImages"]


def test_it_fails_a_missing_tag_and_errors_a_missing_repository(image):
    repository, tag = image["repository"], image["image_tag"]
    observations, calls = run(
        "ecr_image_tag",
        ({"repository": repository, "tag": tag}, True),
        ({"repository": repository, "tag": "v13"}, True),
        ({"repository": "no-such-repo", "tag": tag}, True),
    )
    assert statuses(observations) == [PASS, FAIL, ERROR]
    assert observations[1].observed is False and "No image tagged v13" in observations[1].message
    assert observations[2].error_code == "RepositoryNotFoundException"
    # One tag missing fails the whole batched call, so the repository's tags are listed instead.
    assert calls == ["ecr.DescribeImages"] * 3


# --- elb_target_health ----------------------------------------------------------------------------


def test_it_judges_target_health_one_call_per_target_group(network):
    elb = client("elbv2")
    healthy = elb.create_target_group(Name="web", Protocol="HTTP", Port=5000, VpcId=network["vpc_id"], TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=healthy, Targets=[{"Id": "10.0.1.10", "Port": 5000}])
    empty = elb.create_target_group(Name="empty", Protocol="HTTP", Port=5000, VpcId=network["vpc_id"])["TargetGroups"][
        0
    ]["TargetGroupArn"]
    missing = healthy.rsplit("/", 2)[0] + "/gone/0123456789abcdef"
    observations, calls = run(
        "elb_target_health",
        ({"target_group_arn": healthy}, None),
        ({"target_group_arn": empty}, "healthy"),
        ({"target_group_arn": missing}, "healthy"),
        ({"target_group_arn": healthy}, "unhealthy"),
    )
    assert statuses(observations) == [PASS, FAIL, ERROR, FAIL]
    assert observations[0].evidence["TargetHealth"] == {"10.0.1.10:5000": {"State": "healthy"}}
    assert observations[1].observed == "no targets"
    assert observations[2].error_code == "TargetGroupNotFound"
    assert calls == ["elbv2.DescribeTargetHealth"] * 3


# --- aws_call -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "why"),
    [
        ("ec2", "terminate_instances", "ec2.TerminateInstances is not a read-only operation"),
        ("ec2", "RunInstances", "not a read-only operation"),
        ("ecs", "update_service", "not a read-only operation"),
        ("secretsmanager", "GetSecretValue", "reads data (a secret's value)"),
        ("ssm", "get_parameter", "reads data (parameter values"),
        ("ssm", "GetParametersByPath", "reads data (parameter values"),
        ("ec2", "GetPasswordData", "reads data (a Windows administrator password)"),
        ("ecr", "get_authorization_token", "reads data (a registry password)"),
        ("sts", "GetSessionToken", "reads data (temporary credentials)"),
        ("lambda", "GetFunction", "reads data (a function's environment variables"),
        ("s3", "get_object", "reads data (an object's contents)"),
        ("ec2", "DescribeKeyPairs", "ec2.DescribeKeyPairs is not on the metadata allowlist"),
        ("ec2", "describe_everything", "ec2 has no operation 'describe_everything'"),
    ],
)
def test_it_refuses_operations_that_are_not_allowlisted_metadata_reads(service, operation, why):
    errors = clean_error("aws_call", {"service": service, "operation": operation, "expression": "@"}, 1)
    assert why in " ".join(errors["params"])


def test_it_refuses_bad_aws_call_params():
    text = " ".join(
        clean_error(
            "aws_call",
            {"service": "ec2", "operation": "describe_vpcs", "arguments": {"VpcIdz": ["x"]}, "expression": "Vpcs[?"},
        )["params"]
    )
    assert "arguments:" in text and "VpcIdz" in text
    assert "expression: not a valid JMESPath expression" in text
    assert "is not an AWS service" in " ".join(
        clean_error("aws_call", {"service": "nope", "operation": "x", "expression": "@"})["params"]
    )


def test_it_runs_a_read_only_call_once_for_every_check_that_shares_it(example):
    vpc_id = example["vpc_id"]
    kind = registry.get("aws_call")
    params, _ = kind.clean({"service": "ec2", "operation": "describe_vpcs", "expression": "Vpcs[].VpcId"}, None)
    assert params["operation"] == "DescribeVpcs" and params["arguments"] == {}
    observations, calls = run(
        "aws_call",
        ({"service": "ec2", "operation": "describe_vpcs", "expression": f"Vpcs[?VpcId=='{vpc_id}'].CidrBlock"},
         ["10.0.0.0/16"]),
        ({"service": "ec2", "operation": "DescribeVpcs", "expression": f"length(Vpcs[?VpcId=='{vpc_id}'])"}, 1),
        ({"service": "ec2", "operation": "describe_vpcs", "expression": "Vpcs[?VpcId=='vpc-gone'].VpcId"}, ["x"]),
        ({"service": "ec2", "operation": "describe_vpc_attribute",
          "arguments": {"VpcId": vpc_id, "Attribute": "enableDnsSupport"}, "expression": "EnableDnsSupport.Value"},
         True),
        ({"service": "ecs", "operation": "describe_services",
          "arguments": {"cluster": example["cluster"], "services": [example["service"]]},
          "expression": "services[0].deployments[?status=='PRIMARY'] | [0].networkConfiguration"
                        ".awsvpcConfiguration.assignPublicIp"},
         "DISABLED"),
    )  # fmt: skip
    assert statuses(observations) == [PASS, PASS, FAIL, PASS, PASS]
    assert observations[2].observed == []
    assert observations[0].evidence["operation"] == "ec2.DescribeVpcs"
    assert Counter(calls) == {"ec2.DescribeVpcs": 1, "ec2.DescribeVpcAttribute": 1, "ecs.DescribeServices": 1}


def test_it_merges_the_pages_of_a_paginated_call_up_to_a_cap(aws, monkeypatch):
    logs = client("logs")
    for n in range(5):
        logs.create_log_group(logGroupName=f"/ecs/service-{n}")
    check = {"service": "logs", "operation": "describe_log_groups", "arguments": {"limit": 2},
             "expression": "logGroups[].logGroupName"}  # fmt: skip
    [observation], calls = run("aws_call", (check, [f"/ecs/service-{n}" for n in range(5)]))
    assert observation.status == PASS
    assert calls == ["logs.DescribeLogGroups"] * 3 and observation.evidence["pages"] == 3

    monkeypatch.setattr(generic, "MAX_PAGES", 2)
    [observation], calls = run("aws_call", (check, []))
    assert observation.observed == ["/ecs/service-0", "/ecs/service-1", "/ecs/service-2", "/ecs/service-3"]
    assert observation.evidence["truncated"] is True and "first 2 pages" in observation.message
    assert calls == ["logs.DescribeLogGroups"] * 2  # no request for a page that would not be read


def test_it_names_operations_whose_api_name_has_an_acronym(aws):
    [observation], calls = run(
        "aws_call", ({"service": "rds", "operation": "describe_db_subnet_groups", "expression": "DBSubnetGroups"}, [])
    )
    assert observation.status == PASS
    assert calls == ["rds.DescribeDBSubnetGroups"]  # not DescribeDbSubnetGroups, which CallLog would make of it


def test_it_names_the_aws_error_of_a_generic_call(aws):
    [observation], _ = run(
        "aws_call",
        ({"service": "ecs", "operation": "describe_services", "arguments": {"cluster": "gone", "services": ["x"]},
          "expression": "services"}, []),
    )  # fmt: skip
    assert observation.status == ERROR
    assert observation.error_code == "ClusterNotFoundException"
    assert observation.message.startswith("ecs.DescribeServices:")


# --- AWS faults -----------------------------------------------------------------------------------


def test_it_names_the_missing_permission_on_access_denied(fault):
    fault("ec2", "DescribeSubnets", 403, ec2_error("UnauthorizedOperation", "You are not authorized."))
    fault("ecs", "DescribeServices", 400, json.dumps({"__type": "AccessDeniedException", "message": "not authorized"}))
    [subnet], _ = run("subnet_attribute", ({"subnet_id": MISSING_SUBNET, "attribute": "MapPublicIpOnLaunch"}, True))
    [service], _ = run("ecs_service_steady", ({"cluster": "c", "service": "s"}, True))
    assert subnet.status == ERROR and subnet.error_code == "UnauthorizedOperation"
    assert "Missing permission ec2:DescribeSubnets" in subnet.message
    assert service.status == ERROR and service.error_code == "AccessDeniedException"
    assert "Missing permission ecs:DescribeServices" in service.message


def test_it_names_the_elb_permission_by_its_iam_prefix(fault):
    body = (
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error>"
        "<RequestId>r</RequestId></ErrorResponse>"
    )
    fault("elbv2", "DescribeTargetHealth", 403, body)
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
    [observation], _ = run("elb_target_health", ({"target_group_arn": arn}, None))
    assert observation.error_code == "AccessDenied"
    assert "Missing permission elasticloadbalancing:DescribeTargetHealth" in observation.message


@pytest.mark.parametrize(
    ("status", "code"), [(503, "RequestLimitExceeded"), (500, "InternalError"), (503, "Unavailable")]
)
def test_it_ends_throttling_and_5xx_as_error_after_bounded_attempts(fault, settings, status, code):
    settings.AWS_MAX_ATTEMPTS = 2  # fewer backoff sleeps; the bound is what is tested
    ops_aws.forget_clients()
    retries = client("ec2").meta.config.retries
    # botocore's `max_attempts` counts the retries after the first attempt, `total_max_attempts` all of them.
    bound = retries.get("total_max_attempts") or retries["max_attempts"] + 1
    attempts = fault("ec2", "DescribeSubnets", status, ec2_error(code, "slow down"))
    started = time.monotonic()
    observations, calls = run(
        "subnet_attribute",
        *[({"subnet_id": s, "attribute": "MapPublicIpOnLaunch"}, True) for s in (MISSING_SUBNET, "subnet-0abc0abc")],
    )
    assert statuses(observations) == [ERROR, ERROR]
    assert {o.error_code for o in observations} == {code}
    assert observations[0].message.startswith("ec2.DescribeSubnets:")
    assert len(attempts) == bound  # retried by botocore's standard mode, then given up
    assert calls == ["ec2.DescribeSubnets"]
    assert time.monotonic() - started < 10


def test_it_makes_at_most_aws_max_attempts_attempts(fault, settings):
    settings.AWS_MAX_ATTEMPTS = 1
    ops_aws.forget_clients()
    attempts = fault("ec2", "DescribeSubnets", 503, ec2_error("Unavailable", "down"))
    run("subnet_attribute", ({"subnet_id": MISSING_SUBNET, "attribute": "MapPublicIpOnLaunch"}, True))
    assert len(attempts) == settings.AWS_MAX_ATTEMPTS


# --- http_endpoint --------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/slow":
            time.sleep(1.5)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        status = 503 if self.path == "/down" else 200
        body = b"snail trail ok " + b"x" * (200_000 if self.path == "/big" else 10)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the check stopped reading: it reads at most 64 KB

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_checks_http_endpoints_status_body_and_time(site):
    observations, calls = run(
        "http_endpoint",
        ({"url": f"{site}/health", "body_contains": "snail trail ok"}, None),
        ({"url": f"{site}/down"}, None),
        ({"url": f"{site}/down", "expected_status": 503}, True),
        ({"url": f"{site}/health", "body_contains": "ready"}, None),
        ({"url": f"{site}/redirect"}, None),
        ({"url": f"{site}/slow", "timeout_seconds": 0.5}, None),
        ({"url": f"http://127.0.0.1:{_closed_port()}/"}, None),
        ({"url": f"{site}/big", "body_contains": "snail"}, None),
    )
    assert statuses(observations) == [PASS, FAIL, PASS, FAIL, FAIL, FAIL, FAIL, PASS]
    ok = observations[0]
    assert ok.observed == 200
    assert ok.evidence == {
        "url": f"{site}/health",
        "status": 200,
        "elapsed_ms": ok.evidence["elapsed_ms"],
        "body_contains": True,
    }
    assert "answered 503, expected 200" in observations[1].message
    assert "does not contain 'ready'" in observations[3].message and observations[3].evidence["body_contains"] is False
    redirect = observations[4]
    assert redirect.observed == 302 and "a redirect, not followed" in redirect.message
    assert "169.254" not in json.dumps([redirect.evidence, redirect.message])  # where it led is the target's, not ours
    assert observations[5].message == "The endpoint timed out after 0.5 s." and observations[5].observed is None
    assert "connection refused" in observations[6].message
    # No run keeps what the endpoint said: its status, the time and whether the text was there only.
    for observation in observations:
        assert "snail trail ok" not in json.dumps([observation.evidence, observation.message])
    assert calls == []  # no AWS


def test_it_refuses_link_local_urls_when_saved_and_when_run(monkeypatch, settings):
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[::ffff:169.254.169.254]/"):
        assert "link-local" in " ".join(clean_error("http_endpoint", {"url": url})["params"])
    assert "must start with http" in " ".join(clean_error("http_endpoint", {"url": "file:///etc/passwd"})["params"])
    assert "user name or password" in " ".join(
        clean_error("http_endpoint", {"url": "http://a:b@example.com/"})["params"]
    )
    assert "at most 30" in " ".join(
        clean_error("http_endpoint", {"url": "http://localhost/", "timeout_seconds": 31})["params"]
    )
    # A name that resolves to the metadata service is refused before any connection.
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))],
    )
    refused = http_checks.probe("http://metadata.example/latest/")
    assert refused.status == ERROR and refused.error_code == "TargetRefused"
    assert "metadata.example resolves to a link-local address" in refused.message


# --- the registry ---------------------------------------------------------------------------------


def test_it_registers_every_type_and_names_them_for_an_unknown_code():
    assert set(registry.registry) >= {
        "subnet_attribute", "vpc_attribute", "subnet_internet_route", "security_group_ingress", "nacl_allows_port",
        "ecs_service_network", "ecs_service_steady", "ecr_image_tag", "elb_target_health", "http_endpoint", "aws_call",
        "inference_endpoint",
    }  # fmt: skip
    assert not registry.get("http_endpoint").needs_aws and registry.get("aws_call").needs_aws
    with pytest.raises(ValidationError) as caught:
        registry.get("ping")
    assert "Unknown check type 'ping'" in caught.value.message_dict["type"][0]
    assert all(kind.help for kind in registry.registry.values())


@pytest.fixture
def network_fault(aws):
    """network_fault(service, operation, error, every): raise `error` (a botocore network error) on
    every `every`-th attempt at `operation`, below the client's retry handler, as a flaky network
    would; returns the attempt counter."""
    registered: list[tuple[Any, str, Callable]] = []

    def inject(service: str, operation: str, error: Exception, every: int) -> list[int]:
        attempts: list[int] = []

        def fail(request, **_: Any):
            attempts.append(1)
            if len(attempts) % every == 0 or every == 1:
                raise error
            return None  # let this attempt through to moto

        service_client = client(service)
        event = f"before-send.{service_client.meta.service_model.service_id.hyphenize()}.{operation}"
        service_client.meta.events.register_first(event, fail)
        registered.append((service_client, event, fail))
        return attempts

    yield inject
    for service_client, event, handler in registered:
        service_client.meta.events.unregister(event, handler)


def _network_errors():
    from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

    return [
        pytest.param(ReadTimeoutError(endpoint_url="http://moto"), "ReadTimeoutError", id="timeout"),
        pytest.param(ConnectionClosedError(endpoint_url="http://moto"), "ConnectionClosedError", id="reset"),
    ]


@pytest.mark.parametrize(("error", "code"), _network_errors())
def test_a_network_fault_that_persists_ends_as_error_after_bounded_attempts(network_fault, settings, error, code):
    settings.AWS_MAX_ATTEMPTS = 2
    ops_aws.forget_clients()
    attempts = network_fault("ec2", "DescribeSubnets", error, every=1)

    observations, calls = run(
        "subnet_attribute", ({"subnet_id": MISSING_SUBNET, "attribute": "MapPublicIpOnLaunch"}, True)
    )

    assert statuses(observations) == [ERROR]
    assert observations[0].error_code == code
    assert len(attempts) == settings.AWS_MAX_ATTEMPTS
    assert calls == ["ec2.DescribeSubnets"]


@pytest.mark.parametrize(("error", "code"), _network_errors())
def test_a_fault_on_every_other_attempt_is_retried_and_the_check_answers(network, network_fault, settings, error, code):
    settings.AWS_MAX_ATTEMPTS = 3
    ops_aws.forget_clients()
    subnet = network["subnet_ids"][0]
    attempts = network_fault("ec2", "DescribeSubnets", error, every=2)  # the 2nd, 4th... attempts fail

    first, _ = run("subnet_attribute", ({"subnet_id": subnet, "attribute": "MapPublicIpOnLaunch"}, True))
    second, _ = run("subnet_attribute", ({"subnet_id": subnet, "attribute": "MapPublicIpOnLaunch"}, True))

    assert statuses(first) == statuses(second) == [PASS]  # the failed attempt was retried
    assert len(attempts) == 3  # ok; failed + retried ok
