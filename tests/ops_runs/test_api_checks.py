"""Checks through the REST API: editors add and change them with the type's own validation,
anyone in the operation reads them and their runs, `run` makes one due now."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ops import services
from ops.checks.base import PASS, Observation
from ops.models import Check, CheckRun

pytestmark = pytest.mark.django_db

HEALTH = {"name": "Health", "type": "http_endpoint", "params": {"url": "http://127.0.0.1:9/health"}}


def client_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def checks_url(team, rest: str = "") -> str:
    return f"/api/operations/{team.slug}/checks/{rest}"


def test_an_editor_adds_a_check_with_its_interval_and_link(team, teammate):
    criterion = team.tasks.filter(kind="criterion").first()

    response = client_for(teammate).post(
        checks_url(team), {**HEALTH, "interval_seconds": 120, "task": criterion.pk}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["interval_seconds"], body["task"], body["status"], body["shown_status"]) == (
        120,
        criterion.pk,
        "pending",
        "pending",
    )
    assert Check.objects.get(pk=body["id"]).interval.total_seconds() == 120


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "no_such_type"}, "type"),
        ({"params": {"url": "ftp://example.com"}}, "params"),
        ({"params": {"url": "http://169.254.169.254/latest/meta-data/"}}, "params"),
        ({"interval_seconds": 5}, "interval_seconds"),
        ({"region": "mars-1"}, "region"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_bad_check_is_a_400_naming_the_field_and_nothing_is_saved(team, teammate, change, field):
    response = client_for(teammate).post(checks_url(team), {**HEALTH, **change}, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not Check.objects.exists()


def test_a_check_cannot_link_another_operations_item(team, teammate, outsider):
    from tracker import services as tracker_services

    elsewhere = tracker_services.workspace_create(name="Elsewhere", actor=None)
    other = tracker_services.operation_create(workspace=elsewhere, name="Elsewhere", actor=outsider)
    theirs = tracker_services.finding_create(operation=other, subject="Theirs", verdict="correct", actor=outsider)

    response = client_for(teammate).post(checks_url(team), {**HEALTH, "finding": theirs.pk}, format="json")

    assert response.status_code == 400 and "finding" in response.json()["fields"]


def test_run_now_and_the_runs_list(team, teammate, viewer):
    check = services.check_create(operation=team, actor=teammate, **HEALTH)
    claim_id, _ = services.claim_due()
    services.record_run(
        check=check,
        claim_id=claim_id,
        observation=Observation(PASS, 200, {"status": 200}),
        calls=[],
        started_at=timezone.now(),
        duration_ms=12,
    )

    ran = client_for(teammate).post(checks_url(team, f"{check.pk}/run/"))
    runs = client_for(viewer).get(checks_url(team, f"{check.pk}/runs/")).json()

    assert ran.status_code == 200 and Check.objects.get(pk=check.pk).next_due_at <= timezone.now()
    assert [(run["status"], run["observed"], run["duration_ms"]) for run in runs] == [("pass", 200, 12)]
    assert CheckRun.objects.count() == 1


def test_viewers_read_checks_but_cannot_add_them(team, viewer):
    api = client_for(viewer)

    assert api.get(checks_url(team)).status_code == 200
    assert api.post(checks_url(team), HEALTH, format="json").status_code == 403


def test_environments_are_listed_without_any_credential(team, viewer):
    services.environment_create(
        workspace=team.workspace,
        name="prod",
        account_id="123456789012",
        regions=["us-east-1"],
        role_arn="arn:aws:iam::123456789012:role/Snail",
        external_id="snail-secret-42",
    )

    [row] = client_for(viewer).get("/api/aws-environments/").json()["results"]

    assert row["name"] == "prod" and "external_id" not in row and "snail-secret" not in str(row)
    assert (row["workspace"], row["check_types"]) == (team.workspace.slug, [])
