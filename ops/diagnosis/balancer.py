"""The rules of the diagnosis for a service behind a load balancer (ALB or NLB, target type ip).

Clients reach the load balancer, not the tasks: the public path is client -> the load balancer
(internet-facing scheme, a listener on the port, its subnets' routes and ACLs, its security groups)
-> the target group -> healthy targets -> the task's port and security group. The tasks need no
public IP and may sit in private subnets; telling the team to give them one, or to open their group
to 0.0.0.0/0, would expose them past the load balancer. An internal load balancer is reached from
inside the network, or through something in front of it (API Gateway VPC link, CloudFront VPC
origin, Global Accelerator) that this diagnosis does not read: that verdict is "out of scope".
"""

from __future__ import annotations

from typing import Any

from .model import Code, RootCause


def forwards_to(actions: list[dict[str, Any]], target_group_arn: str) -> bool:
    for action in actions or []:
        if action.get("Type") != "forward":
            continue
        if action.get("TargetGroupArn") == target_group_arn:
            return True
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if any(g.get("TargetGroupArn") == target_group_arn and g.get("Weight", 1) for g in groups):
            return True
    return False


def target_group_findings(
    wanted: list[str], target_groups: list[dict[str, Any]], *, cluster: str, service: str
) -> list[RootCause]:
    """Each target group of the service exists and belongs to a load balancer."""
    by_arn = {group["TargetGroupArn"]: (index, group) for index, group in enumerate(target_groups)}
    findings = []
    for position, arn in enumerate(wanted):
        if arn in by_arn and by_arn[arn][1].get("LoadBalancerArns"):
            continue
        evidence: dict[str, Any] = {f"services[0].loadBalancers[{position}].targetGroupArn": arn}
        if arn in by_arn:
            evidence[f"TargetGroups[{by_arn[arn][0]}].LoadBalancerArns"] = []
            summary = f"The target group {arn.rsplit('/', 2)[-2]} belongs to no load balancer: nothing sends to it."
        else:
            evidence[f"TargetGroups[?TargetGroupArn=='{arn}']"] = []
            summary = f"The service's target group {arn} no longer exists."
        findings.append(
            RootCause(
                Code.TARGET_GROUP_NOT_ATTACHED,
                summary,
                evidence,
                "Forward a listener of the load balancer to this target group (aws elbv2 modify-listener "
                "--default-actions Type=forward,TargetGroupArn=...; it changes what that listener serves), or "
                f"point {service} in {cluster} at the target group the listener uses.",
            )
        )
    return findings


def load_balancer_findings(index: int, balancer: dict[str, Any]) -> list[RootCause]:
    state = (balancer.get("State") or {}).get("Code", "active")
    if state == "active":
        return []
    return [
        RootCause(
            Code.LOAD_BALANCER_NOT_ACTIVE,
            f"The load balancer {balancer.get('LoadBalancerName')} is {state}: "
            f"{(balancer.get('State') or {}).get('Reason', 'it does not route traffic')}.",
            {f"LoadBalancers[{index}].State": balancer.get("State")},
            "Wait for provisioning to finish; if it failed, the reason names the subnet or quota to fix.",
        )
    ]


def listener_findings(
    balancer: dict[str, Any],
    listeners: list[dict[str, Any]],
    rules: dict[str, list[dict[str, Any]]],
    *,
    port: int,
    target_group_arn: str,
) -> list[RootCause]:
    """A listener on the client's port that forwards (by default or in a rule) to the service's target group.
    `rules` maps a listener ARN to its rules, for the listeners whose default action does not forward."""
    name = balancer.get("LoadBalancerName")
    on_port = [(i, listener) for i, listener in enumerate(listeners) if listener.get("Port") == port]
    if not on_port:
        return [
            RootCause(
                Code.LOAD_BALANCER_NO_LISTENER,
                f"{name} has no listener on port {port} (it listens on "
                f"{', '.join(str(item.get('Port')) for item in listeners) or 'nothing'}).",
                {"Listeners[].Port": [item.get("Port") for item in listeners]},
                f"Clients should use a port {name} listens on; or add a listener on {port} forwarding to the "
                "service's target group (aws elbv2 create-listener --load-balancer-arn "
                f"{balancer.get('LoadBalancerArn')} "
                f"--port {port} ...; it adds a way in and changes nothing else), and open {port} in the load "
                "balancer's security group.",
            )
        ]
    for _, listener in on_port:
        if forwards_to(listener.get("DefaultActions") or [], target_group_arn):
            return []
        if any(
            forwards_to(rule.get("Actions") or [], target_group_arn) for rule in rules.get(listener["ListenerArn"], [])
        ):
            return []
    index, listener = on_port[0]
    return [
        RootCause(
            Code.LISTENER_NOT_FORWARDING,
            f"The listener on port {port} of {name} does not forward to the service's target group, by default "
            "or in any rule.",
            {
                f"Listeners[{index}].ListenerArn": listener.get("ListenerArn"),
                f"Listeners[{index}].DefaultActions": listener.get("DefaultActions"),
                "Rules[].Actions": [r.get("Actions") for r in rules.get(listener.get("ListenerArn"), [])],
            },
            f"Add a rule to the listener that forwards the service's requests to {target_group_arn} "
            "(aws elbv2 create-rule; it changes only the requests it matches).",
        )
    ]


_HEALTH_ADVICE = {
    "Target.Timeout": "the health check got no answer: the task's security group or NACL drops the load "
    "balancer, or nothing listens on the port",
    "Target.ResponseCodeMismatch": "the application answers the health check path with another status",
    "Target.FailedHealthChecks": "the application failed its health checks",
    "Target.NotInUse": "the task runs in an Availability Zone the load balancer does not have enabled",
    "Target.NotRegistered": "the task is not registered",
    "Target.DeregistrationInProgress": "the task is being drained",
    "Elb.InitialHealthChecking": "health checks have not passed yet",
}


def target_health_findings(
    target_group: dict[str, Any], health: list[dict[str, Any]], *, container_ports: list[int], index: int = 0
) -> tuple[list[str], list[RootCause]]:
    """(the healthy target ids, findings) for one target group. A probe on another port than the
    container serves is fixed on the probe (the target group's health check), not the mapping."""
    healthy = [h["Target"]["Id"] for h in health if (h.get("TargetHealth") or {}).get("State") == "healthy"]
    sick = [
        (i, h)
        for i, h in enumerate(health)
        if (h.get("TargetHealth") or {}).get("State") not in ("healthy", "draining")
    ]
    if not sick:
        return healthy, []
    evidence: dict[str, Any] = {f"TargetHealthDescriptions[{i}]": h for i, h in sick}
    reasons = sorted({(h.get("TargetHealth") or {}).get("Reason") or "?" for _, h in sick})
    probe = target_group.get("HealthCheckPort") or "traffic-port"
    evidence[f"TargetGroups[{index}].HealthCheckPort"] = probe
    if probe.isdigit() and container_ports and int(probe) not in container_ports:
        remedy = (
            f"The health check probes port {probe} but the container serves on "
            f"{', '.join(map(str, container_ports))}: aws elbv2 modify-target-group --target-group-arn "
            f"{target_group.get('TargetGroupArn')} --health-check-port traffic-port (it changes only this "
            "target group's health checks; do not remap the container)."
        )
    elif "Target.NotInUse" in reasons:
        remedy = (
            "Enable the tasks' Availability Zones on the load balancer (aws elbv2 set-subnets with a subnet in "
            "each; it adds nodes and changes nothing else), or drop the service's subnets in the other zones "
            "(update-service; this service only)."
        )
    else:
        remedy = "; ".join(f"{r}: {_HEALTH_ADVICE.get(r, 'see the description')}" for r in reasons) + "."
    findings = [
        RootCause(
            Code.TARGETS_UNHEALTHY,
            f"{len(sick)} of {len(health)} target(s) of {target_group.get('TargetGroupName')} are not healthy "
            f"({', '.join(reasons)})" + (": the load balancer has nothing to send to." if not healthy else "."),
            evidence,
            remedy,
        )
    ]
    return healthy, findings


def registration_findings(
    target_group: dict[str, Any], health: list[dict[str, Any]], task_ips: dict[str, str]
) -> tuple[list[str], list[RootCause]]:
    """Running tasks (their private IP -> task ARN) the target group does not list: ECS registers them
    as they start, so one missing was registered elsewhere or deregistered by hand."""
    listed = {h["Target"]["Id"] for h in health}
    missing = {ip: arn for ip, arn in task_ips.items() if ip not in listed}
    if not missing or not task_ips:
        return [], []
    return list(missing), [
        RootCause(
            Code.TASKS_NOT_REGISTERED,
            f"{len(missing)} running task(s) are not targets of {target_group.get('TargetGroupName')}: "
            "the load balancer never sends to them.",
            {"TargetHealthDescriptions[].Target.Id": sorted(listed), "tasks[].privateIPv4Address": sorted(missing)},
            "Replace the tasks (aws ecs update-service --force-new-deployment; ECS registers new tasks itself); "
            "this service only.",
        )
    ]
