"""ECS, ECR and load balancer checks.

`ecs_service_network` and `ecs_service_steady` each make one `describe_services` per (cluster, up
to 10 services), the API's limit. A service's own `networkConfiguration` is what the next deployment
will use; what runs is the PRIMARY deployment's (or, for CODE_DEPLOY and EXTERNAL controllers, the
PRIMARY task set's). After `update_service` the two disagree until the new deployment rolls out:
the observed value is the running one, and the message says when the service says otherwise.
That disagreement is how the example's "assignPublicIp: ENABLED but no public IP" happened.

`ecr_image_tag` asks `describe_images` once per repository for all its checked tags. ECR fails
that whole call when one tag is missing (ImageNotFoundException), so the repository's tagged
images are then listed instead (paginated) to tell which tags are there.

`elb_target_health` makes one `describe_target_health` per target group: the API takes a single
target group, there is no batch form.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError

from .base import FAIL, PASS, CallLog, CheckType, ClientFor, Observation, Target, aws_error, chunks, register
from .rules import Params, expected_true, jsonable

DESCRIBE_SERVICES = "ecs.DescribeServices"
SERVICES_PER_CALL = 10
TAGS_PER_CALL = 100  # describe_images takes at most 100 image ids
NAME = r"[A-Za-z0-9][A-Za-z0-9_\-]{0,254}|arn:aws[\w-]*:ecs:[\w-]+:\d{12}:[\w/\-]+"
REPOSITORY = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
TAG = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}"
TARGET_GROUP_ARN = r"arn:aws[\w-]*:elasticloadbalancing:[\w-]+:\d{12}:targetgroup/[\w\-]+/[0-9a-f]+"
TARGET_STATES = ("healthy", "unhealthy", "initial", "unused", "draining", "unavailable", "unhealthy.draining")


# --- ECS services ---------------------------------------------------------------------------------


def _describe_services(targets: list[Target], client, calls: CallLog) -> dict[int, dict[str, Any] | Observation]:
    """Each target's service description, or an ERROR observation for it; batched per cluster."""
    by_cluster: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        by_cluster[target.params["cluster"]].append(target)
    found: dict[int, dict[str, Any] | Observation] = {}
    for cluster, members in by_cluster.items():
        names = list(dict.fromkeys(target.params["service"] for target in members))
        for batch in chunks(names, SERVICES_PER_CALL):
            try:
                answer = calls.call(client, "describe_services", cluster=cluster, services=batch)
            except (ClientError, BotoCoreError) as error:
                failed = aws_error(error, DESCRIBE_SERVICES)
                found.update({t.id: failed for t in members if t.params["service"] in batch})
                continue
            services = {}
            for service in answer.get("services", []):
                services[service.get("serviceName")] = service
                services[service.get("serviceArn")] = service
            failures = answer.get("failures", [])
            for target in members:
                name = target.params["service"]
                if name not in batch:
                    continue
                service = services.get(name)
                if service is not None and service.get("status") != "INACTIVE":
                    found[target.id] = service
                    continue
                if service is not None:
                    found[target.id] = Observation.error(
                        "INACTIVE", f"{DESCRIBE_SERVICES}: service {name} in cluster {cluster} is INACTIVE (deleted)."
                    )
                    continue
                reason = next(
                    (f.get("reason", "") for f in failures if f.get("arn") == name or _ends(f.get("arn"), name)),
                    "MISSING",
                )
                found[target.id] = Observation.error(
                    reason or "MISSING", f"{DESCRIBE_SERVICES}: no service {name} in cluster {cluster} ({reason})."
                )
    return found


def _ends(arn: str | None, name: str) -> bool:
    return bool(arn) and arn.endswith("/" + name.rsplit("/", 1)[-1])


def _running(service: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """("deployments[PRIMARY]" or "taskSets[PRIMARY]", it) - what actually runs the service's tasks."""
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return "deployments[PRIMARY]", deployment
    for task_set in service.get("taskSets") or []:
        if task_set.get("status") == "PRIMARY":
            return "taskSets[PRIMARY]", task_set
    return "deployments[PRIMARY]", None


def _ecs_params(params: dict[str, Any], extra: list[str]) -> Params:
    p = Params(params, ["cluster", "service", *extra])
    p.text("cluster", pattern=NAME, hint="an ECS cluster name or ARN", max_length=1600)
    p.text("service", pattern=NAME, hint="an ECS service name or ARN", max_length=1600)
    return p


NETWORK_FIELDS = ("assignPublicIp", "subnets", "securityGroups")


def _value(field: str, holder: dict[str, Any] | None) -> Any:
    """A field of a networkConfiguration as ops.diagnosis compares it: lists sorted, DISABLED when absent."""
    # ops.diagnosis (and the boto3 it brings) is imported when a check runs, not when its type
    # registers at every process's startup (issue #18).
    from ops.diagnosis import awsvpc

    return (awsvpc((holder or {}).get("networkConfiguration")) or {}).get(field)


@register
class EcsServiceNetwork(CheckType):
    code = "ecs_service_network"
    label = "ECS service network configuration"
    help = (
        "params: cluster, service, field (assignPublicIp, subnets or securityGroups). expected: ENABLED / "
        "DISABLED, or the list of subnet / security group ids. Observed is the running (PRIMARY) deployment's."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = _ecs_params(params, ["field"])
        field = p.text("field", choices=NETWORK_FIELDS)
        cleaned = p.done()
        if field == "assignPublicIp":
            if not isinstance(expected, str) or expected.strip().upper() not in ("ENABLED", "DISABLED"):
                raise ValidationError({"expected": "Expected ENABLED or DISABLED."})
            return cleaned, expected.strip().upper()
        prefix = "subnet-" if field == "subnets" else "sg-"
        if isinstance(expected, str):
            expected = [item.strip() for item in expected.split(",") if item.strip()]
        if not isinstance(expected, list) or not all(
            isinstance(item, str) and item.startswith(prefix) for item in expected
        ):
            raise ValidationError({"expected": f"Expected a list of {prefix}... ids."})
        return cleaned, sorted(set(expected))

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        return _judge_services(targets, client_for, calls, self._judge)

    def _judge(self, target: Target, service: dict[str, Any]) -> Observation:
        field = target.params["field"]
        where, running = _running(service)
        declared = _value(field, service)
        evidence: dict[str, Any] = {
            "serviceArn": service.get("serviceArn"),
            f"networkConfiguration.awsvpcConfiguration.{field}": declared,
        }
        if running is None:
            return Observation(
                FAIL, None, evidence, message="The service has no PRIMARY deployment or task set: nothing runs."
            )
        observed = _value(field, running)
        evidence[f"{where}.id"] = running.get("id")
        evidence[f"{where}.networkConfiguration.awsvpcConfiguration.{field}"] = observed
        if running.get("rolloutState"):
            evidence[f"{where}.rolloutState"] = running["rolloutState"]
        message = ""
        if observed != declared:
            # The diagnosis names the same disagreement (DEPLOYMENT_NETWORK_CONFIG_STALE) and its fix.
            from ops.diagnosis import deployment_findings

            stale = deployment_findings(service, cluster=target.params["cluster"])
            message = " ".join(f"{finding.summary} {finding.remediation}" for finding in stale) or (
                f"The service says {field} {_shown(declared)} but its running deployment has {_shown(observed)}."
            )
        return Observation.judged(observed, target.expected, evidence, message)


def _judge_services(
    targets: list[Target],
    client_for: ClientFor,
    calls: CallLog,
    judge: Callable[[Target, dict[str, Any]], Observation],
) -> dict[int, Observation]:
    """Describe every target's service in as few calls as ECS allows, then judge each one found
    (a service that could not be described keeps the ERROR it got)."""
    described = _describe_services(targets, client_for("ecs"), calls)
    return {
        target.id: found if isinstance(found := described[target.id], Observation) else judge(target, found)
        for target in targets
    }


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value)


def revision(task_definition: str | None) -> int | None:
    """12 from arn:aws:ecs:...:task-definition/web:12 (or web:12)."""
    match = re.search(r":(\d+)$", task_definition or "")
    return int(match.group(1)) if match else None


@register
class EcsServiceSteady(CheckType):
    code = "ecs_service_steady"
    label = "ECS service steady"
    help = (
        "params: cluster, service, revision (optional task definition revision the running deployment must "
        "use). expected: empty or true. Passes when running = desired, one deployment, rollout COMPLETED."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = _ecs_params(params, ["revision"])
        p.integer("revision", required=False, minimum=1, maximum=1_000_000)
        cleaned = p.done()
        return cleaned, expected_true(
            expected, "the service is steady (running = desired, one deployment, rollout completed)"
        )

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        return _judge_services(
            targets, client_for, calls, lambda target, service: _steady(service, target.params.get("revision"))
        )


def _steady(service: dict[str, Any], wanted_revision: int | None) -> Observation:
    from ops.diagnosis import task_definition_key

    where, running = _running(service)
    deployments = service.get("deployments") or []
    observed = {
        "runningCount": service.get("runningCount"),
        "desiredCount": service.get("desiredCount"),
        "deployments": len(deployments) or len(service.get("taskSets") or []),
        "rolloutState": (running or {}).get("rolloutState"),
        "taskDefinition": task_definition_key((running or {}).get("taskDefinition")) or None,
    }
    problems = []
    if observed["runningCount"] != observed["desiredCount"]:
        problems.append(f"{observed['runningCount']} of {observed['desiredCount']} tasks running")
    if running is None:
        problems.append("no PRIMARY deployment")
    elif where.startswith("taskSets"):
        if running.get("stabilityStatus") != "STEADY_STATE":
            problems.append(f"the PRIMARY task set is {running.get('stabilityStatus')}")
    elif observed["rolloutState"] is not None and observed["rolloutState"] != "COMPLETED":
        reason = running.get("rolloutStateReason")
        problems.append(f"the rollout is {observed['rolloutState']}" + (f" ({reason})" if reason else ""))
    if observed["deployments"] > 1:
        problems.append(f"{observed['deployments']} deployments at once")
    if wanted_revision is not None:
        have = revision((running or {}).get("taskDefinition"))
        if have != wanted_revision:
            problems.append(f"running task definition revision {have}, expected {wanted_revision}")
    evidence = {
        "serviceArn": service.get("serviceArn"),
        "runningCount": observed["runningCount"],
        "desiredCount": observed["desiredCount"],
        "taskDefinition": service.get("taskDefinition"),
        f"{where}.taskDefinition": (running or {}).get("taskDefinition"),
        f"{where}.rolloutState": observed["rolloutState"],
        "deployments": [
            {key: jsonable(d.get(key)) for key in ("id", "status", "rolloutState", "runningCount", "desiredCount")}
            for d in deployments
        ],
    }
    if problems:
        return Observation(FAIL, observed, evidence, message="Not steady: " + "; ".join(problems) + ".")
    note = "" if observed["rolloutState"] else " (the service reports no rolloutState)"
    return Observation(PASS, observed, evidence, message="Steady" + note + ".")


# --- ECR ------------------------------------------------------------------------------------------


@register
class EcrImageTag(CheckType):
    code = "ecr_image_tag"
    label = "ECR image tag present"
    help = "params: repository, tag. expected: empty or true. A missing tag is a FAIL; a missing repository ERROR."

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["repository", "tag"])
        p.text("repository", pattern=REPOSITORY, hint="an ECR repository name", max_length=256)
        p.text("tag", pattern=TAG, hint="an image tag", max_length=128)
        return p.done(), expected_true(expected, "the tag is in the repository")

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        client = client_for("ecr")
        by_repository: dict[str, list[Target]] = defaultdict(list)
        for target in targets:
            by_repository[target.params["repository"]].append(target)
        observations: dict[int, Observation] = {}
        for repository, members in by_repository.items():
            try:
                images = _images(client, repository, [t.params["tag"] for t in members], calls)
            except (ClientError, BotoCoreError) as error:
                failed = aws_error(error, "ecr.DescribeImages")
                observations.update({t.id: failed for t in members})
                continue
            for target in members:
                tag = target.params["tag"]
                image = images.get(tag)
                evidence: dict[str, Any] = {"repositoryName": repository, "imageTag": tag}
                if image is None:
                    evidence["imageDetails"] = []
                    observations[target.id] = Observation(
                        FAIL,
                        False,
                        evidence,
                        error_code="ImageNotFoundException",
                        message=f"No image tagged {tag} in {repository}.",
                    )
                    continue
                evidence.update(
                    {key: jsonable(image.get(key)) for key in ("imageDigest", "imagePushedAt", "imageTags")}
                )
                observations[target.id] = Observation.judged(True, target.expected, evidence)
        return observations


def _images(client, repository: str, tags: list[str], calls: CallLog) -> dict[str, dict[str, Any]]:
    """tag -> image detail for the tags that exist; RepositoryNotFoundException and the like raise."""
    wanted = list(dict.fromkeys(tags))
    found: dict[str, dict[str, Any]] = {}
    for batch in chunks(wanted, TAGS_PER_CALL):
        try:
            answer = calls.call(
                client, "describe_images", repositoryName=repository, imageIds=[{"imageTag": tag} for tag in batch]
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ImageNotFoundException":
                raise
            if len(batch) == 1:
                continue  # the one tag asked for is missing
            return _listed(client, repository, wanted, calls)
        for image in answer.get("imageDetails", []):
            for tag in image.get("imageTags") or []:
                found[tag] = image
    return found


def _listed(client, repository: str, wanted: list[str], calls: CallLog) -> dict[str, dict[str, Any]]:
    """The wanted tags that exist, listing the repository's tagged images (1,000 a page, the most
    ECR gives) until every wanted tag is found or the list ends."""
    found: dict[str, dict[str, Any]] = {}
    pages = calls.pages(
        client,
        "describe_images",
        repositoryName=repository,
        filter={"tagStatus": "TAGGED"},
        PaginationConfig={"PageSize": 1000},
    )
    for page in pages:
        for image in page.get("imageDetails", []):
            for tag in image.get("imageTags") or []:
                if tag in wanted:
                    found[tag] = image
        if len(found) == len(set(wanted)):
            break
    return found


# --- Load balancer target health ------------------------------------------------------------------


@register
class ElbTargetHealth(CheckType):
    code = "elb_target_health"
    label = "Load balancer target health"
    help = (
        "params: target_group_arn. expected: the state every target should be in (default healthy). "
        "One describe_target_health per target group (there is no batch form)."
    )

    def clean(self, params: dict[str, Any], expected: Any) -> tuple[dict[str, Any], Any]:
        p = Params(params, ["target_group_arn"])
        p.text("target_group_arn", pattern=TARGET_GROUP_ARN, hint="a target group ARN", max_length=400)
        cleaned = p.done()
        if expected in (None, ""):
            return cleaned, "healthy"
        if not isinstance(expected, str) or expected.strip().lower() not in TARGET_STATES:
            raise ValidationError({"expected": f"Expected one of {', '.join(TARGET_STATES)}."})
        return cleaned, expected.strip().lower()

    def collect(
        self, targets: list[Target], *, client_for: ClientFor, region: str, calls: CallLog
    ) -> dict[int, Observation]:
        client = client_for("elbv2")
        by_arn: dict[str, list[Target]] = defaultdict(list)
        for target in targets:
            by_arn[target.params["target_group_arn"]].append(target)
        observations: dict[int, Observation] = {}
        for arn, members in by_arn.items():
            try:
                answer = calls.call(client, "describe_target_health", TargetGroupArn=arn)
            except (ClientError, BotoCoreError) as error:
                # IAM's prefix for ELBv2 is elasticloadbalancing, which is what the permission needs.
                failed = aws_error(error, "elasticloadbalancing.DescribeTargetHealth")
                observations.update({t.id: failed for t in members})
                continue
            descriptions = answer.get("TargetHealthDescriptions", [])
            states = {
                f"{d['Target']['Id']}:{d['Target'].get('Port', '')}".rstrip(":"): d.get("TargetHealth", {})
                for d in descriptions
            }
            distinct = sorted({health.get("State", "unknown") for health in states.values()})
            observed = distinct[0] if len(distinct) == 1 else ("no targets" if not distinct else "mixed")
            evidence = {
                "TargetGroupArn": arn,
                "TargetHealth": {
                    target: {key: health[key] for key in ("State", "Reason", "Description") if key in health}
                    for target, health in states.items()
                },
            }
            for target in members:
                message = "" if descriptions else "The target group has no registered targets."
                if observed == "mixed":
                    message = "Targets are in different states: " + ", ".join(distinct) + "."
                observations[target.id] = Observation.judged(observed, target.expected, evidence, message)
        return observations
