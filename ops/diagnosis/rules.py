"""The rules of the diagnosis about ECS itself: launch type, deployments, tasks, ports, images, public IPs.
AWS describe responses in, root causes out; no calls, so each can be tested with a hand-written
response where moto cannot build the situation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .model import (
    ECR_IMAGE,
    FARGATE_PROVIDERS,
    Code,
    RootCause,
)

# --- the rules: describe responses in, findings out ----------------------------------------------


def awsvpc(configuration: dict[str, Any] | None) -> dict[str, Any] | None:
    """An awsvpcConfiguration in comparable form; AWS omits assignPublicIp when it is DISABLED."""
    conf = (configuration or {}).get("awsvpcConfiguration")
    if not conf:
        return None
    return {
        "subnets": sorted(conf.get("subnets") or []),
        "securityGroups": sorted(conf.get("securityGroups") or []),
        "assignPublicIp": conf.get("assignPublicIp") or "DISABLED",
    }


def task_definition_key(arn_or_name: str | None) -> str:
    """The "family:revision" of a task definition ARN or name (ECS answers either, as it was set)."""
    return (arn_or_name or "").rsplit("/", 1)[-1]


def same_task_definition(a: str | None, b: str | None) -> bool:
    key_a, key_b = task_definition_key(a), task_definition_key(b)
    if ":" not in key_a or ":" not in key_b:  # a bare family means its latest revision: compare families
        return key_a.split(":")[0] == key_b.split(":")[0]
    return key_a == key_b


def is_service_task(task: dict[str, Any], service_name: str) -> bool:
    """ECS puts a service's tasks in group "service:<name>"; it also keeps other tasks out of the count
    when an endpoint's ListTasks ignores the serviceName filter (moto does)."""
    return task.get("group") == f"service:{service_name}"


def launch_type_findings(
    service: dict[str, Any], *, cluster: dict[str, Any] | None, tasks: Iterable[tuple[int, dict[str, Any]]]
) -> list[RootCause]:
    """EC2 (or EXTERNAL) capacity: awsvpc task ENIs there never get a public IP, whatever assignPublicIp says.

    The service decides (launchType, else its capacityProviderStrategy), else the cluster's default
    strategy; the running tasks show where each one really landed. `tasks` are (index in the
    DescribeTasks response, task) pairs.
    """
    evidence: dict[str, Any] = {}
    launch_type = service.get("launchType")
    strategy = service.get("capacityProviderStrategy") or []
    if launch_type in ("EC2", "EXTERNAL"):
        evidence["services[0].launchType"] = launch_type
    elif strategy:
        if _ec2_providers(strategy):
            evidence["services[0].capacityProviderStrategy"] = strategy
    elif not launch_type and cluster is not None:
        default = cluster.get("defaultCapacityProviderStrategy") or []
        if _ec2_providers(default):
            evidence["clusters[0].defaultCapacityProviderStrategy"] = default
    for index, task in tasks:
        if task.get("launchType") in ("EC2", "EXTERNAL"):
            evidence[f"tasks[{index}].launchType"] = task["launchType"]
        provider = task.get("capacityProviderName")
        if provider and provider not in FARGATE_PROVIDERS:
            evidence[f"tasks[{index}].capacityProviderName"] = provider
    if not evidence:
        return []
    return [
        RootCause(
            Code.ECS_LAUNCH_TYPE_NO_PUBLIC_IP,
            "The tasks run on EC2 capacity, where an awsvpc task's ENI never gets a public IP "
            "(AWS accepts assignPublicIp ENABLED only on Fargate).",
            evidence,
            "Run the service on Fargate (launchType FARGATE, or a FARGATE / FARGATE_SPOT capacity provider) "
            "so assignPublicIp ENABLED takes effect, or keep EC2 and reach the tasks through an "
            "internet-facing load balancer in public subnets.",
        )
    ]


def _ec2_providers(strategy: list[dict[str, Any]]) -> list[str]:
    """Providers of a strategy that can place tasks (weight or base above 0) and are not Fargate."""
    return [
        item["capacityProvider"]
        for item in strategy
        if item.get("capacityProvider") not in FARGATE_PROVIDERS and (item.get("weight", 0) or item.get("base", 0))
    ]


def deployment_findings(service: dict[str, Any], *, cluster: str) -> list[RootCause]:
    """The running deployment or task set carries another network configuration than the service.

    A task keeps the network configuration of the deployment that started it; the service's own
    `networkConfiguration` is only what the next deployment will use. With the CODE_DEPLOY or
    EXTERNAL controllers, or after a rollout that failed or was rolled back, the two part ways and
    the console shows ENABLED while the tasks run DISABLED. Compared: the PRIMARY deployment and any
    other deployment or task set that still has running tasks.
    """
    wanted = awsvpc(service.get("networkConfiguration"))
    if wanted is None:
        return []
    name = service.get("serviceName", "")
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    findings = []
    rolling = bool(_rolling(service))
    for kind, items in (("deployments", service.get("deployments") or []), ("taskSets", service.get("taskSets") or [])):
        for index, item in enumerate(items):
            if item.get("status") != "PRIMARY" and (not item.get("runningCount") or rolling):
                continue  # drained, or being replaced by the rollout in progress
            running = awsvpc(item.get("networkConfiguration"))
            if running is None or running == wanted:
                continue
            base = f"services[0].{kind}[{index}]"
            evidence: dict[str, Any] = {f"{base}.id": item.get("id"), f"{base}.status": item.get("status")}
            if item.get("rolloutState"):
                evidence[f"{base}.rolloutState"] = item["rolloutState"]
            changed = [key for key in wanted if wanted[key] != running[key]]
            for key in changed:
                evidence[f"services[0].networkConfiguration.awsvpcConfiguration.{key}"] = wanted[key]
                evidence[f"{base}.networkConfiguration.awsvpcConfiguration.{key}"] = running[key]
            differences = ", ".join(f"{key} {running[key]} (service: {wanted[key]})" for key in changed)
            if running["assignPublicIp"] == "DISABLED" != wanted["assignPublicIp"]:
                differences += ", so none of its tasks gets a public IP, in any subnet"
            findings.append(
                RootCause(
                    Code.DEPLOYMENT_NETWORK_CONFIG_STALE,
                    f"The {item.get('status')} {kind[:-1] if kind == 'deployments' else 'task set'} "
                    f"{item.get('id')} still runs with {differences}: its tasks were started with the old "
                    "network configuration, whatever the service now says.",
                    evidence,
                    _redeploy_advice(controller, cluster=cluster, service=name),
                )
            )
    return findings


def assign_public_ip_findings(service: dict[str, Any], *, cluster: str) -> list[RootCause]:
    """A Fargate service whose own and PRIMARY configurations both say DISABLED: no task it starts gets a
    public IP (when they differ, DEPLOYMENT_NETWORK_CONFIG_STALE names it)."""
    wanted = awsvpc(service.get("networkConfiguration"))
    if wanted is None or wanted["assignPublicIp"] != "DISABLED":
        return []
    evidence: dict[str, Any] = {"services[0].networkConfiguration.awsvpcConfiguration.assignPublicIp": "DISABLED"}
    for index, deployment in enumerate(service.get("deployments") or []):
        if deployment.get("status") == "PRIMARY":
            running = awsvpc(deployment.get("networkConfiguration")) or wanted
            if running["assignPublicIp"] != "DISABLED":
                return []
            evidence[f"services[0].deployments[{index}].networkConfiguration.awsvpcConfiguration.assignPublicIp"] = (
                "DISABLED"
            )
    conf = wanted
    return [
        RootCause(
            Code.ASSIGN_PUBLIC_IP_DISABLED,
            f"{service.get('serviceName')} starts its Fargate tasks with assignPublicIp DISABLED (AWS omits the "
            "field when it is): no task gets a public IP, so nothing on the internet can address one, and "
            "without a NAT gateway or VPC endpoints they cannot pull their image either.",
            evidence,
            f"aws ecs update-service --cluster {cluster} --service {service.get('serviceName')} "
            "--network-configuration 'awsvpcConfiguration={subnets=["
            + ",".join(conf["subnets"])
            + "],securityGroups=["
            + ",".join(conf["securityGroups"])
            + "],assignPublicIp=ENABLED}' (this service's new tasks only; each then has a public IP, so its "
            "security group alone decides what comes in). Or keep the tasks private behind an internet-facing "
            "load balancer.",
        )
    ]


def _redeploy_advice(controller: str, *, cluster: str, service: str) -> str:
    if controller == "CODE_DEPLOY":
        return (
            "Start a new CodeDeploy deployment whose AppSpec carries the service's network configuration "
            "(assignPublicIp ENABLED), then let it replace the task set."
        )
    if controller == "EXTERNAL":
        return (
            "Create a task set with the service's network configuration, make it primary "
            "(update-service-primary-task-set) and delete the old one."
        )
    return (
        f"Replace the tasks: aws ecs update-service --cluster {cluster} --service {service} --force-new-deployment; "
        "if the rollout fails again, read the deployment's rolloutStateReason and the service events."
    )


def _no_task_remedy(service: dict[str, Any], tasks: list[tuple[int, dict[str, Any]]], *, cluster: str) -> str:
    name, desired = service.get("serviceName", ""), service.get("desiredCount") or 0
    if not desired:
        return (
            f"desiredCount is 0: aws ecs update-service --cluster {cluster} --service {name} --desired-count 1 "
            "(it changes this service only)."
        )
    if tasks:
        return (
            f"desiredCount is already {desired}: ECS starts tasks and they stop. Fix why they stop "
            "(TASK_START_FAILED and the other causes here); ECS retries on its own."
        )
    return (
        f"desiredCount is already {desired} and no stopped task is left to read (ECS keeps them about an hour): "
        f"read the service's events (aws ecs describe-services --cluster {cluster} --services {name} "
        "--query 'services[0].events[:5]')."
    )


def _rolling(service: dict[str, Any]) -> set[str]:
    """Task definitions that may still serve: those of ACTIVE deployments with running tasks while
    the PRIMARY one rolls out (rolloutState IN_PROGRESS). Their tasks are the old revision serving
    until the new one is healthy, which is how a rolling update works, not a fault."""
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
    if primary.get("rolloutState") != "IN_PROGRESS":
        return set()
    return {
        task_definition_key(d.get("taskDefinition"))
        for d in deployments
        if d.get("status") == "ACTIVE" and d.get("runningCount")
    }


def task_findings(service: dict[str, Any], tasks: list[tuple[int, dict[str, Any]]], *, cluster: str) -> list[RootCause]:
    """No task running at all, or running tasks on another task definition than the service's.

    `tasks` are the service's tasks as (index in the DescribeTasks response, task) pairs. Tasks of
    an older revision during a rollout are not a finding; after it, they serve the older revision
    (impact "none": reachable, but not the version asked for).
    """
    running = [(index, task) for index, task in tasks if task.get("lastStatus") == "RUNNING"]
    name = service.get("serviceName", "")
    if not running:
        evidence: dict[str, Any] = {
            "services[0].desiredCount": service.get("desiredCount"),
            "services[0].runningCount": service.get("runningCount"),
            "tasks[?lastStatus=='RUNNING']": [],
        }
        for index, task in tasks:
            evidence[f"tasks[{index}].lastStatus"] = task.get("lastStatus")
            if task.get("stoppedReason"):
                evidence[f"tasks[{index}].stoppedReason"] = task["stoppedReason"]
        return [
            RootCause(
                Code.NO_RUNNING_TASKS,
                f"No task of {name} is RUNNING, so there is nothing to reach.",
                evidence,
                _no_task_remedy(service, tasks, cluster=cluster),
            )
        ]
    wanted, rolling = service.get("taskDefinition"), _rolling(service)
    outdated = [
        (index, task)
        for index, task in running
        if not same_task_definition(task.get("taskDefinitionArn"), wanted)
        and task_definition_key(task.get("taskDefinitionArn")) not in rolling
    ]
    if not outdated:
        return []
    evidence = {"services[0].taskDefinition": wanted}
    for index, task in outdated:
        evidence[f"tasks[{index}].taskDefinitionArn"] = task.get("taskDefinitionArn")
    for index, deployment in enumerate(service.get("deployments") or []):
        evidence[f"services[0].deployments[{index}].rolloutState"] = deployment.get("rolloutState")
    revisions = sorted({task_definition_key(task.get("taskDefinitionArn")) for _, task in outdated})
    return [
        RootCause(
            Code.TASK_DEFINITION_OUTDATED,
            f"{len(outdated)} of {len(running)} running tasks run {', '.join(revisions)}, "
            f"not the service's {task_definition_key(wanted)}, and no rollout is in progress: they serve the "
            "older revision.",
            evidence,
            f"Roll the tasks onto {task_definition_key(wanted)}: aws ecs update-service --cluster {cluster} "
            f"--service {name} --force-new-deployment (this service only), then watch the deployment's "
            "rolloutState; if it fails, its rolloutStateReason says why.",
            impact="none",
        )
    ]


def port_mapping_findings(
    task_definition: dict[str, Any], *, port: int, container: str | None = None, balanced: bool = False
) -> list[RootCause]:
    """No container maps the port (awsvpc: hostPort = containerPort), so the ENI has nothing listening there.

    `container` (the load balancer's containerName) narrows it to that container. The fix moves the
    probe or the listener to the port the application already serves on, not the mapping: a new
    mapping does not make the application listen there.
    """
    containers = task_definition.get("containerDefinitions") or []
    mapped: list[int] = []
    for container_definition in containers:
        if container and container_definition.get("name") != container:
            continue
        for mapping in container_definition.get("portMappings") or []:
            if (mapping.get("protocol") or "tcp") != "tcp":
                continue
            if mapping.get("containerPort") == port:
                return []
            mapped += [mapping["containerPort"]] if "containerPort" in mapping else []
            low, _, high = (mapping.get("containerPortRange") or "").partition("-")
            if low.isdigit() and int(low) <= port <= int(high or low):
                return []
    evidence: dict[str, Any] = {"taskDefinition.taskDefinitionArn": task_definition.get("taskDefinitionArn")}
    for index, container_definition in enumerate(containers):
        evidence[f"taskDefinition.containerDefinitions[{index}].portMappings"] = (
            container_definition.get("portMappings") or []
        )
    key = task_definition_key(task_definition.get("taskDefinitionArn"))
    served = ", ".join(str(p) for p in sorted(set(mapped))) or "no TCP port"
    if balanced:
        remedy = (
            f"The load balancer sends to containerPort {port}, which {key} does not map ({served} mapped): point "
            "the service's loadBalancers containerPort and the target group at the port the application serves "
            "on (update-service; this service only)."
        )
    elif mapped:
        remedy = (
            f"The container serves on {served}: point the probe and clients at {mapped[0]} (and open it in the "
            f"task's own security group), or, if clients must use {port}, put a load balancer listener on {port} "
            f"forwarding to {mapped[0]}. Mapping {port} instead would also need the application to listen on "
            f"{port} (a code change)."
        )
    else:
        remedy = (
            "Add portMappings [{containerPort: <the port the application listens on>, protocol: tcp}] in a new "
            "revision of this task definition and update the service to it (this service only); the application "
            "must listen on 0.0.0.0, not 127.0.0.1."
        )
    return [
        RootCause(
            Code.CONTAINER_PORT_MISMATCH,
            f"No container of {key} maps TCP port {port} (mapped: {served}).",
            evidence,
            remedy,
        )
    ]


@dataclass(frozen=True)
class EcrImage:
    """A container image that lives in ECR, as the task definition names it."""

    container_index: int
    uri: str
    registry_id: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def image_id(self) -> dict[str, str]:
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or "latest"}


def ecr_images(task_definition: dict[str, Any]) -> list[EcrImage]:
    """The task definition's images that are ECR URIs (others, e.g. Docker Hub, cannot be looked up here)."""
    images = []
    for index, container in enumerate(task_definition.get("containerDefinitions") or []):
        match = ECR_IMAGE.match(container.get("image") or "")
        if match:
            parts = match.groupdict()
            images.append(
                EcrImage(
                    container_index=index,
                    uri=container["image"],
                    registry_id=parts["registry"],
                    region=parts["region"],
                    repository=parts["repository"],
                    tag=parts["tag"],
                    digest=parts["digest"],
                )
            )
    return images


def image_findings(images: list[EcrImage], errors: dict[str, str]) -> list[RootCause]:
    """Images that ECR does not have; `errors` maps an image URI to the DescribeImages error code."""
    findings = []
    for image in images:
        code = errors.get(image.uri)
        if not code:
            continue
        missing = "repository" if code == "RepositoryNotFoundException" else "image"
        findings.append(
            RootCause(
                Code.IMAGE_NOT_FOUND,
                f"ECR has no {missing} for {image.uri}: new tasks fail with CannotPullContainerError.",
                {
                    f"taskDefinition.containerDefinitions[{image.container_index}].image": image.uri,
                    "ecr.DescribeImages.imageIds": [image.image_id],
                    "ecr.DescribeImages.Error.Code": code,
                },
                f"Push the image ({image.uri}) to ECR, or point the task definition at a tag that exists "
                f"(aws ecr describe-images --repository-name {image.repository}).",
            )
        )
    return findings


def task_enis(tasks: Iterable[tuple[int, dict[str, Any]]]) -> dict[str, int]:
    """ENI id -> index of the task it belongs to, from DescribeTasks attachments (ECS never shows the public IP)."""
    enis = {}
    for index, task in tasks:
        for attachment in task.get("attachments") or []:
            if attachment.get("type") != "ElasticNetworkInterface":
                continue
            for detail in attachment.get("details") or []:
                if detail.get("name") == "networkInterfaceId":
                    enis[detail["value"]] = index
    return enis


def public_ip_findings(
    enis: dict[str, int], tasks: dict[int, dict[str, Any]], network_interfaces: list[dict[str, Any]]
) -> list[RootCause]:
    """Task ENIs without Association.PublicIp: nothing on the internet can address the task."""
    by_id = {eni["NetworkInterfaceId"]: (index, eni) for index, eni in enumerate(network_interfaces)}
    findings = []
    for eni_id, task_index in enis.items():
        task_arn = tasks[task_index].get("taskArn")
        if eni_id not in by_id:
            evidence = {
                f"tasks[{task_index}].taskArn": task_arn,
                f"NetworkInterfaces[?NetworkInterfaceId=='{eni_id}']": [],
            }
            summary = f"The ENI {eni_id} of task {task_arn} no longer exists, so it has no public IP."
        else:
            index, eni = by_id[eni_id]
            public_ip = (eni.get("Association") or {}).get("PublicIp")
            if public_ip:
                continue
            evidence = {
                f"tasks[{task_index}].taskArn": task_arn,
                f"NetworkInterfaces[{index}].NetworkInterfaceId": eni_id,
                f"NetworkInterfaces[{index}].Association.PublicIp": public_ip,
            }
            summary = f"The task's ENI {eni_id} has no public IP (private {eni.get('PrivateIpAddress')} only)."
        findings.append(
            RootCause(
                Code.TASK_ENI_NO_PUBLIC_IP,
                summary,
                evidence,
                "A task's public IP is given when it starts, from the network configuration of the deployment "
                "that starts it: fix the launch type or stale deployment named here, then replace the tasks "
                "(--force-new-deployment). The subnet's MapPublicIpOnLaunch does not decide it for Fargate.",
            )
        )
    return findings
