"""The walk: the AWS calls of a diagnosis, in as few batched describes as possible, step by step, and
the verdict from the paths each root cause blocks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from .balancer_steps import BalancerSteps
from .calls import ACCESS_DENIED, NOT_IMPLEMENTED, AwsCallFailed, AwsCalls, Skipped, Unknown, chunked, explain_aws_error
from .ecs_steps import EcsSteps
from .model import Diagnosis, Step, StepStatus
from .network_steps import NetworkSteps
from .paths import Found, Path, judge, slug

logger = logging.getLogger(__name__)

__all__ = ["ACCESS_DENIED", "NOT_IMPLEMENTED", "STEP_NAMES", "chunked", "diagnose_ecs", "explain_aws_error"]


class _Walk(AwsCalls, EcsSteps, BalancerSteps, NetworkSteps):
    """One diagnosis: the steps in the order a packet meets them, each reading what the earlier ones learnt."""

    STEPS = (
        ("service", "step_service"),
        ("running tasks", "step_tasks"),
        ("launch type", "step_launch_type"),
        ("deployments", "step_deployments"),
        ("task definition", "step_task_definition"),
        ("image", "step_image"),
        ("load balancer", "step_load_balancer"),
        ("task public IP", "step_public_ip"),
        ("route to the internet", "step_routes"),
        ("internet gateway", "step_gateways"),
        ("network ACLs", "step_nacls"),
        ("security groups", "step_security_groups"),
        ("target health", "step_target_health"),
        ("way out to the registry", "step_registry"),
        ("VPC Block Public Access", "step_block_public_access"),
    )

    def __init__(
        self, *, cluster: str, service: str, region: str, port: int, environment: Any, unknown_ok: set[str]
    ) -> None:
        super().__init__(region=region, environment=environment)
        self.cluster, self.service_name, self.port = cluster, service, port
        self.unknown_ok = unknown_ok
        self.found: list[Found] = []
        self.steps: list[Step] = []
        self.stop = ""  # why the steps after "service" have nothing to look at
        # What the steps learn and pass on.
        self.service: dict[str, Any] = {}
        self.balanced: list[dict[str, Any]] = []  # the service's loadBalancers entries with a target group
        self.balancers: list[dict[str, Any]] = []  # the load balancers in front, with their target group
        self.target_groups: list[dict[str, Any]] = []
        self.out_of_scope = ""
        self.listener_ports: list[int] = []
        self.tasks_read = False
        self.tasks: list[tuple[int, dict[str, Any]]] = []  # the service's tasks, (index in DescribeTasks, task)
        self.running: list[tuple[int, dict[str, Any]]] = []
        self.stops: list[Any] = []
        self.ec2_capacity = False
        self.task_definition: dict[str, Any] = {}
        self.container_ports: list[int] = []
        self.interfaces: list[dict[str, Any]] = []
        self.paths: list[Path] = []
        self.subnets: dict[str, dict[str, Any]] = {}
        self.route_tables: list[dict[str, Any]] = []
        self.security_groups: list[dict[str, Any]] = []
        self.prefix_lists: dict[str, list[str]] = {}
        self.endpoints: dict[str, list[dict[str, Any]]] = {}  # vpc id -> its VPC endpoints
        self.gateways: dict[str, tuple[str, set[str]]] = {}  # igw id -> (vpc id, the paths routed through it)

    def run(self) -> Diagnosis:
        for name, method in self.STEPS:
            self.steps.append(self._run_step(name, getattr(self, method)))
        verdict, causes = judge(
            self.found, self.paths, self.steps, out_of_scope=self.out_of_scope, unknown_ok=self.unknown_ok
        )
        return Diagnosis(verdict, causes, self.steps)

    def _run_step(self, name: str, body: Callable[[], tuple[str, list[Any]]]) -> Step:
        self.calls = []
        if self.stop:
            return Step(name, "skipped", self.stop)
        try:
            detail, findings = body()
        except Skipped as skipped:
            return Step(name, "skipped", str(skipped), self.calls)
        except (Unknown, AwsCallFailed) as unknown:
            detail = str(unknown)
            if isinstance(unknown, AwsCallFailed) and unknown.denied and name != "service":
                detail += f" To accept this step unknown: --unknown-ok {slug(name)}."
            return Step(name, "unknown", detail, self.calls)
        except (KeyError, ValueError, TypeError) as error:
            # An answer shaped as this code did not expect: this step cannot tell; the others still run.
            logger.exception("diagnosis step %r could not read an AWS answer", name)
            return Step(name, "unknown", f"Could not read AWS's answer ({type(error).__name__}: {error}).", self.calls)
        for finding in findings:
            self._add(finding if isinstance(finding, Found) else Found(finding, None))
        status: StepStatus = "problem" if findings else "ok"
        return Step(name, status, detail, self.calls)

    def _add(self, finding: Found) -> None:
        """The same cause from two paths is one cause blocking both."""
        for known in self.found:
            if known.cause == finding.cause:
                if known.keys is not None:
                    known.keys = None if finding.keys is None else known.keys | finding.keys
                return
        self.found.append(finding)


STEP_NAMES = tuple(name for name, _ in _Walk.STEPS)
STEP_SLUGS = tuple(slug(name) for name in STEP_NAMES)


def diagnose_ecs(
    *,
    cluster: str,
    service: str,
    region: str,
    port: int,
    environment: Any = None,
    unknown_ok: Iterable[str] = (),
) -> Diagnosis:
    """Walk the path from the internet to the service on `port` and name every root cause found.

    `port` is the one clients connect to: the tasks' port, or the load balancer listener's. The
    verdict is explained in paths.py. `unknown_ok` names steps (their slug, e.g.
    "vpc-block-public-access", or "all") whose "cannot tell" must not make the verdict unknown:
    for a role that may not make one call on purpose.
    """
    walk = _Walk(
        cluster=cluster,
        service=service,
        region=region,
        port=port,
        environment=environment,
        unknown_ok={slug(name) for name in unknown_ok},
    )
    return walk.run()
