"""VPC network checks: subnet and VPC attributes, the route to the internet, security groups, NACLs.

Every type asks EC2 once per group (and per page, and per 200 ids, the most values one filter
takes), never once per check. Resources are selected with filters (`subnet-id`, `group-id`,
`association.subnet-id`...) rather than id lists: with `SubnetIds=[...]` AWS fails the whole call
when one id does not exist, while a filter simply leaves it out, so one deleted subnet makes its
own check ERROR (InvalidSubnetID.NotFound) and the rest of the group is still answered, in the same
single call. `vpc_attribute` is the exception: `describe_vpc_attribute` has no batch form, so it
makes one call per (VPC, attribute).

Which route table applies and whether its route reaches an attached internet gateway is judged by
the ECS reachability diagnosis's own rules (`ops.diagnosis`), so a check and a diagnosis never
disagree; NACL entries and security group permissions by `.rules`, which generalise the
diagnosis's TCP-from-anywhere rules to the protocol and CIDR a check names.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError

from .base import CallLog, CheckType, ClientFor, Observation, Target, aws_error, chunks, register
from .rules import (
    GROUP_ID,
    PROTOCOLS,
    SUBNET_ID,
    VPC_ID,
    Params,
    expected_bool,
    jsonable,
    nacl_decision,
    sg_ingress_match,
)

FILTER_VALUES = 200  # the most values EC2 takes in one filter


def _by_filter(
    client, calls: CallLog, operation: str, filter_name: str, values: list[str], result_key: str
) -> tuple[list[dict[str, Any]], dict[str, Observation]]:
    """Everything `operation` returns for these filter values, and an ERROR per value whose call failed."""
    items: list[dict[str, Any]] = []
    failed: dict[str, Observation] = {}
    name = "ec2." + "".join(part.capitalize() for part in operation.split("_"))
    for batch in chunks(sorted(set(values)), FILTER_VALUES):
        try:
            for page in calls.pages(client, operation, Filters=[{"Name": filter_name, "Values": batch}]):
                items.extend(page.get(result_key, []))
        except (ClientError, BotoCoreError) as error:
            observation = aws_error(error, name)
            failed.update({value: observation for value in batch})
    return items, failed


def _not_found(code: str, operation: str, what: str) -> Observation:
    return Observation.error(code, f"{operation}: {what} does not exist.")


# --- subnet attribute -----------------------------------------------------------------------------


@functools.cache
def subnet_attributes() -> dict[str, str]:
    """Attribute path -> botocore type, for every scalar a Subnet has (one level into structures)."""
    import botocore.session  # here, not at the top: see ops/checks/generic.py's _botocore

    shape = botocore.session.get_session().get_service_model("ec2").shape_for("Subnet")
    found: dict[str, str] = {}
    for name, member in shape.members.items():
        if member.type_name in ("boolean", "integer", "string"):
            found[name] = member.type_name
        elif member.type_name == "structure":
            for inner, inner_member in member.members.items():
                if inner_member.type_name in ("boolean", "integer", "string"):
                    found[f"{name}.{inner}"] = inner_member.type_name
    return found


def _lookup(item: dict[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@register
class SubnetAttribute(CheckType):
    code = "subnet_attribute"
    label = "Subnet attribute"
    help = (
        "params: subnet_id, attribute (as describe_subnets names it: MapPublicIpOnLaunch, "
        "AssignIpv6AddressOnCreation, Ipv6Native, PrivateDnsNameOptionsOnLaunch.HostnameType...). "
        "expected: its value. One describe_subnets per group."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["subnet_id", "attribute"])
        p.text("subnet_id", pattern=SUBNET_ID, hint="a subnet id (subnet-...)")
        attribute = p.text("attribute", choices=subnet_attributes(), max_length=100)
        cleaned = p.done()
        kind = subnet_attributes()[attribute]
        if kind == "boolean":
            return cleaned, expected_bool(expected)
        if kind == "integer":
            if isinstance(expected, str) and expected.strip().isdigit():
                expected = int(expected)
            if isinstance(expected, bool) or not isinstance(expected, int):
                raise ValidationError({"expected": f"{attribute} is a number."})
            return cleaned, expected
        if not isinstance(expected, str) or not expected:
            raise ValidationError({"expected": f"{attribute} is text; say which value is expected."})
        return cleaned, expected

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        ids = [target.params["subnet_id"] for target in targets]
        subnets, failed = _by_filter(client_for("ec2"), calls, "describe_subnets", "subnet-id", ids, "Subnets")
        by_id = {subnet["SubnetId"]: subnet for subnet in subnets}
        observations = {}
        for target in targets:
            subnet_id, attribute = target.params["subnet_id"], target.params["attribute"]
            subnet = by_id.get(subnet_id)
            if subnet_id in failed:
                observations[target.id] = failed[subnet_id]
            elif subnet is None:
                observations[target.id] = _not_found(
                    "InvalidSubnetID.NotFound", "ec2.DescribeSubnets", f"subnet {subnet_id}"
                )
            else:
                observed = jsonable(_lookup(subnet, attribute))
                evidence = {"SubnetId": subnet_id, "VpcId": subnet.get("VpcId"), attribute: observed}
                message = "" if observed is not None else f"DescribeSubnets did not return {attribute}."
                observations[target.id] = Observation.judged(observed, target.expected, evidence, message)
        return observations


# --- VPC attribute --------------------------------------------------------------------------------

VPC_ATTRIBUTES = ("enableDnsHostnames", "enableDnsSupport", "enableNetworkAddressUsageMetrics")


@register
class VpcAttribute(CheckType):
    """One describe_vpc_attribute per (VPC, attribute): the API takes one VPC and one attribute, no batch form."""

    code = "vpc_attribute"
    label = "VPC attribute"
    help = (
        "params: vpc_id, attribute (enableDnsHostnames, enableDnsSupport or enableNetworkAddressUsageMetrics). "
        "expected: true or false. One call per VPC and attribute (the API has no batch form)."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["vpc_id", "attribute"])
        p.text("vpc_id", pattern=VPC_ID, hint="a VPC id (vpc-...)")
        p.text("attribute", choices=VPC_ATTRIBUTES)
        return p.done(), expected_bool(expected)

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        client = client_for("ec2")
        pairs: dict[tuple[str, str], list[Target]] = defaultdict(list)
        for target in targets:
            pairs[(target.params["vpc_id"], target.params["attribute"])].append(target)
        observations = {}
        for (vpc_id, attribute), members in pairs.items():
            try:
                answer = calls.call(client, "describe_vpc_attribute", VpcId=vpc_id, Attribute=attribute)
            except (ClientError, BotoCoreError) as error:
                failed = aws_error(error, "ec2.DescribeVpcAttribute")
                observations.update({target.id: failed for target in members})
                continue
            key = attribute[0].upper() + attribute[1:]
            observed = (answer.get(key) or {}).get("Value")
            evidence = {"VpcId": vpc_id, f"{key}.Value": observed}
            for target in members:
                observations[target.id] = Observation.judged(observed, target.expected, evidence)
        return observations


# --- route to the internet ------------------------------------------------------------------------


@register
class SubnetInternetRoute(CheckType):
    """Whether the route table that really applies to a subnet (its explicit association, else
    its VPC's main table) has an active 0.0.0.0/0 route to an internet gateway attached to the VPC.

    Per group: one describe_subnets (for the VPC ids), one describe_route_tables filtered by those
    VPCs, and one describe_internet_gateways for the gateways the routes name (none if no route does).
    """

    code = "subnet_internet_route"
    label = "Subnet routes to the internet"
    help = (
        "params: subnet_id. expected: true (default) or false. True when the route table that applies "
        "(explicit association, else the VPC's main table) has an active 0.0.0.0/0 route to an attached igw-."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["subnet_id"])
        p.text("subnet_id", pattern=SUBNET_ID, hint="a subnet id (subnet-...)")
        return p.done(), expected_bool(expected, default=True)

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        client = client_for("ec2")
        ids = [target.params["subnet_id"] for target in targets]
        subnets, failed = _by_filter(client, calls, "describe_subnets", "subnet-id", ids, "Subnets")
        vpc_of = {subnet["SubnetId"]: subnet["VpcId"] for subnet in subnets}
        tables, tables_failed = _by_filter(
            client, calls, "describe_route_tables", "vpc-id", list(set(vpc_of.values())), "RouteTables"
        )
        # The diagnosis's rules: which table applies, and a gateway to look at when its route is sound.
        # (ops.diagnosis brings boto3: imported when a check runs, not when the type registers.)
        from ops.diagnosis import igw_findings, route_findings

        routed = {subnet_id: route_findings(subnet_id, vpc_id, tables) for subnet_id, vpc_id in vpc_of.items()}
        gateway_ids = sorted({igw for igw, findings in routed.values() if igw and not findings})
        gateways: list[dict[str, Any]] = []
        gateways_failed: dict[str, Observation] = {}
        if gateway_ids:
            gateways, gateways_failed = _by_filter(
                client, calls, "describe_internet_gateways", "internet-gateway-id", gateway_ids, "InternetGateways"
            )

        observations: dict[int, Observation] = {}
        for target in targets:
            subnet_id = target.params["subnet_id"]
            if subnet_id in failed:
                observations[target.id] = failed[subnet_id]
                continue
            if subnet_id not in vpc_of:
                observations[target.id] = _not_found(
                    "InvalidSubnetID.NotFound", "ec2.DescribeSubnets", f"subnet {subnet_id}"
                )
                continue
            vpc_id = vpc_of[subnet_id]
            if vpc_id in tables_failed:
                observations[target.id] = tables_failed[vpc_id]
                continue
            igw_id, findings = routed[subnet_id]
            if igw_id in gateways_failed:
                observations[target.id] = gateways_failed[igw_id]
                continue
            if igw_id and not findings:
                findings = igw_findings(igw_id, vpc_id, gateways)
            evidence = _route_evidence(subnet_id, vpc_id, tables, gateways, igw_id)
            message = " ".join(finding.summary for finding in findings)
            observations[target.id] = Observation.judged(not findings, target.expected, evidence, message)
        return observations


def _route_evidence(
    subnet_id: str, vpc_id: str, tables: list[dict[str, Any]], gateways: list[dict[str, Any]], igw_id: str | None
) -> dict[str, Any]:
    """The route table that applies, how (explicit or main), its 0.0.0.0/0 route and the gateway's attachments."""
    from ops.diagnosis import applied_route_table

    applied = applied_route_table(subnet_id, vpc_id, tables)
    evidence: dict[str, Any] = {"SubnetId": subnet_id, "VpcId": vpc_id}
    if applied.table is None:
        evidence["RouteTableId"] = None
        return evidence
    evidence["RouteTableId"] = applied.table.get("RouteTableId")
    evidence["Association"] = applied.association
    route = next((r for r in applied.table.get("Routes") or [] if r.get("DestinationCidrBlock") == "0.0.0.0/0"), None)
    evidence["Route"] = None if route is None else {k: v for k, v in route.items() if k != "Origin"}
    gateway = next((g for g in gateways if igw_id and g.get("InternetGatewayId") == igw_id), None)
    if gateway is not None:
        evidence["InternetGateway.Attachments"] = gateway.get("Attachments") or []
    return evidence


# --- security group ingress -----------------------------------------------------------------------


def _port_params(p: Params) -> None:
    p.integer("port", minimum=0, maximum=65535)
    p.text("protocol", choices=PROTOCOLS, required=False, default="tcp")


@register
class SecurityGroupIngress(CheckType):
    code = "security_group_ingress"
    label = "Security group allows a port"
    help = (
        "params: group_id, port, protocol (tcp or udp, default tcp), source (CIDR, default 0.0.0.0/0). "
        "expected: true (default) or false. Prefix lists and group sources count as no match."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["group_id", "port", "protocol", "source"])
        p.text("group_id", pattern=GROUP_ID, hint="a security group id (sg-...)")
        _port_params(p)
        p.network("source", required=False, default="0.0.0.0/0")
        return p.done(), expected_bool(expected, default=True)

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        ids = [target.params["group_id"] for target in targets]
        groups, failed = _by_filter(
            client_for("ec2"), calls, "describe_security_groups", "group-id", ids, "SecurityGroups"
        )
        by_id = {group["GroupId"]: group for group in groups}
        observations = {}
        for target in targets:
            p = target.params
            group = by_id.get(p["group_id"])
            if p["group_id"] in failed:
                observations[target.id] = failed[p["group_id"]]
                continue
            if group is None:
                observations[target.id] = _not_found(
                    "InvalidGroup.NotFound", "ec2.DescribeSecurityGroups", f"security group {p['group_id']}"
                )
                continue
            rule, notes = sg_ingress_match(
                group.get("IpPermissions") or [], port=p["port"], protocol=p["protocol"], source=p["source"]
            )
            evidence: dict[str, Any] = {"GroupId": group["GroupId"], "VpcId": group.get("VpcId")}
            if rule is not None:
                evidence["IpPermissions (matching)"] = rule
                message = ""
            else:
                evidence["IpPermissions"] = len(group.get("IpPermissions") or [])
                message = f"No ingress rule lets {p['source']} in on {p['protocol']}/{p['port']}."
                if notes:
                    message += " Not counted: " + "; ".join(notes) + "."
            observations[target.id] = Observation.judged(rule is not None, target.expected, evidence, message)
        return observations


# --- network ACL ----------------------------------------------------------------------------------


def _acl_by_subnet(acls: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a.get("SubnetId"): acl for acl in acls for a in acl.get("Associations") or []}


def _acls_by_vpc(
    client, calls: CallLog, subnet_ids: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Observation], set[str]]:
    """The NACLs of these subnets' VPCs, for subnets the association filter did not return: which
    subnets exist (describe_subnets), then their VPCs' ACLs by `vpc-id`."""
    subnets, failed = _by_filter(client, calls, "describe_subnets", "subnet-id", subnet_ids, "Subnets")
    vpc_of = {subnet["SubnetId"]: subnet["VpcId"] for subnet in subnets}
    if not vpc_of:
        return [], failed, set()
    acls, acls_failed = _by_filter(
        client, calls, "describe_network_acls", "vpc-id", sorted(set(vpc_of.values())), "NetworkAcls"
    )
    failed.update({subnet_id: acls_failed[vpc] for subnet_id, vpc in vpc_of.items() if vpc in acls_failed})
    return acls, failed, set(vpc_of)


@register
class NaclAllowsPort(CheckType):
    """The NACL associated with each subnet (every subnet has exactly one), judged lowest rule first.

    One describe_network_acls filtered by `association.subnet-id` for the whole group. A subnet
    that answer leaves out is looked up again: describe_subnets (on AWS it then does not exist: one
    more call, and the check is ERROR InvalidSubnetID.NotFound), and if it does exist its VPC's
    ACLs by `vpc-id`. That second step never happens on AWS; it is for moto, whose filters on a
    list-valued field (an ACL's associations) with several values match only when one set contains
    the other, not when they merely intersect, so a group's call can miss a subnet that exists.
    At most three calls per group.
    """

    code = "nacl_allows_port"
    label = "Network ACL allows a port"
    help = (
        "params: subnet_id, port, protocol (tcp or udp, default tcp), direction (ingress or egress, default "
        "ingress), cidr (the peer, default 0.0.0.0/0). expected: true (default) or false. The lowest-numbered "
        "matching rule of the subnet's NACL decides. For replies, check egress on the ephemeral ports too."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["subnet_id", "port", "protocol", "direction", "cidr"])
        p.text("subnet_id", pattern=SUBNET_ID, hint="a subnet id (subnet-...)")
        _port_params(p)
        p.text("direction", choices=("ingress", "egress"), required=False, default="ingress")
        p.network("cidr", required=False, default="0.0.0.0/0")
        return p.done(), expected_bool(expected, default=True)

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        client = client_for("ec2")
        ids = sorted({target.params["subnet_id"] for target in targets})
        acls, failed = _by_filter(client, calls, "describe_network_acls", "association.subnet-id", ids, "NetworkAcls")
        acl_of = _acl_by_subnet(acls)
        unseen = [subnet_id for subnet_id in ids if subnet_id not in acl_of and subnet_id not in failed]
        existing: set[str] = set()
        if unseen:
            acls, failed_again, existing = _acls_by_vpc(client, calls, unseen)
            acl_of.update({k: v for k, v in _acl_by_subnet(acls).items() if k in unseen})
            failed.update(failed_again)
        observations = {}
        for target in targets:
            p = target.params
            acl = acl_of.get(p["subnet_id"])
            if p["subnet_id"] in failed:
                observations[target.id] = failed[p["subnet_id"]]
                continue
            if acl is None and p["subnet_id"] in existing:
                observations[target.id] = Observation.error(
                    "NoNetworkAcl", f"ec2.DescribeNetworkAcls: no network ACL is associated with {p['subnet_id']}."
                )
                continue
            if acl is None:
                observations[target.id] = _not_found(
                    "InvalidSubnetID.NotFound", "ec2.DescribeSubnets", f"subnet {p['subnet_id']}"
                )
                continue
            egress = p["direction"] == "egress"
            _, entry = nacl_decision(
                acl.get("Entries") or [], egress=egress, port=p["port"], protocol=p["protocol"], cidr=p["cidr"]
            )
            allowed = entry is not None and entry.get("RuleAction") == "allow"
            evidence = {
                "SubnetId": p["subnet_id"],
                "NetworkAclId": acl.get("NetworkAclId"),
                "IsDefault": acl.get("IsDefault"),
                "Entry": entry,
            }
            way = f"{p['direction']} {p['protocol']}/{p['port']} {'to' if egress else 'from'} {p['cidr']}"
            if entry is None:
                message = f"No entry of {acl.get('NetworkAclId')} matches {way}: the final * rule denies it."
            else:
                verb = "allows" if allowed else "denies"
                message = f"Rule {entry.get('RuleNumber')} of {acl.get('NetworkAclId')} {verb} {way}."
            observations[target.id] = Observation.judged(allowed, target.expected, evidence, message)
        return observations
