"""Issue #19, points 5 to 7: IPv6, inspection endpoints, rules through prefix lists or split CIDRs,
a role without the Block Public Access permission, batched filters, and fixes that do no harm.

moto builds the service; where it cannot hold the state (IPv6-only subnets and ENIs, a Network
Firewall endpoint and the gateway's edge route table, a denied permission), the call that shows it
is answered by a stub built from moto's own answer, and the test says so.
"""

from __future__ import annotations

import json
from io import StringIO

import boto3
import pytest
from botocore.stub import Stubber
from django.core.management import call_command

from ops import aws as ops_aws
from ops import demo
from ops.diagnosis import Clients, Code, Diagnosis, RootCause, diagnose_ecs, nacl_findings, security_group_findings
from ops.diagnosis.calls import AwsCalls

REGION = "us-east-1"
OPEN_5000 = {"IpProtocol": "tcp", "FromPort": 5000, "ToPort": 5000}


def diagnose(ids: dict, **options) -> Diagnosis:
    return diagnose_ecs(cluster=ids["cluster"], service=ids["service"], region=REGION, port=5000, **options)


def only(diagnosis: Diagnosis, code: str) -> RootCause:
    causes = [cause for cause in diagnosis.root_causes if cause.code == code]
    assert len(causes) == 1, diagnosis.to_dict()
    return causes[0]


def command(ids: dict, *extra: str) -> tuple[int, dict]:
    out = StringIO()
    try:
        call_command(
            "diagnose_ecs", "--cluster", ids["cluster"], "--service", ids["service"], "--region", REGION,
            "--port", "5000", "--json", *extra, stdout=out,
        )  # fmt: skip
    except SystemExit as exit:
        return exit.code, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


@pytest.fixture
def ec2(aws):
    return ops_aws.client("ec2", region=REGION)


@pytest.fixture
def bpa_off(aws_stub):
    aws_stub("ec2", "DescribeVpcBlockPublicAccessOptions", response={"VpcBlockPublicAccessOptions": {}})


@pytest.fixture
def healthy(aws, bpa_off) -> dict:
    return demo.seed_example(running_assign_public_ip="ENABLED", running_tasks=2)


def _only_ipv6_open(ec2, group: str) -> None:
    ec2.revoke_security_group_ingress(
        GroupId=group, IpPermissions=[{**OPEN_5000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{**OPEN_5000, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]
    )


# --- 5. IPv6 ------------------------------------------------------------------------------------------


def test_a_v6_only_rule_does_not_open_a_dual_stack_task_to_ipv4_clients(healthy, ec2, aws_stub):
    _only_ipv6_open(ec2, healthy["security_group_id"])
    # moto gives ENIs no IPv6 address: the tasks are dual-stack in AWS's answer.
    interfaces = ec2.describe_network_interfaces(NetworkInterfaceIds=healthy["network_interface_ids"])
    for number, eni in enumerate(interfaces["NetworkInterfaces"]):
        eni["Ipv6Addresses"] = [{"Ipv6Address": f"2600:1f18::{number + 1}"}]
    aws_stub("ec2", "DescribeNetworkInterfaces", response=interfaces)

    code, data = command(healthy)

    assert (code, data["verdict"]) == (1, "unreachable")  # before #19: "reachable"
    [cause] = data["root_causes"]
    assert cause["code"] == Code.SECURITY_GROUP_PORT_CLOSED
    assert "the internet over IPv4 (0.0.0.0/0)" in cause["summary"]


def _ipv6_only(healthy: dict, ec2, aws_stub, *, default_route: dict, nacl_v6: list[dict] | None = None) -> None:
    """The tasks in IPv6-only subnets (moto has none): no private IPv4, no public IPv4, one IPv6 address."""
    _only_ipv6_open(ec2, healthy["security_group_id"])
    subnets = ec2.describe_subnets(SubnetIds=healthy["subnet_ids"])
    for subnet in subnets["Subnets"]:
        subnet["Ipv6Native"] = True
    interfaces = ec2.describe_network_interfaces(NetworkInterfaceIds=healthy["network_interface_ids"])
    for number, eni in enumerate(interfaces["NetworkInterfaces"]):
        for key in ("PrivateIpAddress", "PrivateIpAddresses", "Association"):
            eni.pop(key, None)
        eni["Ipv6Addresses"] = [{"Ipv6Address": f"2600:1f18::{number + 1}"}]
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [healthy["vpc_id"]]}])
    for table in tables["RouteTables"]:
        if table["RouteTableId"] == healthy["route_table_id"]:
            table["Routes"] = [r for r in table["Routes"] if r.get("DestinationCidrBlock") != "0.0.0.0/0"]
            table["Routes"].append({"DestinationIpv6CidrBlock": "::/0", "State": "active", **default_route})
    acls = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [healthy["vpc_id"]]}])
    for acl in acls["NetworkAcls"]:
        acl["Entries"] = [
            {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": egress, "Ipv6CidrBlock": "::/0"}
            for egress in (False, True)
        ] + (nacl_v6 or [])
    aws_stub("ec2", "DescribeSubnets", response=subnets)
    aws_stub("ec2", "DescribeNetworkInterfaces", response=interfaces)
    aws_stub("ec2", "DescribeRouteTables", response=tables)
    aws_stub("ec2", "DescribeNetworkAcls", response=acls)


def test_an_ipv6_only_task_is_judged_over_ipv6(healthy, ec2, aws_stub):
    _ipv6_only(healthy, ec2, aws_stub, default_route={"GatewayId": healthy["internet_gateway_id"]})

    diagnosis = diagnose(healthy)

    assert (diagnosis.verdict, diagnosis.codes) == ("reachable", []), diagnosis.to_dict()  # before: no public IP
    assert "::/0 -> igw-" in diagnosis.step("route to the internet").detail


def test_an_egress_only_gateway_lets_nothing_in_over_ipv6(healthy, ec2, aws_stub):
    _ipv6_only(healthy, ec2, aws_stub, default_route={"EgressOnlyInternetGatewayId": "eigw-0123456789abcdef0"})

    diagnosis = diagnose(healthy)

    causes = [c for c in diagnosis.root_causes if c.code == Code.SUBNET_NO_INTERNET_ROUTE]
    assert diagnosis.verdict == "unreachable"
    assert "::/0 in" in causes[0].summary and "egress-only" in causes[0].summary


def test_an_ipv6_nacl_entry_decides_for_ipv6_clients(healthy, ec2, aws_stub):
    deny = {"RuleNumber": 50, "Protocol": "6", "RuleAction": "deny", "Egress": False, "Ipv6CidrBlock": "::/0",
            "PortRange": {"From": 5000, "To": 5000}}  # fmt: skip
    _ipv6_only(healthy, ec2, aws_stub, default_route={"GatewayId": healthy["internet_gateway_id"]}, nacl_v6=[deny])

    diagnosis = diagnose(healthy)

    causes = [c for c in diagnosis.root_causes if c.code == Code.NACL_BLOCKS_INGRESS]
    assert diagnosis.verdict == "unreachable"
    assert "from ::/0 (rule 50)" in causes[0].summary
    assert "--ipv6-cidr-block ::/0" in causes[0].remediation


def test_ipv4_nacl_entries_do_not_decide_for_ipv6():
    acl = [{"NetworkAclId": "acl-1", "Associations": [{"SubnetId": "subnet-a"}], "Entries": [
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": e, "CidrBlock": "0.0.0.0/0"}
        for e in (False, True)
    ]}]  # fmt: skip

    assert nacl_findings(acl, subnet_id="subnet-a", port=5000) == []
    codes = [c.code for c in nacl_findings(acl, subnet_id="subnet-a", port=5000, source="::/0")]
    assert codes == [Code.NACL_BLOCKS_INGRESS, Code.NACL_BLOCKS_EGRESS]  # the implicit deny, both ways


# --- 7. inspection endpoints, prefix lists, split CIDRs -------------------------------------------------


def _through_firewall(healthy: dict, ec2, aws_stub, *, edge: bool) -> None:
    """0.0.0.0/0 of the task subnets -> a Network Firewall endpoint in its own subnet, whose 0.0.0.0/0
    goes to the internet gateway; with `edge`, the gateway's edge route table sends the task subnets
    back through it. moto has neither firewall endpoints nor edge associations: both are stubbed."""
    firewall_subnet = "subnet-0f1e2d3c4b5a69788"
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [healthy["vpc_id"]]}])["RouteTables"]
    for table in tables:
        if table["RouteTableId"] == healthy["route_table_id"]:
            for route in table["Routes"]:
                if route.get("DestinationCidrBlock") == "0.0.0.0/0":
                    route.pop("GatewayId")
                    route["VpcEndpointId"] = "vpce-0fw"
    igw = healthy["internet_gateway_id"]
    tables.append({"RouteTableId": "rtb-firewall", "VpcId": healthy["vpc_id"],
                   "Associations": [{"SubnetId": firewall_subnet, "AssociationState": {"State": "associated"}}],
                   "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw, "State": "active"}]})  # fmt: skip
    if edge:
        tables.append({"RouteTableId": "rtb-edge", "VpcId": healthy["vpc_id"],
                       "Associations": [{"GatewayId": igw, "AssociationState": {"State": "associated"}}],
                       "Routes": [{"DestinationCidrBlock": cidr, "VpcEndpointId": "vpce-0fw", "State": "active"}
                                  for cidr in ("10.0.1.0/24", "10.0.2.0/24")]})  # fmt: skip
    endpoint = {"VpcEndpointId": "vpce-0fw", "VpcEndpointType": "GatewayLoadBalancer", "VpcId": healthy["vpc_id"],
                "SubnetIds": [firewall_subnet], "State": "available"}  # fmt: skip
    aws_stub("ec2", "DescribeRouteTables", response={"RouteTables": tables})
    aws_stub("ec2", "DescribeVpcEndpoints", response={"VpcEndpoints": [endpoint]})


def test_a_default_route_through_a_network_firewall_is_a_route(healthy, ec2, aws_stub):
    _through_firewall(healthy, ec2, aws_stub, edge=True)

    diagnosis = diagnose(healthy)

    assert (diagnosis.verdict, diagnosis.codes) == ("reachable", []), diagnosis.to_dict()
    route = diagnosis.step("route to the internet")
    assert "0.0.0.0/0 -> vpce-0fw (GatewayLoadBalancer)" in route.detail and "ec2.DescribeVpcEndpoints" in route.calls


def test_a_firewall_without_the_gateways_return_route_is_asymmetric(healthy, ec2, aws_stub):
    _through_firewall(healthy, ec2, aws_stub, edge=False)

    code, data = command(healthy)

    assert (code, data["verdict"]) == (1, "unreachable")
    assert {c["code"] for c in data["root_causes"]} == {Code.FIREWALL_RETURN_ROUTE_MISSING}
    assert "--gateway-id igw-" in data["root_causes"][0]["remediation"]


def test_a_rule_through_a_prefix_list_opens_the_port(healthy, ec2):
    group = healthy["security_group_id"]
    ec2.revoke_security_group_ingress(
        GroupId=group, IpPermissions=[{**OPEN_5000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName="everyone", AddressFamily="IPv4", MaxEntries=2,
        Entries=[{"Cidr": "0.0.0.0/1"}, {"Cidr": "128.0.0.0/1"}],
    )["PrefixList"]["PrefixListId"]  # fmt: skip
    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[{**OPEN_5000, "PrefixListIds": [{"PrefixListId": prefix_list}]}]
    )

    diagnosis = diagnose(healthy)

    assert (diagnosis.verdict, diagnosis.codes) == ("reachable", [])
    assert "ec2.GetManagedPrefixListEntries" in diagnosis.step("security groups").calls


def test_split_cidrs_add_up_and_private_ranges_do_not_count():
    halves = [{"GroupId": "sg-1", "IpPermissions": [
        {**OPEN_5000, "IpRanges": [{"CidrIp": "0.0.0.0/1"}]}, {**OPEN_5000, "IpRanges": [{"CidrIp": "128.0.0.0/1"}]}
    ]}]  # fmt: skip
    public_only = [
        {
            "GroupId": "sg-1",
            "IpPermissions": [
                {
                    **OPEN_5000,
                    "IpRanges": [
                        {"CidrIp": cidr}
                        for cidr in (
                            "0.0.0.0/5",
                            "8.0.0.0/7",
                            "11.0.0.0/8",
                            "12.0.0.0/6",
                            "16.0.0.0/4",
                            "32.0.0.0/3",
                            "64.0.0.0/2",
                            "128.0.0.0/1",
                        )
                    ],
                }
            ],
        }
    ]  # fmt: skip  every address but 10.0.0.0/8: the internet is still all in
    office = [{"GroupId": "sg-1", "IpPermissions": [{**OPEN_5000, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}]}]

    for groups, closed in ((halves, False), (public_only, False), (office, True)):
        found = security_group_findings(group_ids=["sg-1"], security_groups=groups, port=5000, origin={})
        assert bool(found) is closed


# --- 7. a role without the Block Public Access permission ---------------------------------------------


def test_a_missing_block_public_access_permission_is_named_and_can_be_accepted(aws, aws_stub):
    ids = demo.seed_example(running_assign_public_ip="ENABLED")
    aws_stub("ec2", "DescribeVpcBlockPublicAccessOptions", error_code="UnauthorizedOperation", status=403)

    code, data = command(ids)

    assert (code, data["verdict"]) == (2, "unknown")
    [step] = [s for s in data["steps"] if s["name"] == "VPC Block Public Access"]
    assert "missing permission ec2:DescribeVpcBlockPublicAccessOptions" in step["detail"]
    assert "--unknown-ok vpc-block-public-access" in step["detail"]

    code, data = command(ids, "--unknown-ok", "vpc-block-public-access")

    assert (code, data["verdict"]) == (0, "reachable")
    assert [s["status"] for s in data["steps"] if s["name"] == "VPC Block Public Access"] == ["unknown"]


def test_accepting_unknown_steps_never_accepts_a_service_it_cannot_read(aws, aws_stub):
    aws_stub("ecs", "DescribeServices", error_code="AccessDeniedException", status=400)

    assert diagnose({"cluster": "c", "service": "s"}, unknown_ok=["all"]).verdict == "unknown"


def test_its_command_refuses_an_unknown_step_name(aws):
    with pytest.raises(Exception, match="invalid choice"):
        call_command("diagnose_ecs", "--cluster", "c", "--service", "s", "--region", REGION, "--port", "5000",
                     "--unknown-ok", "no-such-step")  # fmt: skip


# --- 7. batched filters -------------------------------------------------------------------------------


def test_it_splits_a_filter_into_calls_of_200_values(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("ec2", region_name=REGION, endpoint_url="https://ec2.us-east-1.amazonaws.com")
    enis = [f"eni-{number:017x}" for number in range(450)]
    with Stubber(client) as stubber:
        for batch in (enis[:200], enis[200:400], enis[400:]):
            stubber.add_response(
                "describe_network_interfaces",
                {"NetworkInterfaces": [{"NetworkInterfaceId": eni} for eni in batch]},
                {"Filters": [{"Name": "network-interface-id", "Values": batch}]},
            )
        calls = AwsCalls(region=REGION, environment=None)
        found = calls.filtered(
            client, "describe_network_interfaces", "NetworkInterfaces", name="network-interface-id", values=enis
        )
        stubber.assert_no_pending_responses()

    assert len(found) == 450
    assert calls.calls == ["ec2.DescribeNetworkInterfaces"] * 3


# --- 6. fixes that do no harm -------------------------------------------------------------------------


def test_it_never_opens_the_vpcs_default_group():
    groups = [{"GroupId": "sg-default", "GroupName": "default", "IpPermissions": []}]

    [cause] = security_group_findings(group_ids=["sg-default"], security_groups=groups, port=5000, origin={})

    assert cause.remediation.startswith("Do not open sg-default: it is the VPC's default group")
    assert "authorize-security-group-ingress --group-id sg-default" not in cause.remediation


def test_it_opens_the_services_own_group_and_says_what_else_uses_it():
    groups = [
        {"GroupId": "sg-default", "GroupName": "default", "IpPermissions": []},
        {"GroupId": "sg-web", "GroupName": "web", "IpPermissions": []},
    ]

    [cause] = security_group_findings(
        group_ids=["sg-default", "sg-web"], security_groups=groups, port=5000, origin={}, clients=Clients.internet()
    )

    assert "--group-id sg-web --protocol tcp --port 5000 --cidr 0.0.0.0/0" in cause.remediation
    assert "every network interface that uses sg-web" in cause.remediation


def test_a_probe_on_another_port_than_the_container_moves_the_probe_not_the_mapping(aws, bpa_off):
    ids = demo.seed_example(running_assign_public_ip="ENABLED", container_port=8080)

    cause = only(diagnose(ids), Code.CONTAINER_PORT_MISMATCH)

    assert "point the probe and clients at 8080" in cause.remediation
    assert "would also need the application to listen on 5000" in cause.remediation


def test_an_answer_of_an_unexpected_shape_makes_its_step_unknown_not_a_crash(healthy, aws_stub):
    aws_stub("ec2", "DescribeSubnets", response={"Subnets": [{"SubnetId": healthy["subnet_ids"][0]}]})  # no VpcId

    diagnosis = diagnose(healthy)

    route = diagnosis.step("route to the internet")
    assert (route.status, route.detail) == ("unknown", "Could not read AWS's answer (KeyError: 'VpcId').")
    assert diagnosis.verdict == "unknown"
    assert diagnosis.step("security groups").status == "ok"  # the other steps still ran
