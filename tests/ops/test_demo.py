"""The demo seeds the example tracker's AWS, where every fact the team checked holds and the
diagnosis still names why the service cannot be reached."""

from __future__ import annotations

import pytest

from ops import aws as ops_aws
from ops.demo import seed_example
from ops.diagnosis import Code, diagnose_ecs

REGION = "us-east-1"


def test_it_seeds_every_fact_the_tracker_found_correct(aws):
    ids = seed_example()
    ec2, ecs, ecr = (ops_aws.client(name, region=REGION) for name in ("ec2", "ecs", "ecr"))

    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        answer = ec2.describe_vpc_attribute(VpcId=ids["vpc_id"], Attribute=attribute)
        assert answer[attribute[0].upper() + attribute[1:]]["Value"] is True
    subnets = ec2.describe_subnets(SubnetIds=ids["subnet_ids"])["Subnets"]
    assert {s["MapPublicIpOnLaunch"] for s in subnets} == {True}
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    table = ec2.describe_route_tables(RouteTableIds=[ids["route_table_id"]])["RouteTables"][0]
    assert {a["SubnetId"] for a in table["Associations"]} == set(ids["subnet_ids"])
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": ids["internet_gateway_id"]}.items() <= next(
        r for r in table["Routes"] if r["DestinationCidrBlock"] == "0.0.0.0/0"
    ).items()
    gateway = ec2.describe_internet_gateways(InternetGatewayIds=[ids["internet_gateway_id"]])["InternetGateways"][0]
    assert gateway["Attachments"] == [{"State": "available", "VpcId": ids["vpc_id"]}]
    group = ec2.describe_security_groups(GroupIds=[ids["security_group_id"]])["SecurityGroups"][0]
    assert [(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in group["IpPermissions"]] == [(5000, "0.0.0.0/0")]
    images = ecr.describe_images(repositoryName=ids["repository"], imageIds=[{"imageTag": ids["image_tag"]}])
    assert images["imageDetails"][0]["imageTags"] == [ids["image_tag"]]

    service = ecs.describe_services(cluster=ids["cluster"], services=[ids["service"]])["services"][0]
    assert service["taskDefinition"] == ids["task_definition_arn"]
    assert ids["task_definition_arn"].endswith("task-definition/enhanced-ml-service:12")
    assert service["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"
    [deployment] = service["deployments"]
    assert deployment["status"] == "PRIMARY"
    assert deployment["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    task = ecs.describe_tasks(cluster=ids["cluster"], tasks=ids["task_arns"])["tasks"][0]
    assert (task["lastStatus"], task["group"]) == ("RUNNING", "service:enhanced-ml-service")
    [eni] = ec2.describe_network_interfaces(NetworkInterfaceIds=ids["network_interface_ids"])["NetworkInterfaces"]
    assert "Association" not in eni


def test_it_leaves_the_diagnosis_a_stale_deployment_behind_the_missing_public_ip(aws):
    ids = seed_example()

    diagnosis = diagnose_ecs(cluster=ids["cluster"], service=ids["service"], region=REGION, port=ids["port"])

    assert diagnosis.verdict == "unreachable"
    assert diagnosis.codes == [Code.DEPLOYMENT_NETWORK_CONFIG_STALE, Code.TASK_ENI_NO_PUBLIC_IP]
    stale, no_ip = diagnosis.root_causes
    assert stale.evidence["services[0].networkConfiguration.awsvpcConfiguration.assignPublicIp"] == "ENABLED"
    assert stale.evidence["services[0].deployments[0].networkConfiguration.awsvpcConfiguration.assignPublicIp"] == (
        "DISABLED"
    )
    assert stale.evidence["services[0].deployments[0].status"] == "PRIMARY"
    assert "--force-new-deployment" in stale.remediation
    assert no_ip.evidence["NetworkInterfaces[0].NetworkInterfaceId"] == ids["network_interface_ids"][0]
    assert no_ip.evidence["NetworkInterfaces[0].Association.PublicIp"] is None
    # What the team verified by hand is not where the fault is:
    for name in ("route to the internet", "internet gateway", "network ACLs", "security groups", "image"):
        assert diagnosis.step(name).status == "ok", name
    assert diagnosis.step("VPC Block Public Access").status == "unknown"  # moto does not implement it


def test_it_refuses_to_seed_real_aws(aws, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    ops_aws.forget_clients()  # the cached clients still point at moto

    with pytest.raises(RuntimeError, match="real AWS"):
        seed_example()
