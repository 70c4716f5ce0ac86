"""The walk's steps for a service behind a load balancer, and the way out to the registry for tasks
that never start."""

from __future__ import annotations

from typing import Any

from .balancer import (
    forwards_to,
    listener_findings,
    load_balancer_findings,
    registration_findings,
    target_group_findings,
    target_health_findings,
)
from .calls import AwsCallFailed, Skipped
from .network import applied_route_table, default_route, route_target
from .paths import Found, Path
from .rules import awsvpc
from .starts import egress_findings, registry_endpoints, registry_path_findings

StepResult = tuple[str, list[Any]]


class BalancerSteps:
    """Mixed into the walk: fills self.balancers, self.target_groups and the load balancer's paths."""

    def step_load_balancer(self) -> StepResult:
        if not self.balanced:
            raise Skipped("Not behind a load balancer: clients reach the tasks directly.")
        elbv2 = self.client("elbv2")
        wanted = [lb["targetGroupArn"] for lb in self.balanced]
        self.target_groups = self._target_groups(elbv2, wanted)
        findings: list[Any] = target_group_findings(
            wanted, self.target_groups, cluster=self.cluster, service=self.service_name
        )
        arns = sorted({arn for tg in self.target_groups for arn in tg.get("LoadBalancerArns") or []})
        balancers = self.call(elbv2, "describe_load_balancers", LoadBalancerArns=arns)["LoadBalancers"] if arns else []
        lines = []
        for index, balancer in enumerate(balancers):
            self.listener_ports = []
            findings += self._balancer(elbv2, index, balancer)
            listening = f", listeners on {sorted(set(self.listener_ports))}" if self.listener_ports else ""
            lines.append(
                f"{balancer.get('LoadBalancerName')} ({balancer.get('Type')}, {balancer.get('Scheme')}, "
                f"{(balancer.get('State') or {}).get('Code')}{listening}, subnets "
                f"{', '.join(z.get('SubnetId', '') for z in balancer.get('AvailabilityZones') or [])})"
            )
        if not any(b["public"] for b in self.balancers):
            self.out_of_scope = (
                "No internet-facing load balancer fronts the service: it is reached from inside the network or "
                "through something in front of an internal load balancer (API Gateway VPC link, CloudFront VPC "
                "origin, Global Accelerator), which this diagnosis does not read."
            )
            lines.append(self.out_of_scope)
        return "; ".join(lines) or "The target groups belong to no load balancer.", findings

    def _target_groups(self, elbv2, wanted: list[str]) -> list[dict[str, Any]]:
        try:
            return self.call(elbv2, "describe_target_groups", TargetGroupArns=wanted)["TargetGroups"]
        except AwsCallFailed as failed:
            if failed.code != "TargetGroupNotFound" or len(wanted) == 1:
                if failed.code == "TargetGroupNotFound":
                    return []
                raise
        groups = []  # one missing fails the whole call: ask for each
        for arn in wanted:
            try:
                groups += self.call(elbv2, "describe_target_groups", TargetGroupArns=[arn])["TargetGroups"]
            except AwsCallFailed as failed:
                if failed.code != "TargetGroupNotFound":
                    raise
        return groups

    def _balancer(self, elbv2, index: int, balancer: dict[str, Any]) -> list[Found]:
        name, arn = balancer.get("LoadBalancerName", ""), balancer.get("LoadBalancerArn")
        public = balancer.get("Scheme") == "internet-facing" and balancer.get("Type") in ("application", "network")
        subnets = [zone["SubnetId"] for zone in balancer.get("AvailabilityZones") or [] if zone.get("SubnetId")]
        groups = balancer.get("SecurityGroups") or []
        keys = [f"lb:{name}:{subnet}" for subnet in subnets]
        findings = [Found(c, frozenset(keys)) for c in load_balancer_findings(index, balancer)]
        for lb in self.balanced:
            group = next((g for g in self.target_groups if g["TargetGroupArn"] == lb["targetGroupArn"]), None)
            if group is None or arn not in (group.get("LoadBalancerArns") or []):
                continue
            self.balancers.append(
                {"name": name, "public": public, "subnets": subnets, "groups": groups, "cidrs": [],
                 "container_port": lb.get("containerPort"), "target_group": group,
                 "client_ips": balancer.get("Type") == "network" and self._preserves_client_ip(elbv2, group)}
            )  # fmt: skip
            if not public:
                continue
            listeners = self.pages(elbv2, "describe_listeners", "Listeners", LoadBalancerArn=arn)
            rules = {}
            for listener in listeners:
                forwards = forwards_to(listener.get("DefaultActions") or [], group["TargetGroupArn"])
                if listener.get("Port") == self.port and balancer.get("Type") == "application" and not forwards:
                    rules[listener["ListenerArn"]] = self.call(
                        elbv2, "describe_rules", ListenerArn=listener["ListenerArn"]
                    ).get("Rules", [])
            found = listener_findings(
                balancer, listeners, rules, port=self.port, target_group_arn=group["TargetGroupArn"]
            )
            findings += [Found(c, frozenset(keys)) for c in found]
            self.listener_ports += [listener.get("Port") for listener in listeners]
        if public:
            origin = {f"LoadBalancers[{index}].SecurityGroups": groups}
            for key, subnet in zip(keys, subnets, strict=True):
                self.paths.append(Path(key, subnet, groups, origin, tier="front", balancer=name))
        return findings

    def _preserves_client_ip(self, elbv2, group: dict[str, Any]) -> bool:
        """An NLB that keeps the client's address hands the task packets from the internet, not from its
        own nodes: the task's group must then let the clients in (off by default for TCP to ip targets)."""
        answer = self.call(elbv2, "describe_target_group_attributes", TargetGroupArn=group["TargetGroupArn"])
        attributes = {a.get("Key"): a.get("Value") for a in answer.get("Attributes") or []}
        return attributes.get("preserve_client_ip.enabled") == "true"

    def step_target_health(self) -> StepResult:
        if not self.balancers:
            raise Skipped("No load balancer target group to look at.")
        elbv2 = self.client("elbv2")
        running = {p.private_ip: p for p in self.paths if p.tier == "back" and p.now and p.private_ip}
        self._fill_balancer_cidrs()
        findings: list[Found] = []
        lines = []
        seen: set[str] = set()
        for balancer in self.balancers:
            group = balancer["target_group"]
            if group["TargetGroupArn"] in seen:
                continue
            seen.add(group["TargetGroupArn"])
            health = self.call(elbv2, "describe_target_health", TargetGroupArn=group["TargetGroupArn"])
            health = health.get("TargetHealthDescriptions") or []
            position = next(i for i, g in enumerate(self.target_groups) if g is group)
            healthy, found = target_health_findings(group, health, container_ports=self.container_ports, index=position)
            sick = {h["Target"]["Id"] for h in health} - set(healthy)
            keys = None if not healthy else frozenset(running[ip].key for ip in sick if ip in running)
            findings += [Found(c, keys) for c in found]
            missing, found = registration_findings(group, health, {ip: p.task_arn for ip, p in running.items()})
            findings += [Found(c, frozenset(running[ip].key for ip in missing)) for c in found]
            lines.append(f"{group.get('TargetGroupName')}: {len(healthy)} of {len(health)} healthy")
        return "; ".join(lines) + ".", findings

    def _fill_balancer_cidrs(self) -> None:
        for balancer in self.balancers:
            balancer["cidrs"] = [
                self.subnets[s]["CidrBlock"] for s in balancer["subnets"] if self.subnets.get(s, {}).get("CidrBlock")
            ]

    def _endpoints(self, vpc_ids: list[str]) -> list[dict[str, Any]]:
        missing = [vpc for vpc in vpc_ids if vpc not in self.endpoints]
        if missing:
            found = self.filtered(
                self.client("ec2"), "describe_vpc_endpoints", "VpcEndpoints", name="vpc-id", values=missing
            )
            for vpc in missing:
                self.endpoints[vpc] = [e for e in found if e.get("VpcId") == vpc]
        return [e for vpc in vpc_ids for e in self.endpoints.get(vpc, [])]

    def _default_target(self, subnet_id: str, vpc_id: str, family: str = "ipv4") -> str | None:
        applied = applied_route_table(subnet_id, vpc_id, self.route_tables)
        _, route = default_route(applied, family)  # type: ignore[arg-type]
        return route_target(route) if route else None

    def step_registry(self) -> StepResult:
        if not any(stop.kind == "network" for stop in self.stops):
            raise Skipped("No task stopped for want of a network path.")
        if self.ec2_capacity:
            raise Skipped("On EC2 capacity the instance, not the task ENI, pulls the image.")
        primary = next((d for d in self.service.get("deployments") or [] if d.get("status") == "PRIMARY"), {})
        conf = awsvpc(primary.get("networkConfiguration")) or awsvpc(self.service.get("networkConfiguration")) or {}
        tasks = [p for p in self.paths if not p.key.startswith("lb:") and p.subnet in self.subnets]
        if not tasks:
            raise Skipped("The tasks' subnets were not read.")
        vpc_ids = sorted({self.subnets[p.subnet]["VpcId"] for p in tasks})
        endpoints = registry_endpoints(self._endpoints(vpc_ids), self.region)
        by_target: dict[str | None, list[Path]] = {}
        for path in tasks:
            target = self._default_target(path.subnet, self.subnets[path.subnet]["VpcId"])
            by_target.setdefault(target, []).append(path)
        findings: list[Found] = []
        lines = []
        public_ip = conf.get("assignPublicIp", "DISABLED")
        for target, paths in by_target.items():
            subnets = ", ".join(sorted({p.subnet for p in paths}))
            found = registry_path_findings(
                subnet_id=subnets, assign_public_ip=public_ip, default_target=target, endpoints=endpoints,
                origin={"services[0].deployments[PRIMARY].networkConfiguration.awsvpcConfiguration.assignPublicIp":
                        public_ip},
            )  # fmt: skip
            if not found:
                found = egress_findings(
                    subnets=subnets, group_ids=conf.get("securityGroups") or [],
                    security_groups=self.security_groups, prefix_lists=self.prefix_lists,
                )  # fmt: skip
            findings += [Found(c, frozenset(p.key for p in paths)) for c in found]
            lines.append(f"{subnets}: 0.0.0.0/0 -> {target or 'none'}")
        shown = ", ".join(f"{k} {v}" for k, v in sorted(endpoints.items())) or "no ECR endpoints"
        return f"{'; '.join(lines)}; {shown}; assignPublicIp {conf.get('assignPublicIp', 'DISABLED')}.", findings
