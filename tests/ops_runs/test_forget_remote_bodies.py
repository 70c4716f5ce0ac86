"""The data migration that forgets other services' answers kept by runs made before the egress policy."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.conftest import latest_migrations, migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("ops", "0004_environment_workspace_required")]
AFTER = [("ops", "0005_forget_remote_bodies")]


@pytest.fixture
def old_apps():
    yield migrate_to(BEFORE)
    migrate_to(latest_migrations())


def test_old_runs_lose_remote_text_and_keep_their_verdict(old_apps):
    from tracker.models import Operation, Workspace  # only ops goes back in time: tracker's tables are today's

    Check = old_apps.get_model("ops", "Check")
    CheckRun = old_apps.get_model("ops", "CheckRun")
    operation = Operation.objects.create(
        workspace=Workspace.objects.create(name="Team", slug="team"), name="Op", slug="op"
    )
    http = Check.objects.create(operation_id=operation.pk, name="Health", type="http_endpoint", params={})
    infer = Check.objects.create(operation_id=operation.pk, name="Model", type="inference_endpoint", params={})
    vpc = Check.objects.create(operation_id=operation.pk, name="VPC", type="vpc_attribute", params={})
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

    def run(check, evidence, message):
        return CheckRun.objects.create(
            live_check=check, run_id=uuid.uuid4(), status="fail", evidence=evidence, message=message, started_at=now
        )

    page = run(http, {"status": 200, "elapsed_ms": 3, "body_excerpt": "redis_version:7.0", "location": "/x"}, "ok")
    model = run(
        infer,
        {"url": "http://m/infer", "error": "db password is hunter2"},
        "POST http://m/infer answered 503: db password is hunter2",
    )
    aws = run(vpc, {"error": "kept: AWS's own answer"}, "ec2: AccessDenied: kept")

    new = migrate_to(AFTER)
    CheckRun = new.get_model("ops", "CheckRun")

    page, model, aws = (CheckRun.objects.get(pk=r.pk) for r in (page, model, aws))
    assert page.evidence == {"status": 200, "elapsed_ms": 3}
    assert model.evidence == {"url": "http://m/infer"} and model.message == "POST http://m/infer answered 503."
    assert aws.evidence == {"error": "kept: AWS's own answer"} and aws.message == "ec2: AccessDenied: kept"
    assert page.status == model.status == "fail"
