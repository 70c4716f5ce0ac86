"""The walk's steps about ECS itself: the service, its tasks, capacity, deployments, task definition, image."""

from __future__ import annotations

from typing import Any

from .calls import AwsCallFailed, Skipped, Unknown, chunked
from .model import RootCause
from .paths import Found, Path
from .rules import (
    EcrImage,
    assign_public_ip_findings,
    awsvpc,
    deployment_findings,
    ecr_images,
    image_findings,
    is_service_task,
    launch_type_findings,
    port_mapping_findings,
    task_definition_key,
    task_findings,
)
from .starts import start_findings

StepResult = tuple[str, list[Any]]


class EcsSteps:
    """Mixed into the walk: reads self.cluster, self.service_name, self.port; fills self.service, tasks..."""

    def step_service(self) -> StepResult:
        ecs = self.client("ecs")
        try:
            answer = self.call(ecs, "describe_services", cluster=self.cluster, services=[self.service_name])
        except AwsCallFailed as failed:
            self.stop = "Needs the service, which could not be read."
            if failed.code == "ClusterNotFoundException":
                self.stop = "Nothing to look at: the cluster does not exist."
                raise Unknown(f"The cluster {self.cluster} does not exist in {self.region}.") from failed
            raise
        services = [s for s in answer.get("services") or [] if s.get("status") != "INACTIVE"]
        if not services:
            self.stop = "Nothing to look at: the service does not exist."
            reasons = ", ".join(f.get("reason", "") for f in answer.get("failures") or []) or "INACTIVE"
            raise Unknown(
                f"The service {self.service_name} does not exist in the cluster {self.cluster} "
                f"({self.region}): {reasons}."
            )
        self.service = svc = services[0]
        self.balanced = [lb for lb in svc.get("loadBalancers") or [] if lb.get("targetGroupArn")]
        self.paths = self._service_paths()
        conf = awsvpc(svc.get("networkConfiguration")) or {}
        capacity = svc.get("launchType") or ", ".join(
            p.get("capacityProvider", "") for p in svc.get("capacityProviderStrategy") or []
        )
        return (
            f"{svc.get('serviceName')}: {svc.get('status')}, desired {svc.get('desiredCount')}, "
            f"running {svc.get('runningCount')}, task definition {task_definition_key(svc.get('taskDefinition'))}, "
            f"{capacity or 'cluster default capacity'}, controller "
            f"{(svc.get('deploymentController') or {}).get('type', 'ECS')}, "
            f"assignPublicIp {conf.get('assignPublicIp', 'n/a')}, "
            f"{len(self.balanced)} load balancer target group(s).",
            [],
        )

    def _service_paths(self) -> list[Path]:
        """Where a new task would land: every subnet of the service's and its PRIMARY deployment's
        configuration (until the task ENIs are read, which are the truth for running tasks)."""
        svc = self.service
        primary = [d for d in svc.get("deployments") or [] if d.get("status") == "PRIMARY"]
        paths: dict[str, Path] = {}
        for where, configuration in [("services[0].networkConfiguration", svc.get("networkConfiguration"))] + [
            ("services[0].deployments[PRIMARY].networkConfiguration", d.get("networkConfiguration")) for d in primary
        ]:
            conf = awsvpc(configuration) or {"subnets": [], "securityGroups": []}
            origin = {f"{where}.awsvpcConfiguration.securityGroups": conf["securityGroups"]}
            for subnet in conf["subnets"]:
                paths.setdefault(
                    f"subnet:{subnet}",
                    Path(f"subnet:{subnet}", subnet, conf["securityGroups"], origin, tier=self._task_tier()),
                )
        return list(paths.values())

    def _task_tier(self) -> str:
        return "back" if self.balanced else "front"

    def step_tasks(self) -> StepResult:
        ecs = self.client("ecs")
        arns: list[str] = []
        for status in ("RUNNING", "STOPPED"):
            # STOPPED too: when nothing runs, the stoppedReason of the last tasks is the lead.
            if status == "STOPPED" and arns:
                break
            arns += self.pages(
                ecs, "list_tasks", "taskArns", cluster=self.cluster, serviceName=self.service_name, desiredStatus=status
            )
        described: list[dict[str, Any]] = []
        for batch in chunked(arns, 100):  # DescribeTasks takes at most 100 tasks
            described += self.call(ecs, "describe_tasks", cluster=self.cluster, tasks=batch)["tasks"]
        self.tasks = [(i, task) for i, task in enumerate(described) if is_service_task(task, self.service_name)]
        self.tasks_read = True
        self.running = [(i, task) for i, task in self.tasks if task.get("lastStatus") == "RUNNING"]
        findings: list[Any] = task_findings(self.service, self.tasks, cluster=self.cluster)
        self.stops, started = start_findings(self.tasks) if not self.running else ([], [])
        versions = sorted({task_definition_key(t.get("taskDefinitionArn")) for _, t in self.running})
        rollout = [
            f"{d.get('status')} {task_definition_key(d.get('taskDefinition'))} {d.get('rolloutState', '')} "
            f"({d.get('runningCount', 0)} running)"
            for d in self.service.get("deployments") or []
        ]
        return (
            f"{len(self.running)} running task(s) on {', '.join(versions) or 'nothing'}; deployments: "
            f"{'; '.join(rollout) or 'none listed'}.",
            findings + started,
        )

    def step_launch_type(self) -> StepResult:
        svc = self.service
        cluster = None
        if not svc.get("launchType") and not svc.get("capacityProviderStrategy"):
            answer = self.call(self.client("ecs"), "describe_clusters", clusters=[self.cluster])
            cluster = (answer.get("clusters") or [{}])[0]
        if self.balanced:
            # Behind a load balancer the tasks need no public IP, so EC2 capacity is no fault.
            findings: list[RootCause] = []
        else:
            findings = launch_type_findings(svc, cluster=cluster, tasks=self.running)
        self.ec2_capacity = bool(launch_type_findings(svc, cluster=cluster, tasks=self.running))
        if cluster is not None:
            strategy = cluster.get("defaultCapacityProviderStrategy") or []
            where = "the cluster's default strategy " + (
                ", ".join(p.get("capacityProvider", "") for p in strategy) or "(empty)"
            )
        else:
            where = svc.get("launchType") or "the service's capacity provider strategy"
        kinds = {task.get("capacityProviderName") or task.get("launchType") or "?" for _, task in self.running}
        return f"Capacity: {where}; tasks on {', '.join(sorted(kinds)) or 'nothing yet'}.", findings

    def step_deployments(self) -> StepResult:
        svc = self.service
        if awsvpc(svc.get("networkConfiguration")) is None and not svc.get("taskSets"):
            raise Skipped("The service has no awsvpc network configuration to compare deployments with.")
        findings: list[Any] = deployment_findings(svc, cluster=self.cluster)
        if self.balanced:
            # Behind a load balancer an old network configuration blocks nothing by itself (no public IP
            # is needed); target health shows whether the tasks it started are reached.
            findings = [Found(cause, frozenset()) for cause in findings]
        if not self.balanced and not self.ec2_capacity:
            # Clients reach the tasks directly: no task this service starts would have a public IP.
            findings += assign_public_ip_findings(svc, cluster=self.cluster)
        described = [
            f"{d.get('status')} {d.get('id')} ({d.get('rolloutState', 'no rollout state')}, "
            f"assignPublicIp {(awsvpc(d.get('networkConfiguration')) or {}).get('assignPublicIp', 'n/a')})"
            for d in (svc.get("deployments") or []) + (svc.get("taskSets") or [])
        ]
        return "; ".join(described) or "No deployment listed.", findings

    def step_task_definition(self) -> StepResult:
        # EXTERNAL-controller services name their task definition on the task sets only.
        primary = [t for t in self.service.get("taskSets") or [] if t.get("status") == "PRIMARY"]
        wanted = self.service.get("taskDefinition") or (primary[0].get("taskDefinition") if primary else None)
        if not wanted:
            raise Skipped("The service names no task definition.")
        answer = self.call(self.client("ecs"), "describe_task_definition", taskDefinition=wanted)
        self.task_definition = answer["taskDefinition"]
        mode = self.task_definition.get("networkMode")
        if mode != "awsvpc":
            raise Unknown(
                f"networkMode is {mode or 'bridge'}: this diagnosis covers awsvpc services, "
                "whose tasks have their own ENI."
            )
        if self.balanced:
            # The load balancer sends to the container and port the service names, whatever the client's port.
            findings = []
            for lb in self.balanced:
                findings += port_mapping_findings(
                    self.task_definition, port=lb.get("containerPort"), container=lb.get("containerName"), balanced=True
                )
        else:
            findings = port_mapping_findings(self.task_definition, port=self.port)
        containers = self.task_definition.get("containerDefinitions") or []
        self.container_ports = sorted(
            {m["containerPort"] for c in containers for m in c.get("portMappings") or [] if "containerPort" in m}
        )
        return (
            f"{task_definition_key(self.task_definition.get('taskDefinitionArn'))} maps ports {self.container_ports}.",
            findings,
        )

    def step_image(self) -> StepResult:
        if not self.task_definition:
            raise Skipped("The task definition was not read.")
        images = ecr_images(self.task_definition)
        if not images:
            raise Skipped("No container image is in ECR; other registries are not checked.")
        errors: dict[str, str] = {}
        by_repository: dict[tuple[str, str, str], list[EcrImage]] = {}
        for image in images:
            by_repository.setdefault((image.region, image.registry_id, image.repository), []).append(image)
        for (region, registry, repository), wanted in by_repository.items():
            errors.update(self._missing_images(region, registry, repository, wanted))
        shown = ", ".join(i.uri for i in images if i.uri not in errors) or "none"
        return f"In ECR: {shown}.", image_findings(images, errors)

    def _missing_images(self, region: str, registry: str, repository: str, wanted: list[EcrImage]) -> dict[str, str]:
        ecr = self.client("ecr", region)
        # One call per repository; ECR fails the whole call for one missing id, so then ask one by one.
        missing = ("ImageNotFoundException", "RepositoryNotFoundException")
        try:
            self.call(ecr, "describe_images", registryId=registry, repositoryName=repository,
                      imageIds=[image.image_id for image in wanted])  # fmt: skip
            return {}
        except AwsCallFailed as failed:
            if failed.code not in missing:
                raise
            if len(wanted) == 1 or failed.code == "RepositoryNotFoundException":
                return {image.uri: failed.code for image in wanted}
        errors: dict[str, str] = {}
        for image in wanted:
            try:
                self.call(ecr, "describe_images", registryId=registry, repositoryName=repository,
                          imageIds=[image.image_id])  # fmt: skip
            except AwsCallFailed as failed:
                if failed.code not in missing:
                    raise
                errors[image.uri] = failed.code
        return errors
