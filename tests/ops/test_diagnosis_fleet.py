"""Issue #19: the diagnosis on real fleets. Each numbered blind spot of the issue is a scenario here,
built with boto3 against moto, with the expected code, verdict and exit code. Where moto cannot
build the state (a rollout in progress, unhealthy targets, IPv6-only subnets, VPC Block Public
Access), the call that shows it is answered by a stub on the same client, and the test says so.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from ops import aws as ops_aws
from ops import demo
from ops.diagnosis import Code, Diagnosis, RootCause, diagnose_ecs

REGION = "us-east-1"


def diagnose(ids: dict, *, port: int = 5000, unknown_ok=()) -> Diagnosis:
    return diagnose_ecs(cluster=ids["cluster"], service=ids["service"], region=REGION, port=port, unknown_ok=unknown_ok)


def only(diagnosis: Diagnosis, code: str) -> RootCause:
    causes = [cause for cause in diagnosis.root_causes if cause.code == code]
    assert len(causes) == 1, diagnosis.to_dict()
    return causes[0]


def command(ids: dict, *extra: str, port: int = 5000) -> tuple[int, dict]:
    out = StringIO()
    try:
        call_command(
            "diagnose_ecs", "--cluster", ids["cluster"], "--service", ids["service"], "--region", REGION,
            "--port", str(port), "--json", *extra, stdout=out,
        )  # fmt: skip
    except SystemExit as exit:
        return exit.code, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


def bpa_off(stub) -> None:
    """moto does not implement VPC Block Public Access: answer "off" as AWS would."""
    stub("ec2", "DescribeVpcBlockPublicAccessOptions", response={"VpcBlockPublicAccessOptions": {}})


@pytest.fixture
def ec2(aws):
    return ops_aws.client("ec2", region=REGION)


@pytest.fixture
def ecs(aws):
    return ops_aws.client("ecs", region=REGION)


@pytest.fixture
def elbv2(aws):
    return ops_aws.client("elbv2", region=REGION)


def fronted(
    *,
    scheme: str = "internet-facing",
    health_check_port: str = "traffic-port",
    kind: str = "application",
    lb_in_a_private_subnet: bool = False,
) -> dict:
    """The service as production runs it: two Fargate tasks in private subnets with no public IP, their
    group open to the ALB's group only, behind an ALB in the public subnets listening on 80. An NLB
    (`kind="network"`) has no group: the tasks' group then lets the VPC's addresses in."""
    ec2, elbv2, ecs = (ops_aws.client(s, region=REGION) for s in ("ec2", "elbv2", "ecs"))
    demo.pin_tasks_running(ec2.meta.endpoint_url)
    net = demo.create_network(region=REGION)
    vpc = net["vpc_id"]
    private = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=f"{REGION}{zone}")["Subnet"]["SubnetId"]
        for zone, cidr in (("a", "10.0.3.0/24"), ("b", "10.0.4.0/24"))
    ]
    private_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for subnet in private:
        ec2.associate_route_table(RouteTableId=private_table, SubnetId=subnet)
    lb_group = ec2.create_security_group(GroupName="web-alb", Description="ALB", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=lb_group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    task_group = ec2.create_security_group(GroupName="web-tasks", Description="tasks", VpcId=vpc)["GroupId"]
    source = (
        {"UserIdGroupPairs": [{"GroupId": lb_group}]}
        if kind == "application"
        else {"IpRanges": [{"CidrIp": demo.VPC_CIDR}]}
    )
    ec2.authorize_security_group_ingress(
        GroupId=task_group, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5000, "ToPort": 5000, **source}]
    )
    lb_subnets = [net["subnet_ids"][0], private[1]] if lb_in_a_private_subnet else net["subnet_ids"]
    groups = {"SecurityGroups": [lb_group]} if kind == "application" else {}
    balancer = elbv2.create_load_balancer(Name="web", Subnets=lb_subnets, Scheme=scheme, Type=kind, **groups)
    balancer = balancer["LoadBalancers"][0]
    elbv2.describe_load_balancers(LoadBalancerArns=[balancer["LoadBalancerArn"]])  # moto: provisioning -> active
    protocol = "HTTP" if kind == "application" else "TCP"
    group = elbv2.create_target_group(
        Name="web", Protocol=protocol, Port=5000, VpcId=vpc, TargetType="ip", HealthCheckPort=health_check_port
    )["TargetGroups"][0]
    elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"], Protocol=protocol, Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
    )  # fmt: skip
    image = f"{demo.push_image(region=REGION)['repository_uri']}:{demo.IMAGE_TAG}"
    definition = demo.register_task_definitions(region=REGION, image=image, revision=1)
    ecs.create_cluster(clusterName=demo.CLUSTER)
    service = ecs.create_service(
        cluster=demo.CLUSTER, serviceName=demo.SERVICE, taskDefinition=definition, desiredCount=2,
        launchType="FARGATE", networkConfiguration=demo.network_configuration(private, [task_group], "DISABLED"),
        loadBalancers=[{"targetGroupArn": group["TargetGroupArn"], "containerName": demo.FAMILY,
                        "containerPort": 5000}],
    )["service"]  # fmt: skip
    tasks = demo.start_tasks(region=REGION, service=service, count=2)
    enis = [demo._eni_of(task) for task in tasks]
    ips = [
        eni["PrivateIpAddress"]
        for eni in ec2.describe_network_interfaces(NetworkInterfaceIds=enis)["NetworkInterfaces"]
    ]
    elbv2.register_targets(TargetGroupArn=group["TargetGroupArn"], Targets=[{"Id": ip, "Port": 5000} for ip in ips])
    return {
        **net,
        "cluster": demo.CLUSTER,
        "service": demo.SERVICE,
        "private_subnet_ids": private,
        "private_route_table_id": private_table,
        "lb_group": lb_group,
        "task_group": task_group,
        "load_balancer_arn": balancer["LoadBalancerArn"],
        "target_group_arn": group["TargetGroupArn"],
        "task_ips": ips,
        "network_interface_ids": enis,
    }


# --- 1. services behind a load balancer ---------------------------------------------------------------


def test_it_finds_a_healthy_alb_fronted_service_reachable_without_exposing_the_tasks(aws, aws_stub):
    ids = fronted()
    bpa_off(aws_stub)

    diagnosis = diagnose(ids, port=80)

    # Before #19: TASK_ENI_NO_PUBLIC_IP, SUBNET_NO_INTERNET_ROUTE, SECURITY_GROUP_PORT_CLOSED, ...
    assert (diagnosis.verdict, diagnosis.codes) == ("reachable", []), diagnosis.to_dict()
    assert "Behind a load balancer, the tasks need no public IP" in diagnosis.step("task public IP").detail
    assert diagnosis.step("route to the internet").detail.startswith("From the load balancer's subnets")
    assert diagnosis.step("target health").detail == "web: 2 of 2 healthy."
    calls = [call for step in diagnosis.steps for call in step.calls]
    for call in ("elasticloadbalancing.DescribeTargetGroups", "elasticloadbalancing.DescribeLoadBalancers",
                 "elasticloadbalancing.DescribeListeners", "elasticloadbalancing.DescribeTargetHealth"):  # fmt: skip
        assert call in calls
    assert command(ids, port=80)[0] == 0


def test_it_finds_no_listener_on_the_clients_port(aws, aws_stub):
    ids = fronted()
    bpa_off(aws_stub)

    code, data = command(ids, port=443)

    assert (code, data["verdict"]) == (1, "unreachable")
    [cause] = [c for c in data["root_causes"] if c["code"] == Code.LOAD_BALANCER_NO_LISTENER]
    assert cause["evidence"] == {"Listeners[].Port": [80]}
    assert cause["impact"] == "all"


def test_it_checks_the_load_balancers_group_not_the_tasks_for_the_internet(aws, aws_stub, ec2):
    ids = fronted()
    bpa_off(aws_stub)
    ec2.revoke_security_group_ingress(
        GroupId=ids["lb_group"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )

    diagnosis = diagnose(ids, port=80)

    cause = only(diagnosis, Code.SECURITY_GROUP_PORT_CLOSED)
    assert (diagnosis.verdict, diagnosis.codes) == ("unreachable", [Code.SECURITY_GROUP_PORT_CLOSED])
    assert f"--group-id {ids['lb_group']}" in cause.remediation
    assert cause.evidence["LoadBalancers[0].SecurityGroups"] == [ids["lb_group"]]


def test_it_finds_a_task_group_that_shuts_out_the_load_balancer_and_fixes_it_with_the_lbs_group(aws, aws_stub, ec2):
    ids = fronted()
    bpa_off(aws_stub)
    ec2.revoke_security_group_ingress(
        GroupId=ids["task_group"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 5000, "ToPort": 5000,
                        "UserIdGroupPairs": [{"GroupId": ids["lb_group"]}]}],
    )  # fmt: skip

    diagnosis = diagnose(ids, port=80)

    cause = only(diagnosis, Code.SECURITY_GROUP_BLOCKS_LOAD_BALANCER)
    assert diagnosis.verdict == "unreachable"
    assert f"--group-id {ids['task_group']} --protocol tcp --port 5000 --source-group {ids['lb_group']}" in (
        cause.remediation
    )
    assert "0.0.0.0/0" not in cause.remediation  # never expose the tasks past the load balancer


def test_it_calls_an_internal_load_balancer_out_of_scope(aws, aws_stub):
    ids = fronted(scheme="internal")
    bpa_off(aws_stub)

    code, data = command(ids, port=80)

    assert (code, data["verdict"], data["root_causes"]) == (4, "out of scope: behind a load balancer", [])
    steps = {step["name"]: step for step in data["steps"]}
    assert "No internet-facing load balancer fronts the service" in steps["load balancer"]["detail"]


def _health(ids: dict, *states: tuple[str, str | None]) -> dict:
    return {
        "TargetHealthDescriptions": [
            {
                "Target": {"Id": ip, "Port": 5000},
                "HealthCheckPort": "80",
                "TargetHealth": {"State": state, **({"Reason": reason} if reason else {})},
            }
            for ip, (state, reason) in zip(ids["task_ips"], states, strict=True)
        ]
    }


def test_it_fixes_a_probe_on_80_against_a_container_on_5000_on_the_probe(aws, aws_stub):
    ids = fronted(health_check_port="80")
    bpa_off(aws_stub)
    # moto reports every registered ip target healthy: AWS would time out on port 80.
    aws_stub("elbv2", "DescribeTargetHealth", response=_health(ids, *[("unhealthy", "Target.Timeout")] * 2))

    diagnosis = diagnose(ids, port=80)

    cause = only(diagnosis, Code.TARGETS_UNHEALTHY)
    assert (diagnosis.verdict, cause.impact) == ("unreachable", "all")
    assert "--health-check-port traffic-port" in cause.remediation
    assert "do not remap the container" in cause.remediation
    assert cause.evidence["TargetGroups[0].HealthCheckPort"] == "80"


def test_one_unhealthy_target_of_two_leaves_the_service_reachable(aws, aws_stub):
    ids = fronted()
    bpa_off(aws_stub)
    aws_stub(
        "elbv2", "DescribeTargetHealth",
        response=_health(ids, ("healthy", None), ("unhealthy", "Target.ResponseCodeMismatch")),
    )  # fmt: skip

    diagnosis = diagnose(ids, port=80)

    cause = only(diagnosis, Code.TARGETS_UNHEALTHY)
    assert (diagnosis.verdict, cause.impact) == ("reachable", "some")  # the ALB routes around it
    assert "Target.ResponseCodeMismatch" in cause.remediation


def test_it_finds_a_running_task_the_target_group_does_not_list(aws, aws_stub, elbv2):
    ids = fronted()
    bpa_off(aws_stub)
    elbv2.deregister_targets(TargetGroupArn=ids["target_group_arn"], Targets=[{"Id": ids["task_ips"][1], "Port": 5000}])

    diagnosis = diagnose(ids, port=80)

    cause = only(diagnosis, Code.TASKS_NOT_REGISTERED)
    assert cause.evidence["tasks[].privateIPv4Address"] == [ids["task_ips"][1]]
    assert diagnosis.verdict == "reachable"  # one registered, healthy task serves


def test_one_load_balancer_node_in_a_private_subnet_is_partially_reachable(aws, aws_stub):
    ids = fronted(lb_in_a_private_subnet=True)
    bpa_off(aws_stub)

    code, data = command(ids, port=80)

    assert (code, data["verdict"]) == (3, "partially reachable")  # DNS hands out both nodes' addresses
    [cause] = data["root_causes"]
    assert (cause["code"], cause["impact"]) == (Code.SUBNET_NO_INTERNET_ROUTE, "some")
    assert f"Do not add an internet route to {ids['private_route_table_id']}" in cause["remediation"]
    assert "give web a public subnet in this Availability Zone" in cause["remediation"]


def test_an_nlb_that_preserves_client_ips_needs_the_tasks_open_to_the_clients(aws, aws_stub, elbv2):
    ids = fronted(kind="network")
    bpa_off(aws_stub)
    assert diagnose(ids, port=80).verdict == "reachable"  # the NLB's own addresses are in the VPC's CIDR
    elbv2.modify_target_group_attributes(
        TargetGroupArn=ids["target_group_arn"], Attributes=[{"Key": "preserve_client_ip.enabled", "Value": "true"}]
    )

    diagnosis = diagnose(ids, port=80)

    cause = only(diagnosis, Code.SECURITY_GROUP_BLOCKS_LOAD_BALANCER)
    assert diagnosis.verdict == "unreachable"
    assert "the clients of web (it preserves their IP)" in cause.summary
    assert "elasticloadbalancing.DescribeTargetGroupAttributes" in diagnosis.step("load balancer").calls


# --- 2. rolling deploys ------------------------------------------------------------------------------


@pytest.fixture
def healthy(aws, aws_stub) -> dict:
    ids = demo.seed_example(running_assign_public_ip="ENABLED", running_tasks=2)
    bpa_off(aws_stub)
    return ids


def _rollout(ids: dict, ecs, aws_stub, *, state: str) -> str:
    """Revision 13 registered and the service moved to it. moto keeps one deployment and no rollout
    state of its own, so DescribeServices answers with ECS's own shape of a rolling update."""
    current = ecs.describe_task_definition(taskDefinition=ids["task_definition_arn"])["taskDefinition"]
    newer = ecs.register_task_definition(
        family=current["family"], networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", containerDefinitions=current["containerDefinitions"],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    answer = ecs.describe_services(cluster=ids["cluster"], services=[ids["service"]])
    service = answer["services"][0]
    old = {**service["deployments"][0], "status": "ACTIVE", "runningCount": 2, "rolloutState": "COMPLETED"}
    new = {**old, "id": "ecs-svc/2", "status": "PRIMARY", "taskDefinition": newer, "runningCount": 0}
    new["rolloutState"] = state
    deployments = [new, old] if state == "IN_PROGRESS" else [new]
    moved = {**service, "taskDefinition": newer, "deployments": deployments}
    aws_stub("ecs", "DescribeServices", response={"services": [moved], "failures": []})
    return newer


def test_a_rolling_deploy_in_progress_is_reachable_on_the_old_revision(healthy, ecs, aws_stub):
    _rollout(healthy, ecs, aws_stub, state="IN_PROGRESS")

    diagnosis = diagnose(healthy)

    assert (diagnosis.verdict, diagnosis.codes) == ("reachable", []), diagnosis.to_dict()
    assert "ACTIVE enhanced-ml-service:12 COMPLETED (2 running)" in diagnosis.step("running tasks").detail
    assert command(healthy)[0] == 0


def test_old_tasks_after_the_rollout_are_named_but_still_serve(healthy, ecs, aws_stub):
    newer = _rollout(healthy, ecs, aws_stub, state="COMPLETED")

    diagnosis = diagnose(healthy)

    cause = only(diagnosis, Code.TASK_DEFINITION_OUTDATED)
    assert (diagnosis.verdict, cause.impact) == ("reachable", "none")
    assert cause.evidence["services[0].taskDefinition"] == newer
    assert cause.evidence["services[0].deployments[0].rolloutState"] == "COMPLETED"


# --- 3. tasks that never start -----------------------------------------------------------------------

PULL_TIMEOUT = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/enhanced-ml-service:v12: dial tcp 52.94.0.1:443: i/o timeout"
)


@pytest.fixture
def never_starts(aws, aws_stub, ecs, monkeypatch) -> dict:
    """assignPublicIp DISABLED in subnets whose only way out is an internet gateway: no way to ECR."""
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "0")
    ids = demo.seed_example(running_assign_public_ip="DISABLED", service_assign_public_ip="DISABLED")
    bpa_off(aws_stub)
    ecs.stop_task(cluster=ids["cluster"], task=ids["task_arns"][0], reason=PULL_TIMEOUT)
    return ids


def test_it_reads_a_pull_timeout_as_no_way_out_to_ecr(never_starts):
    code, data = command(never_starts)

    assert (code, data["verdict"]) == (1, "unreachable")
    causes = {cause["code"]: cause for cause in data["root_causes"]}
    assert set(causes) == {
        Code.NO_RUNNING_TASKS,
        Code.TASK_START_FAILED,
        Code.ASSIGN_PUBLIC_IP_DISABLED,
        Code.NO_ROUTE_TO_REGISTRY,
    }
    assert "desiredCount is already 1" in causes[Code.NO_RUNNING_TASKS]["remediation"]
    assert "--desired-count" not in causes[Code.NO_RUNNING_TASKS]["remediation"]
    assert "no network path to the registry" in causes[Code.TASK_START_FAILED]["summary"]
    route = causes[Code.NO_ROUTE_TO_REGISTRY]
    assert route["evidence"]["RouteTables[].Routes[0.0.0.0/0]"] == never_starts["internet_gateway_id"]
    assert route["evidence"]["VpcEndpoints[ecr.api|ecr.dkr|s3]"] == {}
    assert "assignPublicIp ENABLED" in route["remediation"]
    assert "assignPublicIp=ENABLED" in causes[Code.ASSIGN_PUBLIC_IP_DISABLED]["remediation"]


def test_ecr_endpoints_are_a_way_out(never_starts, ec2):
    for name, kind in (("ecr.api", "Interface"), ("ecr.dkr", "Interface"), ("s3", "Gateway")):
        ec2.create_vpc_endpoint(
            VpcId=never_starts["vpc_id"], ServiceName=f"com.amazonaws.{REGION}.{name}", VpcEndpointType=kind
        )

    diagnosis = diagnose(never_starts)

    assert Code.NO_ROUTE_TO_REGISTRY not in diagnosis.codes
    assert "ecr.api vpce-" in diagnosis.step("way out to the registry").detail


# --- 4. every subnet of the service, and partial reachability -----------------------------------------


def test_a_private_subnet_no_task_runs_in_is_checked_for_the_next_deploy(aws, aws_stub, ec2):
    net = demo.create_network(region=REGION)
    private = ec2.create_subnet(VpcId=net["vpc_id"], CidrBlock="10.0.9.0/24", AvailabilityZone=f"{REGION}c")
    private_id = private["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=net["subnet_ids"][0], AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    table = ec2.create_route_table(VpcId=net["vpc_id"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.associate_route_table(RouteTableId=table, SubnetId=private_id)
    demo.pin_tasks_running(ec2.meta.endpoint_url)
    image = f"{demo.push_image(region=REGION)['repository_uri']}:{demo.IMAGE_TAG}"
    service = demo.create_service(
        region=REGION, task_definition=demo.register_task_definitions(region=REGION, image=image, revision=1),
        subnet_ids=[*net["subnet_ids"], private_id], group_ids=[net["security_group_id"]],
        running_assign_public_ip="ENABLED", service_assign_public_ip="ENABLED",
    )  # fmt: skip
    demo.start_tasks(region=REGION, service=service, count=2)  # one per public subnet
    bpa_off(aws_stub)
    ids = {"cluster": demo.CLUSTER, "service": demo.SERVICE}

    diagnosis = diagnose(ids)

    cause = only(diagnosis, Code.SUBNET_NO_INTERNET_ROUTE)
    assert (diagnosis.verdict, cause.impact) == ("reachable", "none")
    assert nat in cause.summary
    assert f"Do not add an internet route to {table}" in cause.remediation  # never make it public
    assert f"take {private_id} out of this service's subnets" in cause.remediation
    assert f"{private_id} (no task there now)" in diagnosis.step("route to the internet").detail


def test_one_task_of_two_without_a_public_ip_is_partially_reachable(healthy, ec2):
    eni = healthy["network_interface_ids"][1]
    association = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Association"]
    ec2.disassociate_address(AssociationId=association["AssociationId"])

    code, data = command(healthy)

    assert (code, data["verdict"]) == (3, "partially reachable")
    [cause] = data["root_causes"]
    assert (cause["code"], cause["impact"]) == (Code.TASK_ENI_NO_PUBLIC_IP, "some")


# --- the ecs_reachability check that wraps the diagnosis ---------------------------------------------


def _check(ids: dict, port: int):
    from ops.checks.base import ERROR, FAIL, PASS, CallLog, Target
    from ops.checks.reachability import EcsReachability

    target = Target(1, {"cluster": ids["cluster"], "service": ids["service"], "port": port}, True)
    [observation] = EcsReachability().collect([target], client_for=None, region=REGION, calls=CallLog()).values()
    return observation, {"pass": PASS, "fail": FAIL, "error": ERROR}


def test_the_check_errs_on_out_of_scope_and_fails_on_partial(aws, aws_stub, ec2):
    internal = fronted(scheme="internal")
    bpa_off(aws_stub)

    observation, status = _check(internal, 80)

    assert (observation.status, observation.error_code) == (status["error"], "DiagnosisOutOfScope")
    assert "No internet-facing load balancer" in observation.message


def test_the_check_fails_on_a_partially_reachable_service(healthy, ec2):
    eni = healthy["network_interface_ids"][0]
    association = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]["Association"]
    ec2.disassociate_address(AssociationId=association["AssociationId"])

    observation, status = _check(healthy, 5000)

    assert observation.status == status["fail"]
    assert (observation.observed, observation.evidence["verdict"]) == (False, "partially reachable")


def test_the_check_can_accept_a_step_the_role_may_not_answer(aws, aws_stub):
    from django.core.exceptions import ValidationError

    from ops.checks.base import PASS, CallLog, Target
    from ops.checks.reachability import EcsReachability

    ids = demo.seed_example(running_assign_public_ip="ENABLED")
    aws_stub("ec2", "DescribeVpcBlockPublicAccessOptions", error_code="UnauthorizedOperation", status=403)
    check = EcsReachability()
    params, expected = check.clean(
        {"cluster": ids["cluster"], "service": ids["service"], "port": 5000, "unknown_ok": "vpc-block-public-access"},
        True,
    )

    targets = [Target(1, params, expected)]
    [observation] = check.collect(targets, client_for=None, region=REGION, calls=CallLog()).values()

    assert observation.status == PASS
    with pytest.raises(ValidationError, match="no step vpc-bpa"):
        check.clean({"cluster": "c", "service": "s", "port": 80, "unknown_ok": "vpc-bpa"}, True)


def test_it_finds_a_listener_that_forwards_elsewhere(aws, aws_stub, elbv2):
    ids = fronted()
    bpa_off(aws_stub)
    other = elbv2.create_target_group(Name="other", Protocol="HTTP", Port=8080, VpcId=ids["vpc_id"], TargetType="ip")
    [listener] = elbv2.describe_listeners(LoadBalancerArn=ids["load_balancer_arn"])["Listeners"]
    other_arn = other["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_listener(
        ListenerArn=listener["ListenerArn"], DefaultActions=[{"Type": "forward", "TargetGroupArn": other_arn}]
    )

    diagnosis = diagnose(ids, port=80)

    cause = only(diagnosis, Code.LISTENER_NOT_FORWARDING)
    assert diagnosis.verdict == "unreachable"
    assert "elasticloadbalancing.DescribeRules" in diagnosis.step("load balancer").calls  # rules read too
    assert "create-rule" in cause.remediation


def test_it_finds_a_target_group_no_load_balancer_sends_to(aws, aws_stub, elbv2):
    ids = fronted()
    bpa_off(aws_stub)
    groups = elbv2.describe_target_groups(TargetGroupArns=[ids["target_group_arn"]])
    groups["TargetGroups"][0]["LoadBalancerArns"] = []  # its listener deleted (moto keeps the link)
    aws_stub("elbv2", "DescribeTargetGroups", response=groups)

    code, data = command(ids, port=80)

    assert (code, data["verdict"]) == (1, "unreachable")
    assert [c["code"] for c in data["root_causes"]] == [Code.TARGET_GROUP_NOT_ATTACHED]
