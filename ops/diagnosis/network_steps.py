"""The walk's steps along the network: the task ENIs, routes, gateways, network ACLs, security groups,
VPC Block Public Access. Each finding is tied to the paths it blocks (see paths.py)."""

from __future__ import annotations

import ipaddress
from typing import Any

from .calls import AwsCallFailed, Skipped, Unknown
from .model import EPHEMERAL_PORTS, Code
from .network import ANYWHERE, block_public_access_findings, endpoint_route_findings, igw_findings, nacl_findings
from .network import route_findings as _route_findings
from .paths import Found, Path
from .rules import public_ip_findings, task_enis
from .security_groups import Clients, security_group_findings

StepResult = tuple[str, list[Any]]


def _keyed(causes, keys) -> list[Found]:
    return [Found(cause, frozenset(keys)) for cause in causes]


class NetworkSteps:
    """Mixed into the walk: reads and refines self.paths."""

    def _front(self) -> list[Path]:
        return [p for p in self.paths if p.tier == "front" and p.subnet]

    def _groups_of(self, paths: list[Path], *fields: str) -> dict[tuple, list[Path]]:
        grouped: dict[tuple, list[Path]] = {}
        for path in paths:
            key = tuple(tuple(v) if isinstance(v, list) else v for v in (getattr(path, f) for f in fields))
            grouped.setdefault(key, []).append(path)
        return grouped

    def step_public_ip(self) -> StepResult:
        if self.task_definition and self.task_definition.get("networkMode") != "awsvpc":
            raise Skipped("Not an awsvpc service.")
        if not self.tasks_read:
            raise Skipped("The tasks could not be read; the next steps check the service's subnets and groups.")
        enis = task_enis(self.running)
        if not enis:
            # Without a task, judge the path a new task would take: the service's subnets and groups.
            raise Skipped("No running task, so no ENI; the next steps check the service's subnets and groups.")
        ec2 = self.client("ec2")
        self.interfaces = self.filtered(
            ec2, "describe_network_interfaces", "NetworkInterfaces", name="network-interface-id", values=list(enis)
        )
        tier = "back" if self.balanced else "front"
        tasks = dict(self.running)
        found_ids = {eni["NetworkInterfaceId"] for eni in self.interfaces}
        task_paths = [
            Path(
                eni["NetworkInterfaceId"],
                eni.get("SubnetId"),
                [g["GroupId"] for g in eni.get("Groups") or []],
                {f"NetworkInterfaces[{index}].Groups": eni.get("Groups") or []},
                tier=tier,
                family="ipv4" if eni.get("PrivateIpAddress") else "ipv6",
                private_ip=eni.get("PrivateIpAddress")
                or next((a.get("Ipv6Address") for a in eni.get("Ipv6Addresses") or []), None),
                task_arn=tasks[enis[eni["NetworkInterfaceId"]]].get("taskArn"),
            )
            for index, eni in enumerate(self.interfaces)
        ]
        task_paths += [Path(eni, None, [], {}, tier=tier) for eni in enis if eni not in found_ids]  # gone
        occupied = {path.subnet for path in task_paths}
        for path in self.paths:
            if path.key.startswith("subnet:"):
                path.now = False  # a subnet no task runs in: the path of a later task
        self.paths = [p for p in self.paths if not (p.key.startswith("subnet:") and p.subnet in occupied)]
        self.paths += task_paths
        shown = ", ".join(
            f"{eni['NetworkInterfaceId']} in {eni.get('SubnetId')}: "
            f"{(eni.get('Association') or {}).get('PublicIp') or 'no public IPv4'}"
            + (f", IPv6 {eni['Ipv6Addresses'][0].get('Ipv6Address')}" if eni.get("Ipv6Addresses") else "")
            for eni in self.interfaces
        )
        if self.balanced:
            exposed = [e["NetworkInterfaceId"] for e in self.interfaces if (e.get("Association") or {}).get("PublicIp")]
            note = (
                f" {len(exposed)} task(s) have one anyway: their group alone decides who reaches them past the "
                "load balancer (assignPublicIp DISABLED closes that)."
                if exposed
                else ""
            )
            return f"Behind a load balancer, the tasks need no public IP. {shown}.{note}", []
        findings: list[Found] = []
        for path in task_paths:
            if path.family == "ipv4":
                one = {path.key: enis[path.key]}
                findings += _keyed(public_ip_findings(one, tasks, self.interfaces), [path.key])
        return shown or "The task ENIs no longer exist.", findings

    def step_routes(self) -> StepResult:
        subnet_ids = sorted({p.subnet for p in self.paths if p.subnet})
        if not subnet_ids:
            raise Skipped("No subnet to check.")
        ec2 = self.client("ec2")
        subnets = self.filtered(ec2, "describe_subnets", "Subnets", name="subnet-id", values=subnet_ids)
        self.subnets = {subnet["SubnetId"]: subnet for subnet in subnets}
        vpc_ids = sorted({subnet["VpcId"] for subnet in subnets})
        self.route_tables = self.filtered(ec2, "describe_route_tables", "RouteTables", name="vpc-id", values=vpc_ids)
        for path in self.paths:
            if (self.subnets.get(path.subnet) or {}).get("Ipv6Native"):
                path.family = "ipv6"
        self._fill_balancer_cidrs()
        findings: list[Found] = []
        lines = []
        for (subnet_id, family), paths in sorted(self._groups_of(self._front(), "subnet", "family").items()):
            subnet = self.subnets.get(subnet_id)
            keys = [p.key for p in paths]
            if subnet is None:
                if any(p.now for p in paths):
                    raise Unknown(f"ec2.DescribeSubnets did not return {subnet_id}: the subnet was deleted.")
                continue
            igw, found, line = self._route_of(subnet, family, paths[0].balancer)
            findings += _keyed(found, keys)
            if igw and not any(c.code == Code.INTERNET_ROUTE_BLACKHOLE for c in found):
                vpc, known = self.gateways.get(igw, (subnet["VpcId"], set()))
                self.gateways[igw] = (vpc, known | set(keys))
            later = "" if any(p.now for p in paths) else " (no task there now)"
            lines.append(f"{subnet_id}{later}: {line}")
        if not lines:
            return "No subnet on an internet-facing path to check (the subnets were read for the next steps).", []
        where = (
            "the load balancer's subnets"
            if self.balanced
            else "the task ENIs"
            if self.interfaces
            else "the service's networkConfiguration"
        )
        return f"From {where}: " + "; ".join(lines) + ".", findings

    def _route_of(self, subnet: dict[str, Any], family: str, balancer: str) -> tuple[str | None, list, str]:
        subnet_id, vpc_id = subnet["SubnetId"], subnet["VpcId"]
        igw, found = _route_findings(
            subnet_id, vpc_id, self.route_tables, family=family, follow_endpoints=True, balancer=balancer
        )
        if igw or found:
            return igw, found, f"{ANYWHERE[family]} -> {igw or 'no internet gateway'}"
        endpoint = self._default_target(subnet_id, vpc_id, family)
        endpoints = self._endpoints([vpc_id])
        return endpoint_route_findings(
            subnet=subnet, endpoint_id=endpoint, endpoints=endpoints, route_tables=self.route_tables
        )

    def step_gateways(self) -> StepResult:
        if not self.gateways:
            raise Skipped("No route to an internet gateway to follow.")
        gateways = self.filtered(
            self.client("ec2"),
            "describe_internet_gateways",
            "InternetGateways",
            name="internet-gateway-id",
            values=list(self.gateways),
        )
        findings: list[Found] = []
        for igw, (vpc, keys) in sorted(self.gateways.items()):
            findings += _keyed(igw_findings(igw, vpc, gateways), keys)
        attached = ", ".join(
            f"{g['InternetGatewayId']} -> "
            + (", ".join(a.get("VpcId", "") for a in g.get("Attachments") or []) or "detached")
            for g in gateways
        )
        return attached or "The gateway does not exist.", findings

    def step_nacls(self) -> StepResult:
        subnet_ids = sorted({p.subnet for p in self.paths if p.subnet})
        if not subnet_ids:
            raise Skipped("No subnet to check.")
        acls = self.filtered(
            self.client("ec2"), "describe_network_acls", "NetworkAcls", name="association.subnet-id", values=subnet_ids
        )
        findings: list[Found] = []
        for (subnet, family), paths in sorted(self._groups_of(self._front(), "subnet", "family").items()):
            found = nacl_findings(acls, subnet_id=subnet, port=self.port, source=ANYWHERE[family])
            findings += _keyed(found, [p.key for p in paths])
        checked = f"inbound TCP {self.port} and outbound {EPHEMERAL_PORTS[0]}-{EPHEMERAL_PORTS[1]} from/to the internet"
        if self.balanced:
            findings += self._back_nacls(acls)
            checked += "; the task subnets from/to the load balancer's subnets"
        return f"{', '.join(sorted({a['NetworkAclId'] for a in acls})) or 'no ACL found'}: {checked}.", findings

    def _back_nacls(self, acls: list[dict[str, Any]]) -> list[Found]:
        findings: list[Found] = []
        back = [p for p in self.paths if p.tier == "back" and p.subnet]
        for (subnet,), paths in sorted(self._groups_of(back, "subnet").items()):
            for balancer in self.balancers:
                for cidr in balancer["cidrs"]:
                    found = nacl_findings(acls, subnet_id=subnet, port=balancer["container_port"], source=cidr)
                    findings += _keyed(found, [p.key for p in paths])
        return findings

    def step_security_groups(self) -> StepResult:
        group_ids = sorted({g for p in self.paths for g in p.groups})
        if not group_ids:
            raise Skipped("No security group to check.")
        ec2 = self.client("ec2")
        groups = self.filtered(ec2, "describe_security_groups", "SecurityGroups", name="group-id", values=group_ids)
        self.security_groups = groups
        prefix_lists = self.prefix_lists = self._prefix_lists(groups)
        findings: list[Found] = []
        front = [p for p in self._front() if p.groups]
        for (ids, family), paths in sorted(self._groups_of(front, "groups", "family").items()):
            found = security_group_findings(
                group_ids=list(ids), security_groups=groups, port=self.port, ipv6=family == "ipv6",
                origin=paths[0].origin, prefix_lists=prefix_lists,
            )  # fmt: skip
            findings += _keyed(found, [p.key for p in paths])
        detail = f"{', '.join(group_ids)}: inbound TCP {self.port} from the internet"
        if self.balanced:
            findings += self._back_groups(groups, prefix_lists)
            detail += "; the tasks' groups from the load balancer"
        return detail + (
            f" (prefix lists {', '.join(sorted(prefix_lists))} read)" if prefix_lists else ""
        ) + ".", findings

    def _back_groups(self, groups: list[dict[str, Any]], prefix_lists: dict[str, list[str]]) -> list[Found]:
        findings: list[Found] = []
        back = [p for p in self.paths if p.tier == "back"]
        for balancer in self.balancers:
            clients = Clients(
                f"the load balancer {balancer['name']}",
                [ipaddress.ip_network(c) for c in balancer["cidrs"]],
                frozenset(balancer["groups"]),
            )
            if balancer.get("client_ips"):  # preserve_client_ip: the packets come from the clients
                clients = Clients(
                    f"the clients of {balancer['name']} (it preserves their IP)", Clients.internet().networks
                )
            for (ids,), paths in sorted(self._groups_of(back, "groups").items()):
                found = security_group_findings(
                    group_ids=list(ids), security_groups=groups, port=balancer["container_port"],
                    origin=paths[0].origin, clients=clients, prefix_lists=prefix_lists,
                    code=Code.SECURITY_GROUP_BLOCKS_LOAD_BALANCER,
                )  # fmt: skip
                findings += _keyed(found, [p.key for p in paths])
        return findings

    def _prefix_lists(self, groups: list[dict[str, Any]]) -> dict[str, list[str]]:
        """The CIDRs of the prefix lists the groups' rules name (a rule through pl-... counts)."""
        ids = sorted(
            {
                ref["PrefixListId"]
                for group in groups
                for permission in group.get("IpPermissions") or []
                for ref in permission.get("PrefixListIds") or []
                if ref.get("PrefixListId")
            }
        )
        ec2 = self.client("ec2")
        return {
            pl: [e["Cidr"] for e in self.pages(ec2, "get_managed_prefix_list_entries", "Entries", PrefixListId=pl)]
            for pl in ids
        }

    def step_block_public_access(self) -> StepResult:
        front = self._front()
        vpc_ids = sorted({(self.subnets.get(p.subnet) or {}).get("VpcId") for p in front} - {None})
        if not vpc_ids:
            raise Skipped("No VPC to check.")
        ec2 = self.client("ec2")
        try:
            options = self.call(ec2, "describe_vpc_block_public_access_options")
        except AwsCallFailed as failed:
            if failed.denied:
                raise Unknown(
                    f"{failed} Without it, Block Public Access (which drops internet traffic at the gateway, "
                    "whatever the routes say) is not checked: add it to the role (docs/iam-policy.md), or accept "
                    "this step unknown with --unknown-ok vpc-block-public-access."
                ) from failed
            raise
        options = options.get("VpcBlockPublicAccessOptions") or {}
        mode = options.get("InternetGatewayBlockMode") or "off"
        if mode == "off":
            return "InternetGatewayBlockMode is off.", []
        exclusions = self.pages(ec2, "describe_vpc_block_public_access_exclusions", "VpcBlockPublicAccessExclusions")
        findings: list[Found] = []
        for path in front:
            vpc_id = (self.subnets.get(path.subnet) or {}).get("VpcId")
            if vpc_id:
                found = block_public_access_findings(options, exclusions, vpc_id=vpc_id, subnet_ids=[path.subnet])
                findings += _keyed(found, [path.key])
        return f"InternetGatewayBlockMode is {mode}; {len(exclusions)} exclusion(s) in the region.", findings
