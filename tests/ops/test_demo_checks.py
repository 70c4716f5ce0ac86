"""`manage.py demo_checks` on the moto server, then one sync as the workers do it: the example's
hand-checked facts stay true, the ECS finding turns out wrong (the running deployment never got
assignPublicIp: ENABLED: shown beside the team's words, which stay theirs), and the reachability
check names the root cause and keeps the criterion unticked and the blocker open."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ops import runner, services
from ops.models import Check
from tracker.models import Blocker, Finding, Task

pytestmark = pytest.mark.django_db


def sync() -> None:
    claim_id, groups = services.claim_due()
    for ids in groups.values():
        runner.run_group(claim_id=claim_id, check_ids=ids)


def test_the_demo_checks_find_what_the_team_could_not(aws, example_operation):
    call_command("demo_checks")
    sync()

    checks = {check.name: check for check in Check.objects.all()}
    statuses = {name: check.status for name, check in checks.items()}
    assert statuses["Subnet gives public IPs"] == "pass"
    assert statuses["Subnet routes to the internet"] == "pass"
    assert statuses["VPC DNS hostnames"] == statuses["VPC DNS support"] == "pass"
    assert statuses["Port 5000 open to the internet"] == "pass"
    assert statuses["Image v12 in ECR"] == "pass"
    assert statuses["ECS tasks get a public IP (assignPublicIp)"] == "fail"
    reachability = checks["Service reachable from the internet"]
    assert reachability.status == "fail"
    assert "DEPLOYMENT_NETWORK_CONFIG_STALE" in reachability.message

    ecs_finding = Finding.objects.get(operation=example_operation, subject="ECS Service")
    # The team's words stay theirs (#15); what the check saw is kept beside them.
    assert (ecs_finding.verdict, ecs_finding.observed, ecs_finding.note) == (
        "correct",
        '`assignPublicIp: "ENABLED"`',
        "correct",
    )
    assert (ecs_finding.live_verdict, ecs_finding.live_observed) == ("fail", "`assignPublicIp: DISABLED`")
    assert Finding.objects.get(operation=example_operation, subject="Subnet Configuration").live_verdict == "pass"
    criterion = Task.objects.get(operation=example_operation, title="Enhanced ML service accessible from internet")
    assert not criterion.done and criterion.checked_at is not None
    assert Blocker.objects.get(operation=example_operation, title="VPC Network Configuration").is_open


def test_running_it_again_updates_the_checks_instead_of_adding_more(aws, example_operation):
    call_command("demo_checks")
    first = set(Check.objects.values_list("name", flat=True))

    call_command("demo_checks")

    assert set(Check.objects.values_list("name", flat=True)) == first
    assert Check.objects.count() == len(first) == 9
