"""`manage.py demo_checks`: the example's AWS in the local moto server, and live checks on it.

`make run` calls it after `setup_demo`, with AWS_ENDPOINT_URL naming the moto server it started.
It seeds the example network and ECS service (ops.demo), makes the "demo (moto)" environment,
and creates or updates one check per fact the team checked by hand, linked to the example's
findings, its completion criterion "accessible from internet" and its VPC blocker. moto starts
empty each time, so the resource ids change: existing checks (by name) get the new ids.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ops import aws, services
from ops.demo import seed_example
from ops.models import AwsEnvironment, Check
from tracker.models import Blocker, Finding, Operation, Task

SLUG = "operation-snail-trail"
ENVIRONMENT = "demo (moto)"
INTERVAL = dt.timedelta(seconds=60)


def demo_checks(ids: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks, as (name, type, params, expected, what they keep true) for the seeded ids."""
    subnet, vpc = ids["subnet_ids"][0], ids["vpc_id"]
    service = {"cluster": ids["cluster"], "service": ids["service"]}
    return [
        {
            "name": "Subnet gives public IPs",
            "type": "subnet_attribute",
            "params": {"subnet_id": subnet, "attribute": "MapPublicIpOnLaunch"},
            "expected": True,
            "finding": "Subnet Configuration",
        },
        {
            "name": "Subnet routes to the internet",
            "type": "subnet_internet_route",
            "params": {"subnet_id": subnet},
            "expected": True,
            "finding": "Route Tables",
        },
        {
            "name": "ECS tasks get a public IP (assignPublicIp)",
            "type": "ecs_service_network",
            "params": {**service, "field": "assignPublicIp"},
            "expected": "ENABLED",
            "finding": "ECS Service",
        },
        {
            "name": "VPC DNS hostnames",
            "type": "vpc_attribute",
            "params": {"vpc_id": vpc, "attribute": "enableDnsHostnames"},
            "expected": True,
            "finding": "VPC DNS",
        },
        {
            "name": "VPC DNS support",
            "type": "vpc_attribute",
            "params": {"vpc_id": vpc, "attribute": "enableDnsSupport"},
            "expected": True,
        },
        {
            "name": "Port 5000 open to the internet",
            "type": "security_group_ingress",
            "params": {"group_id": ids["security_group_id"], "port": ids["port"]},
            "expected": True,
        },
        {
            "name": f"Image {ids['image_tag']} in ECR",
            "type": "ecr_image_tag",
            "params": {"repository": ids["repository"], "tag": ids["image_tag"]},
            "expected": True,
        },
        {
            "name": "Service steady on revision 12",
            "type": "ecs_service_steady",
            "params": {**service, "revision": 12},
            "expected": True,
        },
        {
            "name": "Service reachable from the internet",
            "type": "ecs_reachability",
            "params": {**service, "port": ids["port"]},
            "expected": True,
            "task": "Enhanced ML service accessible from internet",
            "blocker": "VPC Network Configuration",
        },
    ]


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

    def handle(self, *args, region: str, **options):
        operation = Operation.objects.filter(slug=SLUG).first()
        if operation is None:
            raise CommandError(f"No operation {SLUG!r}: run `manage.py setup_demo` first.")
        try:
            _reset_moto(region)
            ids = seed_example(region=region)
        except RuntimeError as refused:  # real AWS named by AWS_ENDPOINT_URL
            raise CommandError(str(refused)) from None
        with transaction.atomic():
            environment, _ = AwsEnvironment.objects.get_or_create(
                name=ENVIRONMENT, defaults={"account_id": "123456789012", "regions": [region]}
            )
            for spec in demo_checks(ids):
                self._upsert(operation, environment, region, spec)
        self.stdout.write(f"Seeded the example's AWS and {Check.objects.filter(operation=operation).count()} checks.")

    def _upsert(self, operation: Operation, environment: AwsEnvironment, region: str, spec: dict[str, Any]) -> Check:
        links = {
            "finding": Finding.objects.filter(operation=operation, subject=spec.get("finding")).first(),
            "task": Task.objects.filter(operation=operation, title=spec.get("task")).first(),
            "blocker": Blocker.objects.filter(operation=operation, title=spec.get("blocker")).first(),
        }
        fields = {
            "type": spec["type"],
            "environment": environment,
            "region": region,
            "params": spec["params"],
            "expected": spec["expected"],
            "interval": INTERVAL,
            **{name: item for name, item in links.items() if item is not None},
        }
        check = Check.objects.filter(operation=operation, name=spec["name"]).first()
        if check is None:
            return services.check_create(operation=operation, name=spec["name"], actor=None, **fields)
        return services.check_update(check=check, actor=None, **fields)
