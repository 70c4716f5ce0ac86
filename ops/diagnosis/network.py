"""The rules of the diagnosis about the network path: the route table that applies, the internet
gateway, network ACLs, security groups, VPC Block Public Access. Responses in, root causes out."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from .model import (
    ACTIVE_EXCLUSION_STATES,
    EPHEMERAL_PORTS,
    Code,
    RootCause,
)

# --- the rules: describe responses in, findings out ----------------------------------------------


@dataclass(frozen=True)
class AppliedRouteTable:
    """The route table that really applies to a subnet, and why (which association)."""

    index: int | None  # in the DescribeRouteTables response; None when the VPC has none at all
    table: dict[str, Any] | None
    association: str  # "explicit" | "main"
    evidence: dict[str, Any]


def applied_route_table(subnet_id: str, vpc_id: str, route_tables: list[dict[str, Any]]) -> AppliedRouteTable:
    """The explicit association wins; else the main table of *this* VPC (an account has one per VPC)."""
    for index, table in enumerate(route_tables):
        for position, association in enumerate(table.get("Associations") or []):
            state = (association.get("AssociationState") or {}).get("State", "associated")
            if association.get("SubnetId") == subnet_id and state == "associated":
                evidence = {f"RouteTables[{index}].Associations[{position}].SubnetId": subnet_id}
                return AppliedRouteTable(index, table, "explicit", evidence)
    for index, table in enumerate(route_tables):
        if table.get("VpcId") != vpc_id:
            continue
        for position, association in enumerate(table.get("Associations") or []):
            if association.get("Main"):
                evidence = {f"RouteTables[{index}].Associations[{position}].Main": True}
                return AppliedRouteTable(index, table, "main", evidence)
    return AppliedRouteTable(None, None, "main", {f"RouteTables[?VpcId=='{vpc_id}']": []})


def route_findings(
    subnet_id: str, vpc_id: str, route_tables: list[dict[str, Any]]
) -> tuple[str | None, list[RootCause]]:
    """An active 0.0.0.0/0 route to an igw- in the table that applies; returns (that igw id, findings)."""
    applied = applied_route_table(subnet_id, vpc_id, route_tables)
    remedy = (
        f"Give {subnet_id} a route table with 0.0.0.0/0 -> an internet gateway attached to {vpc_id} "
        "(aws ec2 create-route --route-table-id <rtb> --destination-cidr-block 0.0.0.0/0 --gateway-id <igw>, "
        "and associate-route-table for the subnet), or run the tasks in a public subnet."
    )
    if applied.table is None:
        return None, [
            RootCause(
                Code.SUBNET_NO_INTERNET_ROUTE, f"{vpc_id} has no route table for {subnet_id}.", applied.evidence, remedy
            )
        ]
    base = f"RouteTables[{applied.index}]"
    evidence = {f"{base}.RouteTableId": applied.table.get("RouteTableId"), **applied.evidence}
    routes = applied.table.get("Routes") or []
    default = next(
        ((i, route) for i, route in enumerate(routes) if route.get("DestinationCidrBlock") == "0.0.0.0/0"), None
    )
    if default is None:
        evidence[f"{base}.Routes"] = routes
        return None, [
            RootCause(
                Code.SUBNET_NO_INTERNET_ROUTE,
                f"The route table {applied.table.get('RouteTableId')} ({applied.association} association) of "
                f"{subnet_id} has no 0.0.0.0/0 route: the subnet is private.",
                evidence,
                remedy,
            )
        ]
    position, route = default
    evidence[f"{base}.Routes[{position}]"] = route
    target = route.get("GatewayId") or ""
    if not target.startswith("igw-"):
        via = next((route[key] for key in sorted(route) if key.endswith("Id") and route[key]), "nothing")
        return None, [
            RootCause(
                Code.SUBNET_NO_INTERNET_ROUTE,
                f"0.0.0.0/0 in {applied.table.get('RouteTableId')} goes to {via}, not to an internet gateway: "
                "outbound traffic may leave, but nothing from the internet can come in.",
                evidence,
                remedy,
            )
        ]
    if route.get("State") == "blackhole":
        return target, [
            RootCause(
                Code.INTERNET_ROUTE_BLACKHOLE,
                f"0.0.0.0/0 -> {target} in {applied.table.get('RouteTableId')} is a blackhole: the gateway was "
                "deleted or detached.",
                evidence,
                f"Attach an internet gateway to {vpc_id} and replace the route "
                f"(aws ec2 replace-route --route-table-id {applied.table.get('RouteTableId')} "
                "--destination-cidr-block 0.0.0.0/0 --gateway-id <attached igw>).",
            )
        ]
    return target, []


def igw_findings(igw_id: str, vpc_id: str, internet_gateways: list[dict[str, Any]]) -> list[RootCause]:
    """The internet gateway the route names must be attached to the subnet's VPC ("available" = attached)."""
    remedy = f"aws ec2 attach-internet-gateway --internet-gateway-id {igw_id} --vpc-id {vpc_id}"
    for index, gateway in enumerate(internet_gateways):
        if gateway.get("InternetGatewayId") != igw_id:
            continue
        attachments = gateway.get("Attachments") or []
        if any(a.get("VpcId") == vpc_id and a.get("State") in ("available", "attached") for a in attachments):
            return []
        return [
            RootCause(
                Code.IGW_NOT_ATTACHED,
                f"The route goes to {igw_id}, which is not attached to {vpc_id}.",
                {
                    f"InternetGateways[{index}].InternetGatewayId": igw_id,
                    f"InternetGateways[{index}].Attachments": attachments,
                },
                remedy,
            )
        ]
    return [
        RootCause(
            Code.IGW_NOT_ATTACHED,
            f"The route goes to {igw_id}, which does not exist any more.",
            {f"InternetGateways[?InternetGatewayId=='{igw_id}']": []},
            f"Create an internet gateway, attach it to {vpc_id} and point 0.0.0.0/0 at it.",
        )
    ]


def _entry_matches(entry: dict[str, Any], *, egress: bool, port: int) -> bool:
    """Does this NACL entry apply to TCP traffic on `port` from/to any internet address?

    Only entries whose CIDR is 0.0.0.0/0 decide for an arbitrary client: a narrower allow lets in
    some clients only, a narrower deny shuts out some only, and neither answers "from the internet".
    """
    if bool(entry.get("Egress")) != egress or not entry.get("CidrBlock"):
        return False
    if ipaddress.ip_network(entry["CidrBlock"], strict=False).prefixlen != 0:
        return False
    protocol = str(entry.get("Protocol"))
    if protocol == "-1":
        return True
    if protocol not in ("6", "tcp"):
        return False
    ports = entry.get("PortRange") or {}
    return ports.get("From", 0) <= port <= ports.get("To", 65535)


def nacl_decision(
    entries: list[dict[str, Any]], *, egress: bool, port: int
) -> tuple[int | None, dict[str, Any] | None]:
    """The entry that decides (lowest rule number that matches wins); (None, None) means the implicit deny."""
    ordered = sorted(enumerate(entries), key=lambda pair: pair[1].get("RuleNumber", 0))
    for index, entry in ordered:
        if _entry_matches(entry, egress=egress, port=port):
            return index, entry
    return None, None


def _denied_port_ranges(entries: list[dict[str, Any]], low: int, high: int) -> list[tuple[int, int, int | None]]:
    """(from, to, deciding entry index) for each stretch of [low, high] that the outbound rules deny.

    The decision can only change where a rule's port range starts or ends, so judging the first
    port of each stretch between those bounds is exact (no need to try 64,512 ports).
    """
    bounds = {low}
    for entry in entries:
        ports = entry.get("PortRange")
        if not ports:
            continue
        for edge in (ports.get("From", 0), ports.get("To", 65535) + 1):
            if low < edge <= high:
                bounds.add(edge)
    starts = sorted(bounds)
    denied: list[tuple[int, int, int | None]] = []
    for position, start in enumerate(starts):
        end = starts[position + 1] - 1 if position + 1 < len(starts) else high
        index, entry = nacl_decision(entries, egress=True, port=start)
        if entry is not None and entry.get("RuleAction") == "allow":
            continue
        if denied and denied[-1][1] == start - 1 and denied[-1][2] == index:
            denied[-1] = (denied[-1][0], end, index)
        else:
            denied.append((start, end, index))
    return denied


def _acl_of(network_acls: list[dict[str, Any]], subnet_id: str) -> tuple[int, int, dict[str, Any]] | None:
    """(index of the ACL, index of its association, the ACL) for the subnet; a subnet has exactly one."""
    for index, acl in enumerate(network_acls):
        for position, association in enumerate(acl.get("Associations") or []):
            if association.get("SubnetId") == subnet_id:
                return index, position, acl
    return None


def nacl_findings(network_acls: list[dict[str, Any]], *, subnet_id: str, port: int) -> list[RootCause]:
    """NACLs are stateless: the port must be allowed in, and the clients' ephemeral ports out."""
    found = _acl_of(network_acls, subnet_id)
    if found is None:
        return []  # the response holds no ACL for the subnet: nothing to judge
    index, position, acl = found
    acl_id = acl.get("NetworkAclId")
    entries = acl.get("Entries") or []
    base = f"NetworkAcls[{index}]"
    identity = {f"{base}.NetworkAclId": acl_id, f"{base}.Associations[{position}].SubnetId": subnet_id}
    findings = []
    entry_index, entry = nacl_decision(entries, egress=False, port=port)
    if entry is None or entry.get("RuleAction") != "allow":
        evidence = dict(identity)
        if entry is None:
            evidence[f"{base}.Entries[?Egress==`false`]"] = [e for e in entries if not e.get("Egress")]
        else:
            evidence[f"{base}.Entries[{entry_index}]"] = entry
        rule = f"rule {entry.get('RuleNumber')}" if entry else "the implicit deny (*)"
        findings.append(
            RootCause(
                Code.NACL_BLOCKS_INGRESS,
                f"The network ACL {acl_id} of {subnet_id} denies inbound TCP {port} from 0.0.0.0/0 ({rule}).",
                evidence,
                f"Add an inbound allow for TCP {port} from 0.0.0.0/0 with a rule number below the deny "
                f"(aws ec2 create-network-acl-entry --network-acl-id {acl_id} --ingress --rule-number <n> "
                f"--protocol tcp --port-range From={port},To={port} --cidr-block 0.0.0.0/0 --rule-action allow).",
            )
        )
    low, high = EPHEMERAL_PORTS
    denied = _denied_port_ranges(entries, low, high)
    if denied:
        evidence = dict(identity)
        for _, _, deciding in denied:
            if deciding is None:
                evidence[f"{base}.Entries[?Egress==`true`]"] = [e for e in entries if e.get("Egress")]
            else:
                evidence[f"{base}.Entries[{deciding}]"] = entries[deciding]
        ranges = ", ".join(f"{start}-{end}" if start != end else str(start) for start, end, _ in denied)
        findings.append(
            RootCause(
                Code.NACL_BLOCKS_EGRESS,
                f"The network ACL {acl_id} of {subnet_id} denies outbound TCP {ranges} to 0.0.0.0/0: NACLs are "
                "stateless, so replies to clients' ephemeral ports are dropped.",
                evidence,
                f"Allow outbound TCP {low}-{high} to 0.0.0.0/0 with a rule number below the deny "
                f"(aws ec2 create-network-acl-entry --network-acl-id {acl_id} --egress --rule-number <n> "
                f"--protocol tcp --port-range From={low},To={high} --cidr-block 0.0.0.0/0 --rule-action allow).",
            )
        )
    return findings


def _permission_opens(permission: dict[str, Any], *, port: int, ipv6: bool) -> bool:
    protocol = str(permission.get("IpProtocol"))
    if protocol not in ("-1", "tcp", "6"):
        return False
    if protocol != "-1" and not (permission.get("FromPort", 0) <= port <= permission.get("ToPort", 65535)):
        return False
    if any(r.get("CidrIp") == "0.0.0.0/0" for r in permission.get("IpRanges") or []):
        return True
    return ipv6 and any(r.get("CidrIpv6") == "::/0" for r in permission.get("Ipv6Ranges") or [])


def security_group_findings(
    *, group_ids: list[str], security_groups: list[dict[str, Any]], port: int, ipv6: bool, origin: dict[str, Any]
) -> list[RootCause]:
    """The groups on the ENI (their rules add up) must open TCP `port` to 0.0.0.0/0 (or ::/0 for an IPv6 ENI).

    A group checked by hand is often not the one on the ENI (omitted groups mean the VPC's default
    group), hence `origin`: where the group ids were read, as evidence.
    """
    by_id = {group["GroupId"]: (index, group) for index, group in enumerate(security_groups)}
    evidence = dict(origin)
    for group_id in group_ids:
        if group_id not in by_id:
            evidence[f"SecurityGroups[?GroupId=='{group_id}']"] = []
            continue
        index, group = by_id[group_id]
        if any(_permission_opens(p, port=port, ipv6=ipv6) for p in group.get("IpPermissions") or []):
            return []
        evidence[f"SecurityGroups[{index}].GroupId"] = group_id
        evidence[f"SecurityGroups[{index}].IpPermissions"] = group.get("IpPermissions") or []
    sources = "0.0.0.0/0 or ::/0" if ipv6 else "0.0.0.0/0"
    return [
        RootCause(
            Code.SECURITY_GROUP_PORT_CLOSED,
            f"None of the security groups on the task ({', '.join(group_ids) or 'none'}) allows inbound TCP {port} "
            f"from {sources}.",
            evidence,
            f"aws ec2 authorize-security-group-ingress --group-id {group_ids[0] if group_ids else '<sg>'} "
            f"--protocol tcp --port {port} --cidr 0.0.0.0/0 "
            "(or allow the load balancer's group if one fronts the service).",
        )
    ]


def block_public_access_findings(
    options: dict[str, Any], exclusions: list[dict[str, Any]], *, vpc_id: str, subnet_ids: list[str]
) -> list[RootCause]:
    """VPC Block Public Access drops internet traffic through the IGW at the account/region level.

    Both "block-bidirectional" and "block-ingress" stop inbound traffic; only an active
    "allow-bidirectional" exclusion on the VPC, or on every subnet in question, lets it in (and only
    when the account allows exclusions). Nothing in the VPC, subnet or service shows it, which is
    why a tracker can find every setting "correct" and the service still unreachable.
    """
    mode = options.get("InternetGatewayBlockMode") or "off"
    if mode == "off":
        return []
    evidence: dict[str, Any] = {"VpcBlockPublicAccessOptions.InternetGatewayBlockMode": mode}
    if options.get("ExclusionsAllowed") == "not-allowed":
        evidence["VpcBlockPublicAccessOptions.ExclusionsAllowed"] = "not-allowed"
        opened: set[str] = set()
    else:
        opened = set()
        for index, exclusion in enumerate(exclusions):
            resource = (exclusion.get("ResourceArn") or "").rsplit("/", 1)[-1]
            if resource not in {vpc_id, *subnet_ids}:
                continue
            evidence[f"VpcBlockPublicAccessExclusions[{index}]"] = {
                key: exclusion.get(key)
                for key in ("ExclusionId", "ResourceArn", "InternetGatewayExclusionMode", "State")
            }
            if (
                exclusion.get("InternetGatewayExclusionMode") == "allow-bidirectional"
                and exclusion.get("State") in ACTIVE_EXCLUSION_STATES
            ):
                opened.add(resource)
    if vpc_id in opened or (subnet_ids and set(subnet_ids) <= opened):
        return []
    managed = " (managed by a declarative policy)" if options.get("ManagedBy") == "declarative-policy" else ""
    return [
        RootCause(
            Code.VPC_BLOCK_PUBLIC_ACCESS,
            f"VPC Block Public Access is {mode} in this region{managed} and {vpc_id} has no allow-bidirectional "
            "exclusion: the internet gateway drops inbound traffic, whatever the routes and groups say.",
            evidence,
            f"aws ec2 create-vpc-block-public-access-exclusion --vpc-id {vpc_id} "
            "--internet-gateway-exclusion-mode allow-bidirectional (or turn the block off with "
            "modify-vpc-block-public-access-options --internet-gateway-block-mode off).",
        )
    ]
