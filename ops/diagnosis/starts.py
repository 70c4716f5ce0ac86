"""Why tasks never start: ECS's stoppedReason in words, and whether the network explains it.

A task that cannot pull its image stops with "CannotPullContainerError: ... i/o timeout" (or, on
Fargate platform 1.4, "ResourceInitializationError: unable to pull secrets or registry auth ...
context deadline exceeded"): the task had no way out to ECR. On Fargate the way out is a public IP
on the task with a route to an internet gateway, or a NAT gateway, or VPC endpoints (ecr.api,
ecr.dkr and the S3 gateway endpoint, where ECR keeps the layers). A public subnet does not help a
task started with assignPublicIp DISABLED: the internet gateway only translates addresses that
have a public IP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .model import Code, RootCause
from .security_groups import Clients, admits

_NETWORK = re.compile(
    r"timeout|timed out|deadline exceeded|dial tcp|no such host|network is unreachable|connection refused|"
    r"context canceled",
    re.IGNORECASE,
)
_DENIED = re.compile(r"AccessDenied|not authorized|denied|unauthorized|403", re.IGNORECASE)
_MISSING = re.compile(r"not found|manifest unknown|does not exist|NoSuchKey", re.IGNORECASE)


@dataclass(frozen=True)
class Stop:
    """One stopped task's reason, read."""

    index: int  # in the DescribeTasks response
    reason: str
    kind: str  # network | permission | image | logs | health | exited | other


def read_stop(index: int, task: dict[str, Any]) -> Stop | None:
    reason = task.get("stoppedReason") or ""
    details = " ".join(c.get("reason") or "" for c in task.get("containers") or [])
    text = f"{reason} {details}"
    if not reason and not details.strip():
        return None
    if "CannotPullContainer" in text or "ResourceInitializationError" in text or "CannotStartContainer" in text:
        if _NETWORK.search(text):
            kind = "network"
        elif _DENIED.search(text):
            kind = "permission"
        elif "logger" in text or "log group" in text:
            kind = "logs"
        elif _MISSING.search(text):
            kind = "image"
        else:
            kind = "other"
    elif "health check" in text.lower():
        kind = "health"
    elif "Essential container" in text or "OutOfMemory" in text:
        kind = "exited"
    else:
        kind = "other"
    return Stop(index, reason or details.strip(), kind)


_MEANING = {
    "network": "the task had no network path to the registry (or Secrets Manager / CloudWatch Logs) while starting",
    "permission": "the task execution role may not pull the image or read the secrets it names",
    "image": "the image (or its tag) does not exist in the registry",
    "logs": "the log configuration is invalid (e.g. the awslogs log group does not exist)",
    "health": "the task started but failed its health checks, so ECS replaced it",
    "exited": "the essential container started and exited (the application crashed or ran out of memory)",
    "other": "see the reason as ECS gave it",
}
_REMEDY = {
    "network": "Give the tasks a way out to ECR (NO_ROUTE_TO_REGISTRY says which is missing).",
    "permission": (
        "Give the service's task execution role ecr:GetAuthorizationToken, ecr:BatchGetImage, "
        "ecr:GetDownloadUrlForLayer (the managed AmazonECSTaskExecutionRolePolicy) and read access to the "
        "secrets it names; it changes that role only, which other services may share."
    ),
    "image": "Push the image or point a new task definition revision at a tag that exists (IMAGE_NOT_FOUND).",
    "logs": "Create the log group the task definition names (aws logs create-log-group) or set awslogs-create-group.",
    "health": (
        "Make the health check probe the port and path the application serves (the target group's "
        "health check or the container's healthCheck); it changes this service's checks only."
    ),
    "exited": "Read the container's exit code and logs; give it more memory if it ran out (OutOfMemoryError).",
    "other": "Read the service's events and the task's stoppedReason.",
}


def start_findings(tasks: list[tuple[int, dict[str, Any]]]) -> tuple[list[Stop], list[RootCause]]:
    """The stopped tasks' reasons, read; one TASK_START_FAILED per kind of reason."""
    stops = [stop for index, task in tasks if task.get("lastStatus") == "STOPPED" for stop in [read_stop(index, task)]]
    stops = [stop for stop in stops if stop is not None]
    findings = []
    for kind in dict.fromkeys(stop.kind for stop in stops):
        these = [stop for stop in stops if stop.kind == kind]
        evidence = {f"tasks[{stop.index}].stoppedReason": stop.reason for stop in these}
        findings.append(
            RootCause(
                Code.TASK_START_FAILED,
                f"{len(these)} task(s) stopped: {these[0].reason!r}, that is, {_MEANING[kind]}.",
                evidence,
                _REMEDY[kind],
            )
        )
    return stops, findings


def registry_endpoints(endpoints: list[dict[str, Any]], region: str) -> dict[str, str]:
    """Which of ECR's endpoints the VPC has: {"ecr.api"|"ecr.dkr"|"s3": endpoint id}, available ones only."""
    found = {}
    for endpoint in endpoints:
        if endpoint.get("State", "available").lower() != "available":
            continue
        name = endpoint.get("ServiceName") or ""
        for short in ("ecr.api", "ecr.dkr", "s3"):
            if name == f"com.amazonaws.{region}.{short}":
                found[short] = endpoint.get("VpcEndpointId", "")
    return found


def registry_path_findings(
    *, subnet_id: str, assign_public_ip: str, default_target: str | None, endpoints: dict[str, str], origin: dict
) -> list[RootCause]:
    """Can a Fargate task in this subnet reach ECR? A NAT route, a public IP with an internet gateway
    route, or all three ECR endpoints; else NO_ROUTE_TO_REGISTRY."""
    target = default_target or ""
    if target.startswith(("nat-", "tgw-", "eni-", "vpce-", "pcx-")):
        return []  # a way out that is not ours to judge from here (NAT, transit, firewall, appliance)
    if target.startswith("igw-") and assign_public_ip == "ENABLED":
        return []
    if {"ecr.api", "ecr.dkr", "s3"} <= set(endpoints):
        return []
    evidence = {
        **origin,
        "RouteTables[].Routes[0.0.0.0/0]": target or None,
        "VpcEndpoints[ecr.api|ecr.dkr|s3]": endpoints,
    }
    why = (
        f"its default route goes to {target}, which only works for a task with a public IP, and the tasks start "
        "with assignPublicIp DISABLED"
        if target.startswith("igw-")
        else "it has no default route"
    )
    return [
        RootCause(
            Code.NO_ROUTE_TO_REGISTRY,
            f"A task in {subnet_id} has no way out to ECR: {why}, and the VPC lacks "
            f"{', '.join(sorted({'ecr.api', 'ecr.dkr', 's3'} - set(endpoints)))} endpoints.",
            evidence,
            "Least change, on the service only: start its tasks with assignPublicIp ENABLED (aws ecs "
            "update-service --network-configuration ...assignPublicIp=ENABLED; new tasks only)."
            if target.startswith("igw-")
            else "Add VPC endpoints com.amazonaws.<region>.ecr.api and .ecr.dkr (interface, private DNS: every "
            "workload in the VPC then reaches ECR through them) and the S3 gateway endpoint on this subnet's "
            "route table; or move the service to subnets with a NAT gateway route.",
        )
    ]


def egress_findings(
    *, subnets: str, group_ids: list[str], security_groups: list[dict[str, Any]], prefix_lists: dict[str, list[str]]
) -> list[RootCause]:
    """With a way out routed, the tasks' groups must still let HTTPS out to ECR (and S3, where the
    layers are): outbound TCP 443 to the internet, added up over the groups' egress rules."""
    groups = [g for g in security_groups if g.get("GroupId") in group_ids]
    if not groups:
        return []
    outbound = [{"GroupId": g["GroupId"], "IpPermissions": g.get("IpPermissionsEgress") or []} for g in groups]
    if admits(outbound, port=443, clients=Clients.internet(), prefix_lists=prefix_lists):
        return []
    return [
        RootCause(
            Code.NO_ROUTE_TO_REGISTRY,
            f"The tasks in {subnets} have a route out, but their security groups ({', '.join(group_ids)}) do not "
            "let TCP 443 out to the internet, where ECR and S3 answer.",
            {
                f"SecurityGroups[?GroupId=='{g['GroupId']}'].IpPermissionsEgress": g.get("IpPermissionsEgress") or []
                for g in groups
            },
            f"aws ec2 authorize-security-group-egress --group-id {group_ids[0]} --protocol tcp --port 443 "
            "--cidr 0.0.0.0/0 (or the ECR and S3 prefix lists); it changes what every interface using that group "
            "may reach.",
        )
    ]
