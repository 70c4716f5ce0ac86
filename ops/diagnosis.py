"""Why can't the internet reach this ECS service? Walk the whole path and name every root cause.

The example tracker checked each link by hand (MapPublicIpOnLaunch, the route table, the service's
`assignPublicIp`, DNS) and every one looked right, yet the tasks had no public IP. The links it did
not look at are the ones that decide: the public IP of an awsvpc task lives on the task's ENI and
is given when the task starts, from the network configuration of the deployment that started it,
not from the service's current one nor from the subnet. So the walk follows the real path of a
packet to a running task, in this order:

    service -> running tasks -> launch type -> deployments -> task definition -> image
    -> task ENI public IP -> the subnet's route table -> internet gateway -> network ACL
    -> security groups on the ENI -> VPC Block Public Access

and it does not stop at the first fault: a stale deployment, a closed port and a missing route are
three fixes, and knowing only the first costs the team another round trip.

Each rule is a pure function of the describe responses (`*_findings`), testable without AWS; the
walk (`diagnose_ecs`) makes the calls, batched (one describe per resource type, whatever the
number of tasks), and turns an AWS failure into an "unknown" step that names the operation and,
for AccessDenied, the missing permission, so one unanswered call never hides the other findings.
Evidence keys are field paths into the response of the call the step names, e.g.
`services[0].deployments[0].networkConfiguration.awsvpcConfiguration.assignPublicIp`.

Only IPv4 reachability through an internet gateway is judged (a public IP on the task). Traffic
through a load balancer, IPv6-only tasks and AWS Reachability Analyzer (asynchronous and billed)
are out of scope here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from ops import aws

Verdict = Literal["reachable", "unreachable", "unknown"]
StepStatus = Literal["ok", "problem", "unknown", "skipped"]


class Code(StrEnum):
    """The root causes the walk can name; the codes are part of the JSON output and the API."""

    ECS_LAUNCH_TYPE_NO_PUBLIC_IP = "ECS_LAUNCH_TYPE_NO_PUBLIC_IP"
    DEPLOYMENT_NETWORK_CONFIG_STALE = "DEPLOYMENT_NETWORK_CONFIG_STALE"
    TASK_DEFINITION_OUTDATED = "TASK_DEFINITION_OUTDATED"
    NO_RUNNING_TASKS = "NO_RUNNING_TASKS"
    TASK_ENI_NO_PUBLIC_IP = "TASK_ENI_NO_PUBLIC_IP"
    SUBNET_NO_INTERNET_ROUTE = "SUBNET_NO_INTERNET_ROUTE"
    INTERNET_ROUTE_BLACKHOLE = "INTERNET_ROUTE_BLACKHOLE"
    IGW_NOT_ATTACHED = "IGW_NOT_ATTACHED"
    NACL_BLOCKS_INGRESS = "NACL_BLOCKS_INGRESS"
    NACL_BLOCKS_EGRESS = "NACL_BLOCKS_EGRESS"
    SECURITY_GROUP_PORT_CLOSED = "SECURITY_GROUP_PORT_CLOSED"
    CONTAINER_PORT_MISMATCH = "CONTAINER_PORT_MISMATCH"
    IMAGE_NOT_FOUND = "IMAGE_NOT_FOUND"
    VPC_BLOCK_PUBLIC_ACCESS = "VPC_BLOCK_PUBLIC_ACCESS"


@dataclass(frozen=True)
class RootCause:
    code: str
    summary: str
    evidence: dict[str, Any]  # AWS field path -> the value read there
    remediation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "summary": self.summary,
            "evidence": self.evidence,
            "remediation": self.remediation,
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
    for kind, items in (("deployments", service.get("deployments") or []), ("taskSets", service.get("taskSets") or [])):
        for index, item in enumerate(items):
            if item.get("status") != "PRIMARY" and not item.get("runningCount"):
                continue
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


def task_findings(service: dict[str, Any], tasks: list[tuple[int, dict[str, Any]]], *, cluster: str) -> list[RootCause]:
    """No task running at all, or running tasks on another task definition than the service's.

    `tasks` are the service's tasks as (index in the DescribeTasks response, task) pairs.
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
                "Read why tasks stop (aws ecs describe-tasks on a stopped task: stoppedReason; the service's events), "
                f"and make sure desiredCount is above 0 (aws ecs update-service --cluster {cluster} "
                f"--service {name} --desired-count 1).",
            )
        ]
    wanted = service.get("taskDefinition")
    outdated = [
        (index, task) for index, task in running if not same_task_definition(task.get("taskDefinitionArn"), wanted)
    ]
    if not outdated:
        return []
    evidence = {"services[0].taskDefinition": wanted}
    for index, task in outdated:
        evidence[f"tasks[{index}].taskDefinitionArn"] = task.get("taskDefinitionArn")
    revisions = sorted({task_definition_key(task.get("taskDefinitionArn")) for _, task in outdated})
    return [
        RootCause(
            Code.TASK_DEFINITION_OUTDATED,
            f"{len(outdated)} of {len(running)} running tasks run {', '.join(revisions)}, "
            f"not the service's {task_definition_key(wanted)}: the update has not reached them.",
            evidence,
            f"Roll the tasks onto {task_definition_key(wanted)}: aws ecs update-service --cluster {cluster} "
            f"--service {name} --force-new-deployment, then watch the deployment's rolloutState.",
        )
    ]


def port_mapping_findings(task_definition: dict[str, Any], *, port: int) -> list[RootCause]:
    """No container maps the port (awsvpc: hostPort = containerPort), so the ENI has nothing listening there."""
    containers = task_definition.get("containerDefinitions") or []
    for container in containers:
        for mapping in container.get("portMappings") or []:
            if (mapping.get("protocol") or "tcp") != "tcp":
                continue
            if mapping.get("containerPort") == port:
                return []
            low, _, high = (mapping.get("containerPortRange") or "").partition("-")
            if low.isdigit() and int(low) <= port <= int(high or low):
                return []
    evidence: dict[str, Any] = {"taskDefinition.taskDefinitionArn": task_definition.get("taskDefinitionArn")}
    for index, container in enumerate(containers):
        evidence[f"taskDefinition.containerDefinitions[{index}].portMappings"] = container.get("portMappings") or []
    return [
        RootCause(
            Code.CONTAINER_PORT_MISMATCH,
            f"No container of {task_definition_key(task_definition.get('taskDefinitionArn'))} maps TCP port {port}.",
            evidence,
            f"Add portMappings [{{containerPort: {port}, protocol: tcp}}] to the container that serves on {port}, "
            "register a new revision and update the service to it; the application must also listen on "
            "0.0.0.0, not 127.0.0.1.",
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


def route_findings(
    subnet_id: str, vpc_id: str, route_tables: list[dict[str, Any]]
) -> tuple[str | None, list[RootCause]]:
    """An active 0.0.0.0/0 route to an igw- in the table that applies; returns (that igw id, findings)."""
    applied = applied_route_table(subnet_id, vpc_id, route_tables)
    remedy = (
        f"Give {subnet_id} a route table with 0.0.0.0/0 -> an internet gateway attached to {vpc_id} "
        "(aws ec2 create-route --route-table-id <rtb> --destination-cidr-block 0.0.0.0/0 --gateway-id <igw>, "
        "and associate-route-table for the subnet), or run the tasks in a public subnet."
    )
    if applied.table is None:
        return None, [
            RootCause(
                Code.SUBNET_NO_INTERNET_ROUTE, f"{vpc_id} has no route table for {subnet_id}.", applied.evidence, remedy
            )
        ]
    base = f"RouteTables[{applied.index}]"
    evidence = {f"{base}.RouteTableId": applied.table.get("RouteTableId"), **applied.evidence}
    routes = applied.table.get("Routes") or []
    default = next(
        ((i, route) for i, route in enumerate(routes) if route.get("DestinationCidrBlock") == "0.0.0.0/0"), None
    )
    if default is None:
        evidence[f"{base}.Routes"] = routes
        return None, [
            RootCause(
                Code.SUBNET_NO_INTERNET_ROUTE,
                f"The route table {applied.table.get('RouteTableId')} ({applied.association} association) of "
                f"{subnet_id} has no 0.0.0.0/0 route: the subnet is private.",
                evidence,
                remedy,
            )
        ]
    position, route = default
    evidence[f"{base}.Routes[{position}]"] = route
    target = route.get("GatewayId") or ""
    if not target.startswith("igw-"):
        via = next((route[key] for key in sorted(route) if key.endswith("Id") and route[key]), "nothing")
        return None, [
            RootCause(
                Code.SUBNET_NO_INTERNET_ROUTE,
                f"0.0.0.0/0 in {applied.table.get('RouteTableId')} goes to {via}, not to an internet gateway: "
                "outbound traffic may leave, but nothing from the internet can come in.",
                evidence,
                remedy,
            )
        ]
    if route.get("State") == "blackhole":
        return target, [
            RootCause(
                Code.INTERNET_ROUTE_BLACKHOLE,
                f"0.0.0.0/0 -> {target} in {applied.table.get('RouteTableId')} is a blackhole: the gateway was "
                "deleted or detached.",
                evidence,
                f"Attach an internet gateway to {vpc_id} and replace the route "
                f"(aws ec2 replace-route --route-table-id {applied.table.get('RouteTableId')} "
                "--destination-cidr-block 0.0.0.0/0 --gateway-id <attached igw>).",
            )
        ]
    return target, []


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


def _entry_matches(entry: dict[str, Any], *, egress: bool, port: int) -> bool:
    """Does this NACL entry apply to TCP traffic on `port` from/to any internet address?

    Only entries whose CIDR is 0.0.0.0/0 decide for an arbitrary client: a narrower allow lets in
    some clients only, a narrower deny shuts out some only, and neither answers "from the internet".
    """
    if bool(entry.get("Egress")) != egress or not entry.get("CidrBlock"):
        return False
    if ipaddress.ip_network(entry["CidrBlock"], strict=False).prefixlen != 0:
        return False
    protocol = str(entry.get("Protocol"))
    if protocol == "-1":
        return True
    if protocol not in ("6", "tcp"):
        return False
    ports = entry.get("PortRange") or {}
    return ports.get("From", 0) <= port <= ports.get("To", 65535)


def nacl_decision(
    entries: list[dict[str, Any]], *, egress: bool, port: int
) -> tuple[int | None, dict[str, Any] | None]:
    """The entry that decides (lowest rule number that matches wins); (None, None) means the implicit deny."""
    ordered = sorted(enumerate(entries), key=lambda pair: pair[1].get("RuleNumber", 0))
    for index, entry in ordered:
        if _entry_matches(entry, egress=egress, port=port):
            return index, entry
    return None, None


def _denied_port_ranges(entries: list[dict[str, Any]], low: int, high: int) -> list[tuple[int, int, int | None]]:
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
        index, entry = nacl_decision(entries, egress=True, port=start)
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


def nacl_findings(network_acls: list[dict[str, Any]], *, subnet_id: str, port: int) -> list[RootCause]:
    """NACLs are stateless: the port must be allowed in, and the clients' ephemeral ports out."""
    found = _acl_of(network_acls, subnet_id)
    if found is None:
        return []  # the response holds no ACL for the subnet: nothing to judge
    index, position, acl = found
    acl_id = acl.get("NetworkAclId")
    entries = acl.get("Entries") or []
    base = f"NetworkAcls[{index}]"
    identity = {f"{base}.NetworkAclId": acl_id, f"{base}.Associations[{position}].SubnetId": subnet_id}
    findings = []
    entry_index, entry = nacl_decision(entries, egress=False, port=port)
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
                f"The network ACL {acl_id} of {subnet_id} denies inbound TCP {port} from 0.0.0.0/0 ({rule}).",
                evidence,
                f"Add an inbound allow for TCP {port} from 0.0.0.0/0 with a rule number below the deny "
                f"(aws ec2 create-network-acl-entry --network-acl-id {acl_id} --ingress --rule-number <n> "
                f"--protocol tcp --port-range From={port},To={port} --cidr-block 0.0.0.0/0 --rule-action allow).",
            )
        )
    low, high = EPHEMERAL_PORTS
    denied = _denied_port_ranges(entries, low, high)
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
                f"The network ACL {acl_id} of {subnet_id} denies outbound TCP {ranges} to 0.0.0.0/0: NACLs are "
                "stateless, so replies to clients' ephemeral ports are dropped.",
                evidence,
                f"Allow outbound TCP {low}-{high} to 0.0.0.0/0 with a rule number below the deny "
                f"(aws ec2 create-network-acl-entry --network-acl-id {acl_id} --egress --rule-number <n> "
                f"--protocol tcp --port-range From={low},To={high} --cidr-block 0.0.0.0/0 --rule-action allow).",
            )
        )
    return findings


def _permission_opens(permission: dict[str, Any], *, port: int, ipv6: bool) -> bool:
    protocol = str(permission.get("IpProtocol"))
    if protocol not in ("-1", "tcp", "6"):
        return False
    if protocol != "-1" and not (permission.get("FromPort", 0) <= port <= permission.get("ToPort", 65535)):
        return False
    if any(r.get("CidrIp") == "0.0.0.0/0" for r in permission.get("IpRanges") or []):
        return True
    return ipv6 and any(r.get("CidrIpv6") == "::/0" for r in permission.get("Ipv6Ranges") or [])


def security_group_findings(
    *, group_ids: list[str], security_groups: list[dict[str, Any]], port: int, ipv6: bool, origin: dict[str, Any]
) -> list[RootCause]:
    """The groups on the ENI (their rules add up) must open TCP `port` to 0.0.0.0/0 (or ::/0 for an IPv6 ENI).

    A group checked by hand is often not the one on the ENI (omitted groups mean the VPC's default
    group), hence `origin`: where the group ids were read, as evidence.
    """
    by_id = {group["GroupId"]: (index, group) for index, group in enumerate(security_groups)}
    evidence = dict(origin)
    for group_id in group_ids:
        if group_id not in by_id:
            evidence[f"SecurityGroups[?GroupId=='{group_id}']"] = []
            continue
        index, group = by_id[group_id]
        if any(_permission_opens(p, port=port, ipv6=ipv6) for p in group.get("IpPermissions") or []):
            return []
        evidence[f"SecurityGroups[{index}].GroupId"] = group_id
        evidence[f"SecurityGroups[{index}].IpPermissions"] = group.get("IpPermissions") or []
    sources = "0.0.0.0/0 or ::/0" if ipv6 else "0.0.0.0/0"
    return [
        RootCause(
            Code.SECURITY_GROUP_PORT_CLOSED,
            f"None of the security groups on the task ({', '.join(group_ids) or 'none'}) allows inbound TCP {port} "
            f"from {sources}.",
            evidence,
            f"aws ec2 authorize-security-group-ingress --group-id {group_ids[0] if group_ids else '<sg>'} "
            f"--protocol tcp --port {port} --cidr 0.0.0.0/0 "
            "(or allow the load balancer's group if one fronts the service).",
        )
    ]


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


# --- the walk: the calls, in as few batched describes as possible ---------------------------------


def chunked(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"})
NOT_IMPLEMENTED = frozenset({"NotImplemented", "InvalidAction", "UnknownOperationException", "UnsupportedOperation"})


class _Unknown(Exception):
    """The step cannot tell. The message is for people (operation, code, permission)."""


class _AwsCallFailed(Exception):
    """An AWS call of the walk failed; `code` is the AWS error code (or the botocore error's name)."""

    def __init__(self, operation: str, error: Exception) -> None:
        super().__init__(explain_aws_error(error, operation))
        self.operation, self.error = operation, error
        self.code = (
            error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else type(error).__name__
        )


class _Skipped(Exception):
    """The step has nothing to look at (e.g. no running task, so no ENI)."""


def explain_aws_error(error: Exception, operation: str) -> str:
    """An AWS failure in words: the operation, the code, the missing permission or the unimplemented call."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code, message = info.get("Code", "Unknown"), info.get("Message", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ACCESS_DENIED:
            return f"{operation}: {code}, missing permission {operation.replace('.', ':', 1)}."
        if code in NOT_IMPLEMENTED or status == 501:
            return f"{operation}: this endpoint does not implement it ({code})."
        if status and status >= 500:
            return f"{operation}: AWS answered HTTP {status} {code} after the retries; try again later."
        return f"{operation}: {code}: {message}".rstrip(": ")
    if isinstance(error, ResponseParserError):
        # moto answers calls it does not implement with an HTML 500 page.
        return f"{operation}: the endpoint's answer is not an AWS response; it probably does not implement it."
    if isinstance(error, NoCredentialsError):
        return f"{operation}: no AWS credentials in the standard chain (environment, profile, instance role)."
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return f"{operation}: could not reach the endpoint ({type(error).__name__})."
    return f"{operation}: {type(error).__name__}: {error}"


class _Walk:
    """One diagnosis: the steps in the order a packet meets them, each reading what the earlier ones learnt."""

    STEPS = (
        ("service", "step_service"),
        ("running tasks", "step_tasks"),
        ("launch type", "step_launch_type"),
        ("deployments", "step_deployments"),
        ("task definition", "step_task_definition"),
        ("image", "step_image"),
        ("task public IP", "step_public_ip"),
        ("route to the internet", "step_routes"),
        ("internet gateway", "step_gateways"),
        ("network ACLs", "step_nacls"),
        ("security groups", "step_security_groups"),
        ("VPC Block Public Access", "step_block_public_access"),
    )

    def __init__(self, *, cluster: str, service: str, region: str, port: int, environment: Any) -> None:
        self.cluster, self.service_name, self.region, self.port = cluster, service, region, port
        self.environment = environment
        self.root_causes: list[RootCause] = []
        self.steps: list[Step] = []
        self.calls: list[str] = []
        self.stop = ""  # why the steps after "service" have nothing to look at
        # What the steps learn and pass on.
        self.service: dict[str, Any] = {}
        self.tasks_read = False
        self.tasks: list[tuple[int, dict[str, Any]]] = []  # the service's tasks, (index in DescribeTasks, task)
        self.running: list[tuple[int, dict[str, Any]]] = []
        self.task_definition: dict[str, Any] = {}
        self.interfaces: list[dict[str, Any]] = []
        # Where a packet must get to: (subnet, groups on the way in, where they were read). The
        # service's configuration until the task ENIs are read, then the ENIs, which are the truth.
        self.targets: list[dict[str, Any]] = []
        self.targets_from = "the service's networkConfiguration"
        self.subnets: dict[str, dict[str, Any]] = {}
        self.gateways: dict[str, str] = {}  # igw id -> vpc id, from the routes

    # AWS plumbing ---------------------------------------------------------------------------------

    def client(self, service: str, region: str | None = None):
        return aws.client(service, region=region or self.region, environment=self.environment)

    @staticmethod
    def _operation(client, method: str) -> str:
        model = client.meta.service_model
        return f"{model.signing_name}.{client.meta.method_to_api_mapping[method]}"

    def call(self, client, method: str, **kwargs) -> dict[str, Any]:
        operation = self._operation(client, method)
        self.calls.append(operation)
        try:
            return getattr(client, method)(**kwargs)
        except (ClientError, BotoCoreError, ResponseParserError) as error:
            raise _AwsCallFailed(operation, error) from error

    def pages(self, client, method: str, key: str, **kwargs) -> list[dict[str, Any]]:
        operation = self._operation(client, method)
        items: list[dict[str, Any]] = []
        try:
            if client.can_paginate(method):
                for page in client.get_paginator(method).paginate(**kwargs):
                    self.calls.append(operation)
                    items.extend(page.get(key) or [])
                return items
            token = None  # botocore has no paginator for some newer calls: follow NextToken by hand
            while True:
                page = getattr(client, method)(**kwargs, **({"NextToken": token} if token else {}))
                self.calls.append(operation)
                items.extend(page.get(key) or [])
                token = page.get("NextToken")
                if not token:
                    break
        except (ClientError, BotoCoreError, ResponseParserError) as error:
            self.calls.append(operation)  # the page that failed
            raise _AwsCallFailed(operation, error) from error
        return items

    # the walk ---------------------------------------------------------------------------------------

    def run(self) -> Diagnosis:
        for name, method in self.STEPS:
            self.steps.append(self._run_step(name, getattr(self, method)))
        if self.root_causes:
            verdict: Verdict = "unreachable"
        elif any(step.status == "unknown" for step in self.steps):  # including a service that does not exist
            verdict = "unknown"
        else:
            verdict = "reachable"
        return Diagnosis(verdict, self.root_causes, self.steps)

    def _run_step(self, name: str, body: Callable[[], tuple[str, list[RootCause]]]) -> Step:
        self.calls = []
        if self.stop:
            return Step(name, "skipped", self.stop)
        try:
            detail, findings = body()
        except _Skipped as skipped:
            return Step(name, "skipped", str(skipped), self.calls)
        except (_Unknown, _AwsCallFailed) as unknown:
            return Step(name, "unknown", str(unknown), self.calls)
        for cause in findings:
            if cause not in self.root_causes:
                self.root_causes.append(cause)
        status: StepStatus = "problem" if findings else "ok"
        return Step(name, status, detail, self.calls)

    def step_service(self) -> tuple[str, list[RootCause]]:
        ecs = self.client("ecs")
        try:
            answer = self.call(ecs, "describe_services", cluster=self.cluster, services=[self.service_name])
        except _AwsCallFailed as failed:
            self.stop = "Needs the service, which could not be read."
            if failed.code == "ClusterNotFoundException":
                self.stop = "Nothing to look at: the cluster does not exist."
                raise _Unknown(f"The cluster {self.cluster} does not exist in {self.region}.") from failed
            raise
        services = [s for s in answer.get("services") or [] if s.get("status") != "INACTIVE"]
        if not services:
            self.stop = "Nothing to look at: the service does not exist."
            reasons = ", ".join(f.get("reason", "") for f in answer.get("failures") or []) or "INACTIVE"
            raise _Unknown(
                f"The service {self.service_name} does not exist in the cluster {self.cluster} "
                f"({self.region}): {reasons}."
            )
        self.service = services[0]
        svc = self.service
        conf = awsvpc(svc.get("networkConfiguration")) or {}
        origin = {"services[0].networkConfiguration.awsvpcConfiguration.securityGroups": conf.get("securityGroups")}
        self.targets = [
            {"subnet": subnet, "groups": conf.get("securityGroups", []), "ipv6": False, "origin": origin}
            for subnet in conf.get("subnets", [])
        ]
        capacity = svc.get("launchType") or ", ".join(
            p.get("capacityProvider", "") for p in svc.get("capacityProviderStrategy") or []
        )
        return (
            f"{svc.get('serviceName')}: {svc.get('status')}, desired {svc.get('desiredCount')}, "
            f"running {svc.get('runningCount')}, task definition {task_definition_key(svc.get('taskDefinition'))}, "
            f"{capacity or 'cluster default capacity'}, controller "
            f"{(svc.get('deploymentController') or {}).get('type', 'ECS')}, "
            f"assignPublicIp {conf.get('assignPublicIp', 'n/a')}.",
            [],
        )

    def step_tasks(self) -> tuple[str, list[RootCause]]:
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
        findings = task_findings(self.service, self.tasks, cluster=self.cluster)
        versions = sorted({task_definition_key(t.get("taskDefinitionArn")) for _, t in self.running})
        return f"{len(self.running)} running task(s) on {', '.join(versions) or 'nothing'}.", findings

    def step_launch_type(self) -> tuple[str, list[RootCause]]:
        svc = self.service
        cluster = None
        if not svc.get("launchType") and not svc.get("capacityProviderStrategy"):
            answer = self.call(self.client("ecs"), "describe_clusters", clusters=[self.cluster])
            cluster = (answer.get("clusters") or [{}])[0]
        findings = launch_type_findings(svc, cluster=cluster, tasks=self.running)
        if cluster is not None:
            strategy = cluster.get("defaultCapacityProviderStrategy") or []
            where = "the cluster's default strategy " + (
                ", ".join(p.get("capacityProvider", "") for p in strategy) or "(empty)"
            )
        else:
            where = svc.get("launchType") or "the service's capacity provider strategy"
        return f"Capacity: {where}; tasks on {self._task_capacity() or 'nothing yet'}.", findings

    def _task_capacity(self) -> str:
        kinds = {task.get("capacityProviderName") or task.get("launchType") or "?" for _, task in self.running}
        return ", ".join(sorted(kinds))

    def step_deployments(self) -> tuple[str, list[RootCause]]:
        svc = self.service
        if awsvpc(svc.get("networkConfiguration")) is None and not svc.get("taskSets"):
            raise _Skipped("The service has no awsvpc network configuration to compare deployments with.")
        findings = deployment_findings(svc, cluster=self.cluster)
        described = [
            f"{d.get('status')} {d.get('id')} ({d.get('rolloutState', 'no rollout state')}, "
            f"assignPublicIp {(awsvpc(d.get('networkConfiguration')) or {}).get('assignPublicIp', 'n/a')})"
            for d in (svc.get("deployments") or []) + (svc.get("taskSets") or [])
        ]
        return "; ".join(described) or "No deployment listed.", findings

    def step_task_definition(self) -> tuple[str, list[RootCause]]:
        # EXTERNAL-controller services name their task definition on the task sets only.
        primary = [t for t in self.service.get("taskSets") or [] if t.get("status") == "PRIMARY"]
        wanted = self.service.get("taskDefinition") or (primary[0].get("taskDefinition") if primary else None)
        if not wanted:
            raise _Skipped("The service names no task definition.")
        answer = self.call(self.client("ecs"), "describe_task_definition", taskDefinition=wanted)
        self.task_definition = answer["taskDefinition"]
        mode = self.task_definition.get("networkMode")
        if mode != "awsvpc":
            raise _Unknown(
                f"networkMode is {mode or 'bridge'}: this diagnosis covers awsvpc services, "
                "whose tasks have their own ENI."
            )
        findings = port_mapping_findings(self.task_definition, port=self.port)
        containers = self.task_definition.get("containerDefinitions") or []
        mapped = sorted(
            {m["containerPort"] for c in containers for m in c.get("portMappings") or [] if "containerPort" in m}
        )
        return f"{task_definition_key(self.task_definition.get('taskDefinitionArn'))} maps ports {mapped}.", findings

    def step_image(self) -> tuple[str, list[RootCause]]:
        if not self.task_definition:
            raise _Skipped("The task definition was not read.")
        images = ecr_images(self.task_definition)
        if not images:
            raise _Skipped("No container image is in ECR; other registries are not checked.")
        errors: dict[str, str] = {}
        by_repository: dict[tuple[str, str, str], list[EcrImage]] = {}
        for image in images:
            by_repository.setdefault((image.region, image.registry_id, image.repository), []).append(image)
        for (region, registry, repository), wanted in by_repository.items():
            ecr = self.client("ecr", region)
            # One call per repository; ECR fails the whole call for one missing id, so then ask one by one.
            batches = [wanted] if len(wanted) == 1 else [wanted, *[[image] for image in wanted]]
            for batch in batches:
                try:
                    self.call(ecr, "describe_images", registryId=registry, repositoryName=repository,
                              imageIds=[image.image_id for image in batch])  # fmt: skip
                except _AwsCallFailed as failed:
                    if failed.code not in ("ImageNotFoundException", "RepositoryNotFoundException"):
                        raise
                    if len(batch) == 1 or failed.code == "RepositoryNotFoundException":
                        errors.update({image.uri: failed.code for image in batch})
                        break
                    continue
                break
        return f"In ECR: {', '.join(i.uri for i in images if i.uri not in errors) or 'none'}.", image_findings(
            images, errors
        )

    def step_public_ip(self) -> tuple[str, list[RootCause]]:
        if self.task_definition and self.task_definition.get("networkMode") != "awsvpc":
            raise _Skipped("Not an awsvpc service.")
        if not self.tasks_read:
            raise _Skipped("The tasks could not be read; the next steps check the service's subnets and groups.")
        enis = task_enis(self.running)
        if not enis:
            # Without a task, judge the path a new task would take: the service's subnets and groups.
            raise _Skipped("No running task, so no ENI; the next steps check the service's subnets and groups.")
        self.interfaces = self.pages(
            self.client("ec2"),
            "describe_network_interfaces",
            "NetworkInterfaces",
            Filters=[{"Name": "network-interface-id", "Values": sorted(enis)}],
        )
        self.targets, self.targets_from = [], "the task ENIs"
        for index, eni in enumerate(self.interfaces):
            groups = eni.get("Groups") or []
            self.targets.append(
                {
                    "subnet": eni.get("SubnetId"),
                    "groups": [g["GroupId"] for g in groups],
                    "ipv6": bool(eni.get("Ipv6Addresses")),
                    "origin": {f"NetworkInterfaces[{index}].Groups": groups},
                }
            )
        tasks = dict(self.running)
        findings = public_ip_findings(enis, tasks, self.interfaces)
        shown = ", ".join(
            f"{eni['NetworkInterfaceId']} in {eni.get('SubnetId')}: "
            f"{(eni.get('Association') or {}).get('PublicIp') or 'no public IP'}"
            for eni in self.interfaces
        )
        return shown or "The task ENIs no longer exist.", findings

    def _target_subnets(self) -> list[str]:
        return sorted({target["subnet"] for target in self.targets if target["subnet"]})

    def step_routes(self) -> tuple[str, list[RootCause]]:
        subnet_ids = self._target_subnets()
        if not subnet_ids:
            raise _Skipped("No subnet to check.")
        ec2 = self.client("ec2")
        subnets = self.pages(ec2, "describe_subnets", "Subnets", Filters=[{"Name": "subnet-id", "Values": subnet_ids}])
        self.subnets = {subnet["SubnetId"]: subnet for subnet in subnets}
        vpc_ids = sorted({subnet["VpcId"] for subnet in subnets})
        tables = self.pages(
            ec2, "describe_route_tables", "RouteTables", Filters=[{"Name": "vpc-id", "Values": vpc_ids}]
        )
        findings: list[RootCause] = []
        lines = []
        for subnet_id in subnet_ids:
            subnet = self.subnets.get(subnet_id)
            if subnet is None:
                raise _Unknown(f"ec2.DescribeSubnets did not return {subnet_id}: the subnet was deleted.")
            igw, found = route_findings(subnet_id, subnet["VpcId"], tables)
            findings += found
            if igw and not any(c.code == Code.INTERNET_ROUTE_BLACKHOLE for c in found):
                self.gateways[igw] = subnet["VpcId"]
            applied = applied_route_table(subnet_id, subnet["VpcId"], tables)
            lines.append(
                f"{subnet_id} (MapPublicIpOnLaunch {subnet.get('MapPublicIpOnLaunch')}, which Fargate ignores) -> "
                f"{(applied.table or {}).get('RouteTableId', 'no table')} ({applied.association}): "
                f"0.0.0.0/0 -> {igw or 'no internet gateway'}"
            )
        return f"From {self.targets_from}: " + "; ".join(lines) + ".", findings

    def step_gateways(self) -> tuple[str, list[RootCause]]:
        if not self.gateways:
            raise _Skipped("No route to an internet gateway to follow.")
        gateways = self.pages(
            self.client("ec2"),
            "describe_internet_gateways",
            "InternetGateways",
            Filters=[{"Name": "internet-gateway-id", "Values": sorted(self.gateways)}],
        )
        findings = [cause for igw, vpc in sorted(self.gateways.items()) for cause in igw_findings(igw, vpc, gateways)]
        attached = ", ".join(
            f"{g['InternetGatewayId']} -> "
            + (", ".join(a.get("VpcId", "") for a in g.get("Attachments") or []) or "detached")
            for g in gateways
        )
        return attached or "The gateway does not exist.", findings

    def step_nacls(self) -> tuple[str, list[RootCause]]:
        subnet_ids = self._target_subnets()
        if not subnet_ids:
            raise _Skipped("No subnet to check.")
        acls = self.pages(
            self.client("ec2"),
            "describe_network_acls",
            "NetworkAcls",
            Filters=[{"Name": "association.subnet-id", "Values": subnet_ids}],
        )
        findings = [cause for subnet in subnet_ids for cause in nacl_findings(acls, subnet_id=subnet, port=self.port)]
        return (
            f"{', '.join(a['NetworkAclId'] for a in acls) or 'no ACL found'}: inbound TCP {self.port} and outbound "
            f"{EPHEMERAL_PORTS[0]}-{EPHEMERAL_PORTS[1]} from/to 0.0.0.0/0 checked.",
            findings,
        )

    def step_security_groups(self) -> tuple[str, list[RootCause]]:
        group_ids = sorted({group for target in self.targets for group in target["groups"]})
        if not group_ids:
            raise _Skipped("No security group to check.")
        groups = self.pages(
            self.client("ec2"),
            "describe_security_groups",
            "SecurityGroups",
            Filters=[{"Name": "group-id", "Values": group_ids}],
        )
        findings: list[RootCause] = []
        seen: set[tuple[str, ...]] = set()
        for target in self.targets:
            key = tuple(sorted(target["groups"]))
            if key in seen:
                continue
            seen.add(key)
            findings += security_group_findings(
                group_ids=list(key),
                security_groups=groups,
                port=self.port,
                ipv6=target["ipv6"],
                origin=target["origin"],
            )
        return f"{', '.join(group_ids)} checked for inbound TCP {self.port} from the internet.", findings

    def step_block_public_access(self) -> tuple[str, list[RootCause]]:
        vpc_ids = sorted(
            {subnet["VpcId"] for subnet in self.subnets.values()} | {eni["VpcId"] for eni in self.interfaces}
        )
        if not vpc_ids:
            raise _Skipped("No VPC to check.")
        ec2 = self.client("ec2")
        options = self.call(ec2, "describe_vpc_block_public_access_options").get("VpcBlockPublicAccessOptions") or {}
        mode = options.get("InternetGatewayBlockMode") or "off"
        if mode == "off":
            return "InternetGatewayBlockMode is off.", []
        exclusions = self.pages(ec2, "describe_vpc_block_public_access_exclusions", "VpcBlockPublicAccessExclusions")
        findings = []
        for vpc_id in vpc_ids:
            subnets = [s for s, subnet in self.subnets.items() if subnet["VpcId"] == vpc_id]
            findings += block_public_access_findings(options, exclusions, vpc_id=vpc_id, subnet_ids=subnets)
        return f"InternetGatewayBlockMode is {mode}; {len(exclusions)} exclusion(s) in the region.", findings


STEP_NAMES = tuple(name for name, _ in _Walk.STEPS)


def diagnose_ecs(*, cluster: str, service: str, region: str, port: int, environment: Any = None) -> Diagnosis:
    """Walk the path from the internet to the service's tasks on `port` and name every root cause found.

    Verdict: "unreachable" when a root cause was found (even if a step could not tell), "unknown"
    when none was found but a step could not tell or the service does not exist, else "reachable".
    """
    return _Walk(cluster=cluster, service=service, region=region, port=port, environment=environment).run()
