"""The ECS diagnosis through the API: editors ask, the answer is the command's JSON."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ops import services
from ops.demo import seed_example

pytestmark = pytest.mark.django_db


@pytest.fixture
def environment(team):
    return services.environment_create(
        workspace=team.workspace, name="demo", account_id="123456789012", regions=["us-east-1"]
    )


def ask(user, team, **body):
    api = APIClient()
    api.force_authenticate(user)
    return api.post(f"/api/operations/{team.slug}/diagnose-ecs/", body, format="json")


def test_the_demo_service_is_unreachable_and_the_answer_names_why(aws, team, teammate, environment):
    ids = seed_example()

    response = ask(
        teammate,
        team,
        environment=environment.pk,
        region="us-east-1",
        cluster=ids["cluster"],
        service=ids["service"],
        port=5000,
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["verdict"] == "unreachable"
    assert body["root_causes"][0]["code"] == "DEPLOYMENT_NETWORK_CONFIG_STALE"
    assert body["root_causes"][0]["evidence"] and body["root_causes"][0]["remediation"]
    assert {step["status"] for step in body["steps"]} <= {"ok", "problem", "unknown", "skipped"}


def test_a_region_the_environment_does_not_list_is_a_400(team, teammate, environment):
    response = ask(teammate, team, environment=environment.pk, region="eu-west-1", cluster="c", service="s", port=5000)

    assert response.status_code == 400 and "region" in response.json()["fields"]


def test_viewers_cannot_make_it_call_aws(team, viewer, environment):
    response = ask(viewer, team, environment=environment.pk, region="us-east-1", cluster="c", service="s", port=5000)

    assert response.status_code == 403


# --- the page -----------------------------------------------------------------------------------


def test_the_page_names_the_root_cause_with_its_evidence_and_fix(aws, client, team, teammate, environment):
    ids = seed_example()
    client.force_login(teammate)
    url = f"/operations/{team.slug}/checks/diagnose-ecs/"
    form = {"environment": environment.pk, "region": "us-east-1", "cluster": ids["cluster"], "service": ids["service"]}

    page = client.post(url, {**form, "port": 5000}).content.decode()

    assert "❌ Unreachable" in page and "DEPLOYMENT_NETWORK_CONFIG_STALE" in page
    assert "assignPublicIp" in page and "Fix:" in page


def test_the_page_refuses_bad_input_and_viewers(client, team, teammate, viewer, environment):
    client.force_login(teammate)
    url = f"/operations/{team.slug}/checks/diagnose-ecs/"

    bad = client.post(url, {"environment": environment.pk, "region": "eu-west-1", "cluster": "c", "service": "s"})
    client.force_login(viewer)

    assert bad.status_code == 400 and b"does not list" in bad.content
    assert client.get(url).status_code == 403
