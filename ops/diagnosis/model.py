"""The answer of a diagnosis: its verdict, root causes and steps (the JSON of diagnose_ecs --json)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

Verdict = Literal["reachable", "partially reachable", "unreachable", "out of scope: behind a load balancer", "unknown"]
VERDICTS: tuple[str, ...] = (
    "reachable",
    "partially reachable",
    "unreachable",
    "out of scope: behind a load balancer",
    "unknown",
)
StepStatus = Literal["ok", "problem", "unknown", "skipped"]
# How much of the path a root cause blocks now: every path, some of them (some tasks, subnets or
# load balancer nodes), or none yet (a subnet no task runs in, a revision not rolled out).
Impact = Literal["all", "some", "none"]


class Code(StrEnum):
    """The root causes the walk can name; the codes are part of the JSON output and the API."""

    ECS_LAUNCH_TYPE_NO_PUBLIC_IP = "ECS_LAUNCH_TYPE_NO_PUBLIC_IP"
    DEPLOYMENT_NETWORK_CONFIG_STALE = "DEPLOYMENT_NETWORK_CONFIG_STALE"
    TASK_DEFINITION_OUTDATED = "TASK_DEFINITION_OUTDATED"
    NO_RUNNING_TASKS = "NO_RUNNING_TASKS"
    TASK_START_FAILED = "TASK_START_FAILED"
    NO_ROUTE_TO_REGISTRY = "NO_ROUTE_TO_REGISTRY"
    ASSIGN_PUBLIC_IP_DISABLED = "ASSIGN_PUBLIC_IP_DISABLED"
    TASK_ENI_NO_PUBLIC_IP = "TASK_ENI_NO_PUBLIC_IP"
    SUBNET_NO_INTERNET_ROUTE = "SUBNET_NO_INTERNET_ROUTE"
    INTERNET_ROUTE_BLACKHOLE = "INTERNET_ROUTE_BLACKHOLE"
    FIREWALL_RETURN_ROUTE_MISSING = "FIREWALL_RETURN_ROUTE_MISSING"
    IGW_NOT_ATTACHED = "IGW_NOT_ATTACHED"
    NACL_BLOCKS_INGRESS = "NACL_BLOCKS_INGRESS"
    NACL_BLOCKS_EGRESS = "NACL_BLOCKS_EGRESS"
    SECURITY_GROUP_PORT_CLOSED = "SECURITY_GROUP_PORT_CLOSED"
    SECURITY_GROUP_BLOCKS_LOAD_BALANCER = "SECURITY_GROUP_BLOCKS_LOAD_BALANCER"
    CONTAINER_PORT_MISMATCH = "CONTAINER_PORT_MISMATCH"
    IMAGE_NOT_FOUND = "IMAGE_NOT_FOUND"
    VPC_BLOCK_PUBLIC_ACCESS = "VPC_BLOCK_PUBLIC_ACCESS"
    LOAD_BALANCER_NOT_ACTIVE = "LOAD_BALANCER_NOT_ACTIVE"
    LOAD_BALANCER_NO_LISTENER = "LOAD_BALANCER_NO_LISTENER"
    LISTENER_NOT_FORWARDING = "LISTENER_NOT_FORWARDING"
    TARGET_GROUP_NOT_ATTACHED = "TARGET_GROUP_NOT_ATTACHED"
    TARGETS_UNHEALTHY = "TARGETS_UNHEALTHY"
    TASKS_NOT_REGISTERED = "TASKS_NOT_REGISTERED"


@dataclass(frozen=True)
class RootCause:
    code: str
    summary: str
    evidence: dict[str, Any]  # AWS field path -> the value read there
    remediation: str
    impact: Impact = "all"  # set by the walk from the paths the cause blocks

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "summary": self.summary,
            "evidence": self.evidence,
            "remediation": self.remediation,
            "impact": self.impact,
        }


@dataclass
class Step:
    name: str
    status: StepStatus
    detail: str
    calls: list[str] = field(default_factory=list)  # "ecs.DescribeServices", one entry per call made

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Diagnosis:
    verdict: Verdict
    root_causes: list[RootCause]
    steps: list[Step]

    @property
    def codes(self) -> list[str]:
        return [str(cause.code) for cause in self.root_causes]

    def step(self, name: str) -> Step:
        return next(step for step in self.steps if step.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "root_causes": [cause.to_dict() for cause in self.root_causes],
            "steps": [step.to_dict() for step in self.steps],
        }


FARGATE_PROVIDERS = frozenset({"FARGATE", "FARGATE_SPOT"})
EPHEMERAL_PORTS = (1024, 65535)  # where clients' return traffic lands; AWS's advice for NACL egress
ACTIVE_EXCLUSION_STATES = frozenset({"create-complete", "update-complete"})
ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
