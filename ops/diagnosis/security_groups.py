"""The security-group rules of the diagnosis: do the groups on an ENI let a kind of client in on a port?

The rules of all the groups on an ENI add up, and so do their sources: 0.0.0.0/1 plus 128.0.0.0/1
opens a port to the internet as surely as 0.0.0.0/0, and so does a prefix list that holds it. So a
source is judged by coverage: the addresses the rules let in (CIDRs, prefix-list entries) must
cover every address of the clients in question (every public IPv4 address for the internet over
IPv4, every global unicast IPv6 address over IPv6, the load balancer's subnets for its nodes), or
the rule must name the client's group (a load balancer's security group).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from .model import Code, RootCause

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Not on the internet: "this network", private, shared (CGNAT), loopback, link-local, multicast, reserved.
_NOT_PUBLIC_V4 = [
    ipaddress.ip_network(cidr)
    for cidr in ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
                 "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4")
]  # fmt: skip


def uncovered(wanted: list[Network], allowed: list[Network]) -> list[Network]:
    """The parts of `wanted` that no network of `allowed` contains."""
    remaining = list(wanted)
    for network in allowed:
        next_remaining: list[Network] = []
        for block in remaining:
            if block.version != network.version or not block.overlaps(network):  # type: ignore[arg-type]
                next_remaining.append(block)
            elif not block.subnet_of(network):  # type: ignore[arg-type]
                next_remaining.extend(block.address_exclude(network))  # type: ignore[arg-type]
        remaining = next_remaining
    return remaining


def _public_v4() -> list[Network]:
    return uncovered([ipaddress.ip_network("0.0.0.0/0")], _NOT_PUBLIC_V4)


@dataclass(frozen=True)
class Clients:
    """Who must get in: addresses to cover, or groups a rule may name instead."""

    label: str  # "the internet over IPv4", "the load balancer lb-1"
    networks: list[Network]
    groups: frozenset[str] = field(default_factory=frozenset)
    cidr: str = "0.0.0.0/0"  # what a fix opens

    @classmethod
    def internet(cls, family: str = "ipv4") -> Clients:
        if family == "ipv6":
            return cls("the internet over IPv6 (::/0)", [ipaddress.ip_network("2000::/3")], cidr="::/0")
        return cls("the internet over IPv4 (0.0.0.0/0)", _public_v4())


def _opens_port(permission: dict[str, Any], port: int) -> bool:
    protocol = str(permission.get("IpProtocol"))
    if protocol not in ("-1", "tcp", "6"):
        return False
    return protocol == "-1" or permission.get("FromPort", 0) <= port <= permission.get("ToPort", 65535)


def _sources(permission: dict[str, Any], prefix_lists: dict[str, list[str]]) -> list[Network]:
    cidrs = [r.get("CidrIp") for r in permission.get("IpRanges") or []]
    cidrs += [r.get("CidrIpv6") for r in permission.get("Ipv6Ranges") or []]
    for reference in permission.get("PrefixListIds") or []:
        cidrs += prefix_lists.get(reference.get("PrefixListId", ""), [])
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs if cidr]


def admits(
    groups: list[dict[str, Any]], *, port: int, clients: Clients, prefix_lists: dict[str, list[str]] | None = None
) -> bool:
    """Do these groups' inbound rules, added up, let every one of `clients` in on TCP `port`?"""
    allowed: list[Network] = []
    for group in groups:
        for permission in group.get("IpPermissions") or []:
            if not _opens_port(permission, port):
                continue
            named = {pair.get("GroupId") for pair in permission.get("UserIdGroupPairs") or []}
            if clients.groups and clients.groups <= named:
                return True
            allowed += _sources(permission, prefix_lists or {})
    return not uncovered(clients.networks, allowed)


def security_group_findings(
    *,
    group_ids: list[str],
    security_groups: list[dict[str, Any]],
    port: int,
    ipv6: bool = False,
    origin: dict[str, Any],
    clients: Clients | None = None,
    prefix_lists: dict[str, list[str]] | None = None,
    code: str = Code.SECURITY_GROUP_PORT_CLOSED,
) -> list[RootCause]:
    """The groups on the ENI (their rules add up) must let `clients` in on TCP `port` (default: the
    internet over IPv4, or over IPv6 for an IPv6-only task: a ::/0 rule lets no IPv4 client in).

    A group checked by hand is often not the one on the ENI (omitted groups mean the VPC's default
    group), hence `origin`: where the group ids were read, as evidence.
    """
    clients = clients or Clients.internet("ipv6" if ipv6 else "ipv4")
    by_id = {group["GroupId"]: (index, group) for index, group in enumerate(security_groups)}
    present = [by_id[g][1] for g in group_ids if g in by_id]
    if present and admits(present, port=port, clients=clients, prefix_lists=prefix_lists):
        return []
    evidence = dict(origin)
    for group_id in group_ids:
        if group_id not in by_id:
            evidence[f"SecurityGroups[?GroupId=='{group_id}']"] = []
            continue
        index, group = by_id[group_id]
        evidence[f"SecurityGroups[{index}].GroupId"] = group_id
        evidence[f"SecurityGroups[{index}].GroupName"] = group.get("GroupName")
        evidence[f"SecurityGroups[{index}].IpPermissions"] = group.get("IpPermissions") or []
    for pl_id, cidrs in sorted((prefix_lists or {}).items()):
        evidence[f"ec2.GetManagedPrefixListEntries({pl_id}).Entries[].Cidr"] = cidrs
    return [
        RootCause(
            code,
            f"None of the security groups on the task ({', '.join(group_ids) or 'none'}) lets {clients.label} "
            f"in on TCP {port}.",
            evidence,
            _remedy([by_id[g][1] if g in by_id else {"GroupId": g} for g in group_ids], port, clients),
        )
    ]


def _remedy(groups: list[dict[str, Any]], port: int, clients: Clients) -> str:
    """Open the port on the service's own group; never on the VPC's default group, which everything
    launched without a group shares."""
    source = f"--source-group {sorted(clients.groups)[0]}" if clients.groups else f"--cidr {clients.cidr}"
    if clients.cidr == "::/0" and not clients.groups:
        source = f"--ip-permissions 'IpProtocol=tcp,FromPort={port},ToPort={port},Ipv6Ranges=[{{CidrIpv6=::/0}}]'"
    own = [g for g in groups if g.get("GroupName") != "default"]
    if own:
        group_id = own[0]["GroupId"]
        ports = "" if "--ip-permissions" in source else f" --protocol tcp --port {port}"
        return (
            f"aws ec2 authorize-security-group-ingress --group-id {group_id}{ports} {source}. It opens the port "
            f"on every network interface that uses {group_id}, not only this service's tasks."
        )
    default = groups[0].get("GroupId", "<sg>") if groups else "<sg>"
    return (
        f"Do not open {default}: it is the VPC's default group, shared by everything launched without a group. "
        f"Create a group for this service (aws ec2 create-security-group), allow TCP {port} there ({source}), "
        "and put it in the service's networkConfiguration (aws ecs update-service; it takes effect on the "
        "service's new tasks only)."
    )
