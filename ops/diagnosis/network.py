"""The rules of the diagnosis about the network path: the route table that applies, the internet
gateway, network ACLs, security groups, VPC Block Public Access. Responses in, root causes out."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Literal

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


Family = Literal["ipv4", "ipv6"]
ANYWHERE = {"ipv4": "0.0.0.0/0", "ipv6": "::/0"}
_DESTINATION = {"ipv4": "DestinationCidrBlock", "ipv6": "DestinationIpv6CidrBlock"}


def default_route(
    applied: AppliedRouteTable, family: Family = "ipv4"
) -> tuple[int, dict[str, Any]] | tuple[None, None]:
    """(position, route) of the table's default route for the family (0.0.0.0/0 or ::/0)."""
    for position, route in enumerate((applied.table or {}).get("Routes") or []):
        if route.get(_DESTINATION[family]) == ANYWHERE[family]:
            return position, route
    return None, None


def route_target(route: dict[str, Any]) -> str:
    """Where a route goes: its gateway, NAT gateway, endpoint, interface... (the first *Id with a value)."""
    if route.get("GatewayId"):
        return route["GatewayId"]
    return next((route[key] for key in sorted(route) if key.endswith("Id") and route[key]), "nothing")


def shared_with(table: dict[str, Any] | None, subnet_id: str) -> list[str]:
    """The other subnets a route table is explicitly associated with: what a change to it also changes."""
    return sorted(
        a["SubnetId"] for a in (table or {}).get("Associations") or [] if a.get("SubnetId") not in (None, subnet_id)
    )


def _no_route_remedy(
    subnet_id: str, vpc_id: str, applied: AppliedRouteTable, route: dict[str, Any] | None, balancer: str = ""
) -> str:
    """The least change: never turn a possibly shared private route table public."""
    table_id = (applied.table or {}).get("RouteTableId", "<rtb>")
    others = shared_with(applied.table, subnet_id)
    target = route_target(route) if route else ""
    if target.startswith(("nat-", "tgw-", "eni-", "pcx-", "eigw-")) or applied.association == "main" or others:
        affects = (
            "it is the VPC's main route table, used by every subnet without its own"
            if applied.association == "main"
            else f"it also serves {', '.join(others)}"
            if others
            else "other workloads in the subnet rely on its default route"
        )
        if balancer:
            return (
                f"Do not add an internet route to {table_id}: {subnet_id} is private by design ({affects}; "
                f"0.0.0.0/0 -> {target or 'none'}). Least change: give {balancer} a public subnet in this "
                "Availability Zone instead (aws elbv2 set-subnets; it moves only the load balancer's node)."
            )
        return (
            f"Do not add an internet route to {table_id}: {subnet_id} is private by design ({affects}; "
            f"0.0.0.0/0 -> {target or 'none'}). Least change: take {subnet_id} out of this service's subnets "
            "(aws ecs update-service --network-configuration with the public subnets only; it affects this "
            "service's new tasks only), or keep the tasks private behind an internet-facing load balancer "
            "in public subnets."
        )
    return (
        f"{table_id} serves {subnet_id} only: add 0.0.0.0/0 -> an internet gateway attached to {vpc_id} "
        f"(aws ec2 create-route --route-table-id {table_id} --destination-cidr-block 0.0.0.0/0 --gateway-id <igw>); "
        "it changes the routing of this subnet only."
    )


def route_findings(
    subnet_id: str,
    vpc_id: str,
    route_tables: list[dict[str, Any]],
    *,
    family: Family = "ipv4",
    follow_endpoints: bool = False,
    balancer: str = "",
) -> tuple[str | None, list[RootCause]]:
    """An active default route (0.0.0.0/0, or ::/0 for IPv6) to an igw- in the table that applies;
    returns (that igw id, findings). A route to a vpce- (Network Firewall, Gateway Load Balancer
    endpoint) is followed by the walk (`endpoint_route_findings`), not judged here."""
    applied = applied_route_table(subnet_id, vpc_id, route_tables)
    anywhere = ANYWHERE[family]
    if applied.table is None:
        remedy = _no_route_remedy(subnet_id, vpc_id, applied, None, balancer)
        return None, [
            RootCause(
                Code.SUBNET_NO_INTERNET_ROUTE, f"{vpc_id} has no route table for {subnet_id}.", applied.evidence, remedy
            )
        ]
    base = f"RouteTables[{applied.index}]"
    table_id = applied.table.get("RouteTableId")
    evidence = {f"{base}.RouteTableId": table_id, **applied.evidence}
    position, route = default_route(applied, family)
    if route is None:
        evidence[f"{base}.Routes"] = applied.table.get("Routes") or []
        summary = (
            f"The route table {table_id} ({applied.association} association) of {subnet_id} has no {anywhere} "
            "route: the subnet is private" + (" for IPv6." if family == "ipv6" else ".")
        )
        remedy = _no_route_remedy(subnet_id, vpc_id, applied, None, balancer)
        return None, [RootCause(Code.SUBNET_NO_INTERNET_ROUTE, summary, evidence, remedy)]
    evidence[f"{base}.Routes[{position}]"] = route
    target = route_target(route)
    if target.startswith("vpce-") and follow_endpoints:
        return None, []  # an inspection endpoint: the walk follows it to the internet gateway behind it
    if not target.startswith("igw-"):
        kind = "an egress-only internet gateway (outbound only)" if target.startswith("eigw-") else target
        return None, [
            RootCause(
                Code.SUBNET_NO_INTERNET_ROUTE,
                f"{anywhere} in {table_id} goes to {kind}, not to an internet gateway: "
                "outbound traffic may leave, but nothing from the internet can come in.",
                evidence,
                _no_route_remedy(subnet_id, vpc_id, applied, route, balancer),
            )
        ]
    if route.get("State") == "blackhole":
        return target, [_blackhole(subnet_id, vpc_id, applied, target, anywhere, evidence)]
    return target, []


def _blackhole(
    subnet_id: str, vpc_id: str, applied: AppliedRouteTable, target: str, anywhere: str, evidence: dict[str, Any]
) -> RootCause:
    table_id = (applied.table or {}).get("RouteTableId")
    return RootCause(
        Code.INTERNET_ROUTE_BLACKHOLE,
        f"{anywhere} -> {target} in {table_id} is a blackhole: the gateway was deleted or detached.",
        evidence,
        f"Attach an internet gateway to {vpc_id} and replace the route "
        f"(aws ec2 replace-route --route-table-id {table_id} "
        f"--destination-cidr-block {anywhere} --gateway-id <attached igw>); the route table also serves "
        f"{', '.join(shared_with(applied.table, subnet_id)) or 'no other subnet'}.",
    )


def endpoint_route_findings(
    *,
    subnet: dict[str, Any],
    endpoint_id: str,
    endpoints: list[dict[str, Any]],
    route_tables: list[dict[str, Any]],
) -> tuple[str | None, list[RootCause], str]:
    """0.0.0.0/0 -> a Network Firewall or Gateway Load Balancer endpoint is a route, through inspection.

    The way in must come back the same way: the internet gateway needs an edge route table
    (associated with the gateway) that sends the subnet's CIDR to an endpoint, or the stateful
    firewall sees only half of each connection and drops it. Returns (the igw behind the endpoint,
    findings, a line for the step). The firewall's own rules are not read.
    """
    subnet_id, vpc_id, cidr = subnet["SubnetId"], subnet["VpcId"], subnet.get("CidrBlock")
    found = next(((i, e) for i, e in enumerate(endpoints) if e.get("VpcEndpointId") == endpoint_id), None)
    if found is None:
        return None, [], f"0.0.0.0/0 -> {endpoint_id}, an endpoint DescribeVpcEndpoints does not list (not followed)"
    index, endpoint = found
    behind = [s for s in endpoint.get("SubnetIds") or [] if s != subnet_id]
    igw = None
    for endpoint_subnet in behind:
        igw, problems = route_findings(endpoint_subnet, vpc_id, route_tables)
        if igw and not problems:
            break
    line = f"0.0.0.0/0 -> {endpoint_id} ({endpoint.get('VpcEndpointType')}) in {', '.join(behind) or '?'}"
    if not igw:
        evidence = {f"VpcEndpoints[{index}].VpcEndpointId": endpoint_id, f"VpcEndpoints[{index}].SubnetIds": behind}
        cause = RootCause(
            Code.SUBNET_NO_INTERNET_ROUTE,
            f"0.0.0.0/0 of {subnet_id} goes to the inspection endpoint {endpoint_id}, whose own subnet "
            f"({', '.join(behind) or 'unknown'}) has no route to an internet gateway.",
            evidence,
            f"Route 0.0.0.0/0 of the endpoint's subnet to the internet gateway of {vpc_id}; it changes the "
            "path of every subnet inspected through that endpoint.",
        )
        return None, [cause], line
    return igw, _return_route_findings(subnet_id, cidr, igw, route_tables), f"{line} -> {igw}"


def _return_route_findings(
    subnet_id: str, cidr: str | None, igw: str, route_tables: list[dict[str, Any]]
) -> list[RootCause]:
    """The internet gateway's edge route table must send the subnet's CIDR back through an endpoint."""
    for index, table in enumerate(route_tables):
        if not any(a.get("GatewayId") == igw for a in table.get("Associations") or []):
            continue
        for route in table.get("Routes") or []:
            covers = _contains(route.get("DestinationCidrBlock"), cidr)
            if covers and str(route.get("VpcEndpointId") or "").startswith("vpce-"):
                return []
        evidence = {
            f"RouteTables[{index}].RouteTableId": table.get("RouteTableId"),
            f"RouteTables[{index}].Routes": table.get("Routes"),
        }
        break
    else:
        evidence = {f"RouteTables[?Associations[?GatewayId=='{igw}']]": []}
    return [
        RootCause(
            Code.FIREWALL_RETURN_ROUTE_MISSING,
            f"{subnet_id} leaves through an inspection endpoint, but traffic from the internet to it "
            f"({cidr}) enters through {igw} without one: the stateful firewall sees half of each "
            "connection and drops it (asymmetric routing).",
            evidence,
            f"Give {igw} an edge route table (aws ec2 associate-route-table --gateway-id {igw}) with "
            f"{cidr} -> the same firewall endpoint; it changes only traffic entering for that CIDR.",
        )
    ]


def _contains(outer: str | None, inner: str | None) -> bool:
    if not outer or not inner:
        return False
    a, b = ipaddress.ip_network(outer, strict=False), ipaddress.ip_network(inner, strict=False)
    return a.version == b.version and b.subnet_of(a)  # type: ignore[arg-type]


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


def _entry_matches(entry: dict[str, Any], *, egress: bool, port: int, source: Network) -> bool:
    """Does this NACL entry apply to TCP traffic on `port` from/to every address of `source`?

    For the internet (0.0.0.0/0, ::/0) only a /0 entry decides for an arbitrary client: a narrower
    allow lets in some clients only, a narrower deny shuts out some only. IPv6 entries
    (Ipv6CidrBlock) judge IPv6 traffic only, and IPv4 entries IPv4 traffic.
    """
    if bool(entry.get("Egress")) != egress:
        return False
    cidr = entry.get("CidrBlock") if source.version == 4 else entry.get("Ipv6CidrBlock")
    if not cidr or not source.subnet_of(ipaddress.ip_network(cidr, strict=False)):  # type: ignore[arg-type]
        return False
    protocol = str(entry.get("Protocol"))
    if protocol == "-1":
        return True
    if protocol not in ("6", "tcp"):
        return False
    ports = entry.get("PortRange") or {}
    return ports.get("From", 0) <= port <= ports.get("To", 65535)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
INTERNET_V4 = ipaddress.ip_network("0.0.0.0/0")


def nacl_decision(
    entries: list[dict[str, Any]], *, egress: bool, port: int, source: Network = INTERNET_V4
) -> tuple[int | None, dict[str, Any] | None]:
    """The entry that decides (lowest rule number that matches wins); (None, None) means the implicit deny."""
    ordered = sorted(enumerate(entries), key=lambda pair: pair[1].get("RuleNumber", 0))
    for index, entry in ordered:
        if _entry_matches(entry, egress=egress, port=port, source=source):
            return index, entry
    return None, None


def _denied_port_ranges(
    entries: list[dict[str, Any]], low: int, high: int, source: Network
) -> list[tuple[int, int, int | None]]:
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
        index, entry = nacl_decision(entries, egress=True, port=start, source=source)
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


def _acl_scope(acl: dict[str, Any], subnet_id: str) -> str:
    others = sorted({a.get("SubnetId") for a in acl.get("Associations") or []} - {subnet_id, None})
    shared = f"it also guards {', '.join(others)}" if others else f"it guards {subnet_id} only"
    return f"{shared}{'; it is the VPC default ACL' if acl.get('IsDefault') else ''}"


def nacl_findings(
    network_acls: list[dict[str, Any]], *, subnet_id: str, port: int, source: str = "0.0.0.0/0"
) -> list[RootCause]:
    """NACLs are stateless: the port must be allowed in from `source`, and its ephemeral ports out."""
    found = _acl_of(network_acls, subnet_id)
    if found is None:
        return []  # the response holds no ACL for the subnet: nothing to judge
    network = ipaddress.ip_network(source, strict=False)
    index, position, acl = found
    acl_id = acl.get("NetworkAclId")
    entries = acl.get("Entries") or []
    base = f"NetworkAcls[{index}]"
    identity = {f"{base}.NetworkAclId": acl_id, f"{base}.Associations[{position}].SubnetId": subnet_id}
    cidr_flag = "--ipv6-cidr-block" if network.version == 6 else "--cidr-block"
    scope = _acl_scope(acl, subnet_id)
    findings = []
    entry_index, entry = nacl_decision(entries, egress=False, port=port, source=network)
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
                f"The network ACL {acl_id} of {subnet_id} denies inbound TCP {port} from {source} ({rule}).",
                evidence,
                f"Add an inbound allow for TCP {port} from {source} with a rule number below the deny "
                f"(aws ec2 create-network-acl-entry --network-acl-id {acl_id} --ingress --rule-number <n> "
                f"--protocol tcp --port-range From={port},To={port} {cidr_flag} {source} --rule-action allow); "
                f"{scope}.",
            )
        )
    low, high = EPHEMERAL_PORTS
    denied = _denied_port_ranges(entries, low, high, network)
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
                f"The network ACL {acl_id} of {subnet_id} denies outbound TCP {ranges} to {source}: NACLs are "
                "stateless, so replies to clients' ephemeral ports are dropped.",
                evidence,
                f"Allow outbound TCP {low}-{high} to {source} with a rule number below the deny "
                f"(aws ec2 create-network-acl-entry --network-acl-id {acl_id} --egress --rule-number <n> "
                f"--protocol tcp --port-range From={low},To={high} {cidr_flag} {source} --rule-action allow); "
                f"{scope}.",
            )
        )
    return findings


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
