"""`manage.py demo_checks`: the example's AWS in the local moto server, and live checks on it.

`make run` calls it after `setup_demo`, with AWS_ENDPOINT_URL naming the moto server it started.
It seeds the example network and ECS service (ops.demo), makes the "demo (moto)" environment
in the example operation's workspace (setup_demo's "demo"),
and creates or updates one check per fact the team checked by hand, linked to the example's
findings, its completion criterion "accessible from internet" and its VPC blocker. moto starts
empty each time, so the resource ids change: existing checks (by name) get the new ids.

It also makes an ML inference endpoint check on the model `iris` (which `demo_model` registers),
linked to the criterion "All ML endpoints functional in production". The model is served by this
very app, so the check has no URL: it asks mlservice in process (ops.checks.inference), since this
app's own address is loopback and no check may ever reach loopback (core.egress, docs/egress.md).
`--base-url` points it at another deployment instead. It acts with the API token of its owner,
`--owner` (default `demo`, the user `setup_demo` creates), who is given one if they have none.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from ops import aws, services
from ops.checks import registry
from ops.demo import seed_example
from ops.models import AwsEnvironment, Check
from tracker.models import Blocker, Finding, Operation, Task

SLUG = "operation-snail-trail"
ENVIRONMENT = "demo (moto)"
INTERVAL = dt.timedelta(seconds=60)
ML_MODEL = "iris"
ML_CHECK = "ML endpoint iris answers"
ML_CRITERION = "All ML endpoints functional"


def _check(name: str, type: str, params: dict[str, Any], expected: Any = True, **keeps: str) -> dict[str, Any]:
    """One demo check; `keeps` names what it keeps true (finding=, task=, blocker= their titles)."""
    return {"name": name, "type": type, "params": params, "expected": expected, **keeps}


def demo_checks(ids: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks, as (name, type, params, expected, what they keep true) for the seeded ids."""
    subnet, vpc, port = ids["subnet_ids"][0], ids["vpc_id"], ids["port"]
    service = {"cluster": ids["cluster"], "service": ids["service"]}
    image = {"repository": ids["repository"], "tag": ids["image_tag"]}
    return [
        _check(
            "Subnet gives public IPs",
            "subnet_attribute",
            {"subnet_id": subnet, "attribute": "MapPublicIpOnLaunch"},
            finding="Subnet Configuration",
        ),
        _check("Subnet routes to the internet", "subnet_internet_route", {"subnet_id": subnet}, finding="Route Tables"),
        _check(
            "ECS tasks get a public IP (assignPublicIp)",
            "ecs_service_network",
            {**service, "field": "assignPublicIp"},
            "ENABLED",
            finding="ECS Service",
        ),
        _check(
            "VPC DNS hostnames",
            "vpc_attribute",
            {"vpc_id": vpc, "attribute": "enableDnsHostnames"},
            finding="VPC DNS",
        ),
        _check("VPC DNS support", "vpc_attribute", {"vpc_id": vpc, "attribute": "enableDnsSupport"}),
        _check(
            f"Port {port} open to the internet",
            "security_group_ingress",
            {"group_id": ids["security_group_id"], "port": port},
        ),
        _check(f"Image {ids['image_tag']} in ECR", "ecr_image_tag", image),
        _check("Service steady on revision 12", "ecs_service_steady", {**service, "revision": 12}),
        _check(
            "Service reachable from the internet",
            "ecs_reachability",
            {**service, "port": port},
            task="Enhanced ML service accessible from internet",
            blocker="VPC Network Configuration",
        ),
    ]


def inference_check(base_url: str | None = None) -> dict[str, Any]:
    """The check on the example's model: served by this app (mlservice), asked in process, or at
    another deployment's `base_url`; no AWS."""
    return {
        "name": ML_CHECK,
        "type": "inference_endpoint",
        "params": {"model": ML_MODEL, **({"url": base_url} if base_url else {})},
        "expected": True,
        "task_contains": ML_CRITERION,
        "aws": False,
    }


def _reset_moto(region: str) -> None:
    """Empty the moto server first, so a second run seeds the same world instead of failing on it."""
    endpoint = aws.client("ecs", region=region).meta.endpoint_url
    if (urlsplit(endpoint).hostname or "").endswith((".amazonaws.com", ".amazonaws.com.cn")):
        raise RuntimeError(f"Refusing to reset real AWS ({endpoint}); set AWS_ENDPOINT_URL to a moto server.")
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()


class Command(BaseCommand):
    help = "Seed the example's AWS in the local moto server and create live checks on it (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--region", default="us-east-1")
        parser.add_argument(
            "--base-url",
            default=None,
            help="another deployment serving the model iris, for the ML inference check; by default the "
            "check asks this app's own mlservice in process (its own address is loopback, never reachable)",
        )
        parser.add_argument(
            "--owner",
            default="demo",
            help="the user whose API token the ML inference check sends (created by setup_demo)",
        )

    def handle(self, *args, region: str, base_url: str | None, owner: str, **options):
        operation = Operation.objects.filter(slug=SLUG).first()
        if operation is None:
            raise CommandError(f"No operation {SLUG!r}: run `manage.py setup_demo` first.")
        try:
            registry.get("inference_endpoint").clean(inference_check(base_url)["params"], True)
        except ValidationError as invalid:
            raise CommandError(f"--base-url {base_url}: {' '.join(invalid.messages)}") from None
        ml_owner = get_user_model().objects.filter(username=owner).first()
        if ml_owner is None:
            self.stderr.write(f"No user {owner!r} to own the ML inference check (see setup_demo): not made.")
        try:
            _reset_moto(region)
            ids = seed_example(region=region)
        except RuntimeError as refused:  # real AWS named by AWS_ENDPOINT_URL
            raise CommandError(str(refused)) from None
        with transaction.atomic():
            # In the example operation's workspace (setup_demo's "demo"): only its operations may look there.
            environment = services.environment_ensure(
                workspace=operation.workspace,
                name=ENVIRONMENT,
                defaults={"account_id": "123456789012", "regions": [region]},
            )
            for spec in demo_checks(ids):
                self._upsert(operation, environment, region, spec)
            if ml_owner is not None:
                Token.objects.get_or_create(user=ml_owner)  # the check sends it; a local demo user's
                check = self._upsert(operation, environment, region, inference_check(base_url), actor=ml_owner)
                services.check_hand_over(check=check, owner=ml_owner)  # made by an earlier run for another owner
        self.stdout.write(f"Seeded the example's AWS and {Check.objects.filter(operation=operation).count()} checks.")

    def _upsert(
        self, operation: Operation, environment: AwsEnvironment, region: str, spec: dict[str, Any], actor=None
    ) -> Check:
        tasks = Task.objects.filter(operation=operation)
        if spec.get("task_contains"):
            task = tasks.filter(title__icontains=spec["task_contains"]).order_by("kind", "position", "id").first()
        else:
            task = tasks.filter(title=spec.get("task")).first()
        links = {
            "finding": Finding.objects.filter(operation=operation, subject=spec.get("finding")).first(),
            "task": task,
            "blocker": Blocker.objects.filter(operation=operation, title=spec.get("blocker")).first(),
        }
        aws_check = spec.get("aws", True)
        fields = {
            "type": spec["type"],
            "environment": environment if aws_check else None,
            "region": region if aws_check else "",
            "params": spec["params"],
            "expected": spec["expected"],
            "interval": INTERVAL,
            **{name: item for name, item in links.items() if item is not None},
        }
        check = Check.objects.filter(operation=operation, name=spec["name"]).first()
        if check is None:
            return services.check_create(operation=operation, name=spec["name"], actor=actor, **fields)
        return services.check_update(check=check, actor=actor, **fields)
