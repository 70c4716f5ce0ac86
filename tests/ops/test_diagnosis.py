"""The ECS reachability diagnosis names every root cause with the AWS field that shows it.

Each moto scenario is the demo (ops.demo) made healthy, with one thing broken by a boto3 call, so
the test says what changed and what the diagnosis must then find. What moto cannot represent (a
capacity provider strategy, a blackhole route, a NAT route, VPC Block Public Access, an IPv6 ENI)
is tested on the pure rule with a hand-written describe response, and says so.
"""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ops import aws as ops_aws
from ops.demo import seed_example
from ops.diagnosis import (
    Code,
    Diagnosis,
    RootCause,
    block_public_access_findings,
    deployment_findings,
    diagnose_ecs,
    ecr_images,
    igw_findings,
    launch_type_findings,
    nacl_findings,
    route_findings,
    security_group_findings,
)

REGION = "us-east-1"


def diagnose(ids: dict, *, port: int = 5000) -> Diagnosis:
    return diagnose_ecs(cluster=ids["cluster"], service=ids["service"], region=REGION, port=port)


def only(diagnosis: Diagnosis, code: str) -> RootCause:
    causes = [cause for cause in diagnosis.root_causes if cause.code == code]
    assert len(causes) == 1, diagnosis.to_dict()
    return causes[0]


def entry_evidence(cause: RootCause) -> dict:
    """The one NACL entry a cause cites (its index depends on the order AWS lists the entries)."""
    [entry] = [
        value for key, value in cause.evidence.items() if re.fullmatch(r"NetworkAcls\[\d+\]\.Entries\[\d+\]", key)
    ]
    return entry


def block_public_access(stub, mode: str = "off", exclusions: tuple = ()) -> None:
    """moto does not implement VPC Block Public Access: answer it as AWS would."""
    stub(
        "ec2",
        "DescribeVpcBlockPublicAccessOptions",
        response={"VpcBlockPublicAccessOptions": {"InternetGatewayBlockMode": mode}},
    )
    stub("ec2", "DescribeVpcBlockPublicAccessExclusions", response={"VpcBlockPublicAccessExclusions": list(exclusions)})


@pytest.fixture
def healthy(aws, aws_stub) -> dict:
    """The demo fixed: the running deployment says ENABLED, so its two tasks (one per AZ) have public IPs."""
    ids = seed_example(running_assign_public_ip="ENABLED", running_tasks=2)
    block_public_access(aws_stub)
    return ids


@pytest.fixture
def ec2(aws):
    return ops_aws.client("ec2", region=REGION)


@pytest.fixture
def ecs(aws):
    return ops_aws.client("ecs", region=REGION)


# --- healthy, unknown, and how the walk treats AWS --------------------------------------------------


def test_it_finds_the_healthy_service_reachable_in_one_call_per_resource_type(healthy):
    diagnosis = diagnose(healthy)

    assert diagnosis.verdict == "reachable"
    assert diagnosis.root_causes == []
    not_there = {"load balancer", "target health", "way out to the registry"}  # no LB, no stopped task
    assert {step.name: step.status for step in diagnosis.steps} == {
        step.name: "skipped" if step.name in not_there else "ok" for step in diagnosis.steps
    }
    calls = [call for step in diagnosis.steps for call in step.calls]
    assert len(calls) == len(set(calls)), calls  # two tasks, two ENIs, two subnets: still one describe each
    assert "ec2.DescribeNetworkInterfaces" in calls


def test_it_names_the_missing_permission_and_goes_on(healthy, aws_stub):
    aws_stub("ecs", "DescribeTasks", error_code="AccessDeniedException", status=400)
    aws_stub("ec2", "DescribeNetworkAcls", error_code="UnauthorizedOperation", status=403)

    diagnosis = diagnose(healthy)

    assert diagnosis.verdict == "unknown"
    tasks, acls = diagnosis.step("running tasks"), diagnosis.step("network ACLs")
    assert (tasks.status, acls.status) == ("unknown", "unknown")
    assert "missing permission ecs:DescribeTasks" in tasks.detail
    assert "missing permission ec2:DescribeNetworkAcls" in acls.detail
    assert acls.calls == ["ec2.DescribeNetworkAcls"]
    # Without the tasks, the path a task would take is still checked: the service's subnets and groups.
    assert diagnosis.step("task public IP").status == "skipped"
    route = diagnosis.step("route to the internet")
    assert route.status == "ok"
    assert route.detail.startswith("From the service's networkConfiguration: ")
    assert diagnosis.step("security groups").status == "ok"


def test_it_stops_at_a_service_it_cannot_read(aws, aws_stub):
    aws_stub("ecs", "DescribeServices", error_code="AccessDeniedException", status=400)

    diagnosis = diagnose_ecs(cluster="snail-trail", service="enhanced-ml-service", region=REGION, port=5000)

    assert diagnosis.verdict == "unknown"
    assert "missing permission ecs:DescribeServices" in diagnosis.step("service").detail
    assert {step.detail for step in diagnosis.steps[1:]} == {"Needs the service, which could not be read."}


def test_it_says_unknown_for_a_service_that_does_not_exist(aws, ecs):
    ecs.create_cluster(clusterName="snail-trail")

    diagnosis = diagnose_ecs(cluster="snail-trail", service="no-such-service", region=REGION, port=5000)

    assert diagnosis.verdict == "unknown"
    assert "no-such-service does not exist" in diagnosis.step("service").detail
    assert {step.status for step in diagnosis.steps[1:]} == {"skipped"}


def test_it_says_unknown_for_a_cluster_that_does_not_exist(aws):
    diagnosis = diagnose_ecs(cluster="no-such-cluster", service="web", region=REGION, port=5000)

    assert diagnosis.verdict == "unknown"
    assert diagnosis.step("service").detail == "The cluster no-such-cluster does not exist in us-east-1."


def test_it_names_every_root_cause_not_just_the_first(aws, ec2):
    ids = seed_example()  # the tracker's puzzle: a stale deployment, a task without a public IP
    ec2.revoke_security_group_ingress(
        GroupId=ids["security_group_id"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5000, "ToPort": 5000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.delete_route(RouteTableId=ids["route_table_id"], DestinationCidrBlock="0.0.0.0/0")

    diagnosis = diagnose(ids)

    assert diagnosis.verdict == "unreachable"
    assert set(diagnosis.codes) == {
        Code.DEPLOYMENT_NETWORK_CONFIG_STALE,
        Code.TASK_ENI_NO_PUBLIC_IP,
        Code.SUBNET_NO_INTERNET_ROUTE,
        Code.SECURITY_GROUP_PORT_CLOSED,
    }
    # moto does not implement VPC Block Public Access: that step cannot tell, the verdict still stands.
    assert diagnosis.step("VPC Block Public Access").status == "unknown"
    assert diagnosis.step("internet gateway").status == "skipped"


# --- one scenario per root cause ---------------------------------------------------------------------


def test_it_finds_the_ec2_launch_type(aws, aws_stub):
    ids = seed_example(running_assign_public_ip="ENABLED", launch_type="EC2")
    block_public_access(aws_stub)

    diagnosis = diagnose(ids)

    cause = only(diagnosis, Code.ECS_LAUNCH_TYPE_NO_PUBLIC_IP)
    assert cause.evidence["services[0].launchType"] == "EC2"
    assert cause.evidence["tasks[0].launchType"] == "EC2"
    # AWS would refuse ENABLED here; moto does not, and the ENI shows the consequence.
    assert only(diagnosis, Code.TASK_ENI_NO_PUBLIC_IP)
    assert Code.DEPLOYMENT_NETWORK_CONFIG_STALE not in diagnosis.codes


def test_it_finds_tasks_on_an_older_task_definition(healthy, ecs):
    current = ecs.describe_task_definition(taskDefinition=healthy["task_definition_arn"])["taskDefinition"]
    newer = ecs.register_task_definition(
        family=current["family"],
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=current["containerDefinitions"],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=healthy["cluster"], service=healthy["service"], taskDefinition=newer)

    diagnosis = diagnose(healthy)

    cause = only(diagnosis, Code.TASK_DEFINITION_OUTDATED)
    assert newer.endswith(":13")
    assert cause.evidence["services[0].taskDefinition"] == newer
    assert cause.evidence["tasks[0].taskDefinitionArn"] == healthy["task_definition_arn"]
    assert cause.evidence["tasks[1].taskDefinitionArn"] == healthy["task_definition_arn"]
    assert diagnosis.codes == [Code.TASK_DEFINITION_OUTDATED]


def test_it_finds_no_running_task_and_still_checks_the_services_subnets(aws, aws_stub, ecs, monkeypatch):
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "0")
    ids = seed_example(running_assign_public_ip="ENABLED")
    block_public_access(aws_stub)
    ecs.stop_task(cluster=ids["cluster"], task=ids["task_arns"][0], reason="Essential container in task exited")

    diagnosis = diagnose(ids)

    cause = only(diagnosis, Code.NO_RUNNING_TASKS)
    assert cause.evidence["services[0].desiredCount"] == 1
    assert cause.evidence["services[0].runningCount"] == 0
    assert cause.evidence["tasks[?lastStatus=='RUNNING']"] == []
    assert cause.evidence["tasks[0].lastStatus"] == "STOPPED"
    assert cause.evidence["tasks[0].stoppedReason"] == "Essential container in task exited"
    assert "desiredCount is already 1" in cause.remediation  # not "set desiredCount to 1": it is
    assert diagnosis.codes == [Code.NO_RUNNING_TASKS, Code.TASK_START_FAILED]
    assert "the application crashed" in only(diagnosis, Code.TASK_START_FAILED).summary
    assert diagnosis.step("task public IP").status == "skipped"
    route = diagnosis.step("route to the internet")
    assert route.status == "ok"
    assert all(subnet in route.detail for subnet in ids["subnet_ids"])  # where a new task would land


def test_it_finds_a_task_eni_without_a_public_ip(healthy, ec2):
    eni = healthy["network_interface_ids"][0]
    association = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Association"]
    ec2.disassociate_address(AssociationId=association["AssociationId"])

    diagnosis = diagnose(healthy)

    cause = only(diagnosis, Code.TASK_ENI_NO_PUBLIC_IP)
    [index] = [key for key, value in cause.evidence.items() if value == eni]
    assert cause.evidence[index.replace("NetworkInterfaceId", "Association.PublicIp")] is None
    assert cause.evidence["tasks[0].taskArn"] == healthy["task_arns"][0]
    assert diagnosis.codes == [Code.TASK_ENI_NO_PUBLIC_IP]


def test_it_finds_a_subnet_without_a_route_to_the_internet(healthy, ec2):
    ec2.delete_route(RouteTableId=healthy["route_table_id"], DestinationCidrBlock="0.0.0.0/0")

    diagnosis = diagnose(healthy)

    causes = [cause for cause in diagnosis.root_causes if cause.code == Code.SUBNET_NO_INTERNET_ROUTE]
    assert len(causes) == 2  # one per subnet with a task
    for cause in causes:
        [table] = [key for key, value in cause.evidence.items() if value == healthy["route_table_id"]]
        routes = cause.evidence[table.replace("RouteTableId", "Routes")]
        assert [route["DestinationCidrBlock"] for route in routes] == ["10.0.0.0/16"]
    assert set(diagnosis.codes) == {Code.SUBNET_NO_INTERNET_ROUTE}


def test_it_finds_an_internet_gateway_detached_from_the_vpc(healthy, ec2):
    ec2.detach_internet_gateway(InternetGatewayId=healthy["internet_gateway_id"], VpcId=healthy["vpc_id"])

    diagnosis = diagnose(healthy)

    cause = only(diagnosis, Code.IGW_NOT_ATTACHED)
    assert cause.evidence == {
        "InternetGateways[0].InternetGatewayId": healthy["internet_gateway_id"],
        "InternetGateways[0].Attachments": [],
    }
    assert diagnosis.codes == [Code.IGW_NOT_ATTACHED]


def test_it_finds_a_network_acl_that_denies_the_port(healthy, ec2):
    ec2.create_network_acl_entry(
        NetworkAclId=healthy["network_acl_id"],
        RuleNumber=50,
        Protocol="6",
        RuleAction="deny",
        Egress=False,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 5000, "To": 5000},
    )

    diagnosis = diagnose(healthy)

    causes = [c for c in diagnosis.root_causes if c.code == Code.NACL_BLOCKS_INGRESS]
    assert len(causes) == 2  # the default ACL guards both subnets
    for cause in causes:
        assert healthy["network_acl_id"] in cause.evidence.values()
        entry = entry_evidence(cause)
        assert (entry["RuleNumber"], entry["RuleAction"], entry["Egress"]) == (50, "deny", False)
    assert set(diagnosis.codes) == {Code.NACL_BLOCKS_INGRESS}


def test_it_finds_a_network_acl_that_drops_the_replies(healthy, ec2):
    ec2.create_network_acl_entry(
        NetworkAclId=healthy["network_acl_id"],
        RuleNumber=90,
        Protocol="6",
        RuleAction="deny",
        Egress=True,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 1024, "To": 65535},
    )

    diagnosis = diagnose(healthy)

    causes = [c for c in diagnosis.root_causes if c.code == Code.NACL_BLOCKS_EGRESS]
    assert len(causes) == 2  # the default ACL guards both subnets
    entry = entry_evidence(causes[0])
    assert (entry["RuleNumber"], entry["RuleAction"], entry["Egress"]) == (90, "deny", True)
    assert "1024-65535" in causes[0].summary
    assert set(diagnosis.codes) == {Code.NACL_BLOCKS_EGRESS}


def test_it_checks_the_security_groups_on_the_task_eni(healthy, ec2):
    group = healthy["security_group_id"]
    ec2.revoke_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5000, "ToPort": 5000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    office = [{"IpProtocol": "tcp", "FromPort": 5000, "ToPort": 5000, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=office)

    diagnosis = diagnose(healthy)

    cause = only(diagnosis, Code.SECURITY_GROUP_PORT_CLOSED)
    [ranges] = [value for key, value in cause.evidence.items() if key.endswith(".IpPermissions")]
    assert [r["CidrIp"] for p in ranges for r in p["IpRanges"]] == ["10.0.0.0/16"]
    [groups] = [value for key, value in cause.evidence.items() if re.fullmatch(r"NetworkInterfaces\[\d\]\.Groups", key)]
    assert [g["GroupId"] for g in groups] == [group]
    assert diagnosis.codes == [Code.SECURITY_GROUP_PORT_CLOSED]


def test_it_finds_a_container_that_does_not_map_the_port(aws, aws_stub):
    ids = seed_example(running_assign_public_ip="ENABLED", container_port=8080)
    block_public_access(aws_stub)

    diagnosis = diagnose(ids)

    cause = only(diagnosis, Code.CONTAINER_PORT_MISMATCH)
    mappings = cause.evidence["taskDefinition.containerDefinitions[0].portMappings"]
    assert [m["containerPort"] for m in mappings] == [8080]
    assert cause.evidence["taskDefinition.taskDefinitionArn"] == ids["task_definition_arn"]
    assert diagnosis.codes == [Code.CONTAINER_PORT_MISMATCH]


def test_it_finds_an_image_tag_missing_from_ecr(healthy):
    ops_aws.client("ecr", region=REGION).batch_delete_image(
        repositoryName=healthy["repository"], imageIds=[{"imageTag": healthy["image_tag"]}]
    )

    diagnosis = diagnose(healthy)

    cause = only(diagnosis, Code.IMAGE_NOT_FOUND)
    assert cause.evidence == {
        "taskDefinition.containerDefinitions[0].image": healthy["image"],
        "ecr.DescribeImages.imageIds": [{"imageTag": "v12"}],
        "ecr.DescribeImages.Error.Code": "ImageNotFoundException",
    }
    assert diagnosis.codes == [Code.IMAGE_NOT_FOUND]


def test_it_finds_vpc_block_public_access(aws, aws_stub):
    ids = seed_example(running_assign_public_ip="ENABLED")
    egress_only = _exclusion(ids["vpc_id"], mode="allow-egress")
    block_public_access(aws_stub, mode="block-bidirectional", exclusions=(egress_only,))

    diagnosis = diagnose(ids)

    cause = only(diagnosis, Code.VPC_BLOCK_PUBLIC_ACCESS)
    assert cause.evidence["VpcBlockPublicAccessOptions.InternetGatewayBlockMode"] == "block-bidirectional"
    assert cause.evidence["VpcBlockPublicAccessExclusions[0]"]["InternetGatewayExclusionMode"] == "allow-egress"
    assert diagnosis.codes == [Code.VPC_BLOCK_PUBLIC_ACCESS]
    assert diagnosis.step("VPC Block Public Access").calls == [
        "ec2.DescribeVpcBlockPublicAccessOptions",
        "ec2.DescribeVpcBlockPublicAccessExclusions",
    ]


# --- the rules on hand-written describe responses: what moto cannot represent, and the edge cases --


def test_it_finds_an_ec2_capacity_provider_on_the_service():
    # moto ignores capacityProviderStrategy on create_service (it sets launchType EC2 instead).
    service = {
        "capacityProviderStrategy": [
            {"capacityProvider": "asg-provider", "weight": 1},
            {"capacityProvider": "FARGATE", "weight": 1},
        ]
    }

    [cause] = launch_type_findings(service, cluster=None, tasks=[(0, {"capacityProviderName": "asg-provider"})])

    assert cause.evidence == {
        "services[0].capacityProviderStrategy": service["capacityProviderStrategy"],
        "tasks[0].capacityProviderName": "asg-provider",
    }


def test_it_falls_back_to_the_clusters_default_capacity_provider_strategy():
    # moto gives every service a launchType, so the cluster's default strategy is never consulted there.
    cluster = {"defaultCapacityProviderStrategy": [{"capacityProvider": "asg-provider", "weight": 1, "base": 0}]}

    [cause] = launch_type_findings({}, cluster=cluster, tasks=[])

    assert cause.evidence == {"clusters[0].defaultCapacityProviderStrategy": cluster["defaultCapacityProviderStrategy"]}


def test_it_accepts_fargate_spot_and_ignores_providers_that_place_nothing():
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}, {"capacityProvider": "asg-provider", "weight": 0}]

    assert launch_type_findings({"capacityProviderStrategy": strategy}, cluster=None, tasks=[]) == []
    assert launch_type_findings({"launchType": "FARGATE"}, cluster=None, tasks=[(0, {"launchType": "FARGATE"})]) == []


def _config(public_ip: str | None, subnets=("subnet-a",)) -> dict:
    conf = {"subnets": list(subnets), "securityGroups": ["sg-1"]}
    if public_ip:
        conf["assignPublicIp"] = public_ip
    return {"awsvpcConfiguration": conf}


def test_it_finds_a_stale_task_set_of_an_external_controller():
    # moto's task sets do not record a networkConfiguration that differs from the service's.
    service = {
        "serviceName": "web",
        "deploymentController": {"type": "EXTERNAL"},
        "networkConfiguration": _config("ENABLED"),
        "taskSets": [
            {"id": "ecs-svc/1", "status": "PRIMARY", "runningCount": 2, "networkConfiguration": _config(None)}
        ],
    }

    [cause] = deployment_findings(service, cluster="main")

    assert (
        cause.evidence["services[0].taskSets[0].networkConfiguration.awsvpcConfiguration.assignPublicIp"] == "DISABLED"
    )
    assert cause.evidence["services[0].networkConfiguration.awsvpcConfiguration.assignPublicIp"] == "ENABLED"
    assert "task set" in cause.remediation


def test_it_ignores_drained_deployments_and_an_omitted_disabled():
    service = {
        "serviceName": "web",
        "networkConfiguration": _config("DISABLED"),
        "deployments": [
            {"id": "new", "status": "PRIMARY", "runningCount": 1, "networkConfiguration": _config(None)},
            {
                "id": "old",
                "status": "ACTIVE",
                "runningCount": 0,
                "networkConfiguration": _config("ENABLED", ["subnet-b"]),
            },
        ],
    }

    assert deployment_findings(service, cluster="main") == []


def test_it_cites_only_the_fields_that_differ():
    service = {
        "serviceName": "web",
        "networkConfiguration": _config("ENABLED", ["subnet-b"]),
        "deployments": [
            {
                "id": "ecs-svc/1",
                "status": "PRIMARY",
                "rolloutState": "FAILED",
                "networkConfiguration": _config("ENABLED", ["subnet-b", "subnet-a"]),
            }
        ],
    }

    [cause] = deployment_findings(service, cluster="main")

    assert cause.evidence == {
        "services[0].deployments[0].id": "ecs-svc/1",
        "services[0].deployments[0].status": "PRIMARY",
        "services[0].deployments[0].rolloutState": "FAILED",
        "services[0].networkConfiguration.awsvpcConfiguration.subnets": ["subnet-b"],
        "services[0].deployments[0].networkConfiguration.awsvpcConfiguration.subnets": ["subnet-a", "subnet-b"],
    }
    assert "--force-new-deployment" in cause.remediation


def test_it_finds_an_internet_gateway_that_no_longer_exists():
    # moto can delete the gateway too; on the rule it costs no seeded demo.
    [cause] = igw_findings("igw-gone", "vpc-1", [])

    assert cause.code == Code.IGW_NOT_ATTACHED
    assert cause.evidence == {"InternetGateways[?InternetGatewayId=='igw-gone']": []}


def _table(routes: list[dict], subnet: str = "subnet-a", vpc: str = "vpc-1") -> dict:
    return {
        "RouteTableId": "rtb-1",
        "VpcId": vpc,
        "Associations": [{"SubnetId": subnet, "AssociationState": {"State": "associated"}}],
        "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}, *routes],
    }


def test_it_finds_a_blackhole_internet_route():
    # moto keeps a route "active" after its gateway is detached or deleted; AWS marks it blackhole.
    route = {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-gone", "State": "blackhole"}

    igw, [cause] = route_findings("subnet-a", "vpc-1", [_table([route])])

    assert cause.code == Code.INTERNET_ROUTE_BLACKHOLE
    assert cause.evidence["RouteTables[0].Routes[1]"] == route
    assert igw == "igw-gone"


def test_it_does_not_take_a_nat_gateway_for_a_way_in():
    route = {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"}

    igw, [cause] = route_findings("subnet-a", "vpc-1", [_table([route])])

    assert cause.code == Code.SUBNET_NO_INTERNET_ROUTE
    assert "nat-1" in cause.summary
    assert igw is None


def test_it_uses_the_main_table_of_the_subnets_vpc_only():
    internet = {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-other", "State": "active"}
    other_vpc_main = {**_table([internet], subnet="", vpc="vpc-other"), "Associations": [{"Main": True}]}
    own_main = {**_table([], subnet="", vpc="vpc-1"), "RouteTableId": "rtb-main", "Associations": [{"Main": True}]}

    igw, [cause] = route_findings("subnet-a", "vpc-1", [other_vpc_main, own_main])

    assert cause.code == Code.SUBNET_NO_INTERNET_ROUTE
    assert cause.evidence["RouteTables[1].RouteTableId"] == "rtb-main"
    assert cause.evidence["RouteTables[1].Associations[0].Main"] is True


def _acl(*entries: dict) -> list[dict]:
    return [{"NetworkAclId": "acl-1", "Associations": [{"SubnetId": "subnet-a"}], "Entries": list(entries)}]


def _entry(number: int, action: str, *, egress: bool, protocol: str = "6", ports=None, cidr="0.0.0.0/0") -> dict:
    entry = {"RuleNumber": number, "RuleAction": action, "Egress": egress, "Protocol": protocol, "CidrBlock": cidr}
    if ports:
        entry["PortRange"] = {"From": ports[0], "To": ports[1]}
    return entry


ALLOW_ALL_OUT = _entry(100, "allow", egress=True, protocol="-1")
DENY_ALL_IN, DENY_ALL_OUT = (
    _entry(32767, "deny", egress=False, protocol="-1"),
    _entry(32767, "deny", egress=True, protocol="-1"),
)


def test_it_lets_the_lowest_numbered_nacl_entry_win():
    allow = _entry(100, "allow", egress=False, ports=(5000, 5000))
    deny_first = _entry(90, "deny", egress=False, protocol="-1")

    assert nacl_findings(_acl(allow, ALLOW_ALL_OUT, DENY_ALL_IN, DENY_ALL_OUT), subnet_id="subnet-a", port=5000) == []
    [cause] = nacl_findings(_acl(allow, deny_first, ALLOW_ALL_OUT, DENY_ALL_IN), subnet_id="subnet-a", port=5000)
    assert cause.code == Code.NACL_BLOCKS_INGRESS
    assert cause.evidence["NetworkAcls[0].Entries[1]"] == deny_first


def test_it_ignores_nacl_entries_that_only_some_clients_match():
    office_only = _entry(100, "allow", egress=False, ports=(5000, 5000), cidr="203.0.113.0/24")

    [cause] = nacl_findings(_acl(office_only, ALLOW_ALL_OUT, DENY_ALL_IN), subnet_id="subnet-a", port=5000)

    assert cause.code == Code.NACL_BLOCKS_INGRESS
    assert cause.evidence["NetworkAcls[0].Entries[2]"] == DENY_ALL_IN


def test_it_names_the_ephemeral_ports_a_nacl_drops():
    allow_in = _entry(100, "allow", egress=False, ports=(5000, 5000))
    linux_only = _entry(100, "allow", egress=True, ports=(32768, 65535))

    [cause] = nacl_findings(_acl(allow_in, linux_only, DENY_ALL_OUT), subnet_id="subnet-a", port=5000)

    assert cause.code == Code.NACL_BLOCKS_EGRESS
    assert "1024-32767" in cause.summary and "32768" not in cause.summary
    assert cause.evidence["NetworkAcls[0].Entries[2]"] == DENY_ALL_OUT


def test_it_counts_ipv6_sources_only_for_an_ipv6_eni():
    open_v6 = {
        "IpProtocol": "tcp",
        "FromPort": 5000,
        "ToPort": 5000,
        "IpRanges": [],
        "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
    }
    groups = [{"GroupId": "sg-1", "IpPermissions": [open_v6]}]

    closed = security_group_findings(group_ids=["sg-1"], security_groups=groups, port=5000, ipv6=False, origin={})
    assert [cause.code for cause in closed] == [Code.SECURITY_GROUP_PORT_CLOSED]
    assert security_group_findings(group_ids=["sg-1"], security_groups=groups, port=5000, ipv6=True, origin={}) == []


def test_it_adds_up_the_groups_on_the_eni():
    everything = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    groups = [{"GroupId": "sg-1", "IpPermissions": []}, {"GroupId": "sg-2", "IpPermissions": [everything]}]

    assert (
        security_group_findings(group_ids=["sg-1", "sg-2"], security_groups=groups, port=5000, ipv6=False, origin={})
        == []
    )


def _exclusion(resource: str, mode: str = "allow-bidirectional", state: str = "create-complete") -> dict:
    return {
        "ExclusionId": f"x-{resource}",
        "ResourceArn": f"arn:aws:ec2:us-east-1:123456789012:{resource.split('-')[0]}/{resource}",
        "InternetGatewayExclusionMode": mode,
        "State": state,
    }


@pytest.mark.parametrize(
    ("options", "exclusions", "blocked"),
    [
        ({"InternetGatewayBlockMode": "off"}, [], False),
        ({"InternetGatewayBlockMode": "block-ingress"}, [], True),
        ({"InternetGatewayBlockMode": "block-bidirectional"}, [_exclusion("vpc-1")], False),
        ({"InternetGatewayBlockMode": "block-bidirectional"}, [_exclusion("subnet-a"), _exclusion("subnet-b")], False),
        ({"InternetGatewayBlockMode": "block-bidirectional"}, [_exclusion("subnet-a")], True),
        ({"InternetGatewayBlockMode": "block-bidirectional"}, [_exclusion("vpc-1", state="create-in-progress")], True),
        (
            {"InternetGatewayBlockMode": "block-ingress", "ExclusionsAllowed": "not-allowed"},
            [_exclusion("vpc-1")],
            True,
        ),
    ],
)
def test_it_lets_only_an_active_bidirectional_exclusion_through_block_public_access(options, exclusions, blocked):
    findings = block_public_access_findings(options, exclusions, vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b"])

    assert bool(findings) is blocked
    if blocked:
        assert (
            findings[0].evidence["VpcBlockPublicAccessOptions.InternetGatewayBlockMode"]
            == options["InternetGatewayBlockMode"]
        )


def test_it_looks_up_ecr_images_only():
    digest = "sha256:" + "a" * 64
    definition = {
        "containerDefinitions": [
            {"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@" + digest},
            {"image": "public.ecr.aws/nginx/nginx:1.27"},
            {"image": "python:3.11"},
            {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"},
        ]
    }

    images = ecr_images(definition)

    assert [(i.container_index, i.region, i.repository, i.image_id) for i in images] == [
        (0, "eu-west-1", "team/app", {"imageDigest": digest}),
        (3, "us-east-1", "app", {"imageTag": "latest"}),
    ]


# --- manage.py diagnose_ecs ------------------------------------------------------------------------


def run_command(ids: dict, *extra: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(
            "diagnose_ecs", "--cluster", ids["cluster"], "--service", ids["service"], "--region", REGION,
            "--port", "5000", *extra, stdout=out,
        )  # fmt: skip
    except SystemExit as exit:
        return exit.code, out.getvalue()
    return 0, out.getvalue()


def test_its_command_prints_json_or_words_and_exits_1_when_unreachable(aws):
    ids = seed_example()

    code, output = run_command(ids, "--json")

    assert code == 1
    data = json.loads(output)
    assert list(data) == ["verdict", "root_causes", "steps"]
    assert data["verdict"] == "unreachable"
    assert {tuple(cause) for cause in data["root_causes"]} == {("code", "summary", "evidence", "remediation", "impact")}
    assert data["root_causes"][0]["code"] == "DEPLOYMENT_NETWORK_CONFIG_STALE"
    assert [tuple(step) for step in data["steps"]] == [("name", "status", "detail", "calls")] * 15

    code, output = run_command(ids)

    assert code == 1
    assert "port 5000: UNREACHABLE" in output
    assert "1. DEPLOYMENT_NETWORK_CONFIG_STALE (blocks every path): The PRIMARY deployment" in output
    assert 'services[0].deployments[0].networkConfiguration.awsvpcConfiguration.assignPublicIp = "DISABLED"' in output
    assert "Fix: Replace the tasks: aws ecs update-service --cluster snail-trail" in output
    assert "unknown  VPC Block Public Access" in output


def test_its_command_exits_0_when_reachable(healthy):
    code, output = run_command(healthy)

    assert code == 0
    assert "port 5000: REACHABLE" in output
    assert "ok       VPC Block Public Access: InternetGatewayBlockMode is off." in output


def test_its_command_exits_2_when_no_cause_is_found_but_a_step_could_not_tell(aws):
    ids = seed_example(running_assign_public_ip="ENABLED")  # healthy, but moto cannot answer VPC BPA

    code, output = run_command(ids, "--json")

    assert code == 2
    data = json.loads(output)
    assert (data["verdict"], data["root_causes"]) == ("unknown", [])
    steps = {step["name"]: step for step in data["steps"]}
    bpa = steps.pop("VPC Block Public Access")
    assert bpa["status"] == "unknown"
    assert bpa["calls"] == ["ec2.DescribeVpcBlockPublicAccessOptions"]
    assert "ec2.DescribeVpcBlockPublicAccessOptions" in bpa["detail"] and "does not implement" in bpa["detail"]
    assert {step["status"] for step in steps.values()} == {"ok", "skipped"}


def test_its_command_exits_2_for_a_cluster_that_does_not_exist(aws):
    code, output = run_command({"cluster": "no-such-cluster", "service": "web"}, "--json")

    assert code == 2
    assert json.loads(output)["verdict"] == "unknown"


def test_its_command_refuses_a_port_out_of_range(aws):
    with pytest.raises(CommandError):
        call_command("diagnose_ecs", "--cluster", "c", "--service", "s", "--region", REGION, "--port", "70000")
