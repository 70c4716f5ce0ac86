"""The walk: the AWS calls of a diagnosis, in as few batched describes as possible, step by step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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

from .model import (
    EPHEMERAL_PORTS,
    Code,
    Diagnosis,
    RootCause,
    Step,
    StepStatus,
    Verdict,
)
from .network import (
    applied_route_table,
    block_public_access_findings,
    igw_findings,
    nacl_findings,
    route_findings,
    security_group_findings,
)
from .rules import (
    EcrImage,
    awsvpc,
    deployment_findings,
    ecr_images,
    image_findings,
    is_service_task,
    launch_type_findings,
    port_mapping_findings,
    public_ip_findings,
    task_definition_key,
    task_enis,
    task_findings,
)

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
