"""The diagnosis page takes the steps that may not tell, as the command (--unknown-ok), the API and
the check (unknown_ok) do, and ticks those of the operation's own reachability check."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ops import services, views
from ops.diagnosis import STEP_NAMES, STEP_SLUGS, Diagnosis
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db

BLOCK_PUBLIC_ACCESS = "vpc-block-public-access"


@pytest.fixture
def environment(workspace):
    return services.environment_create(
        workspace=workspace, name="snail-prod", account_id="123456789012", regions=["us-east-1"]
    )


@pytest.fixture
def walked(monkeypatch) -> list[dict]:
    """What the page asked the walk (no AWS here): the keyword arguments of each call."""
    calls: list[dict] = []

    def walk(**arguments):
        calls.append(arguments)
        return Diagnosis(verdict="reachable", root_causes=[], steps=[])

    monkeypatch.setattr(views, "diagnose_ecs", walk)
    return calls


def url(operation) -> str:
    return reverse("ops:diagnose", args=[operation.slug])


def fields(environment, **extra) -> dict:
    return {
        "environment": environment.pk,
        "region": "us-east-1",
        "cluster": "snail",
        "service": "api",
        "port": "5000",
        **extra,
    }


def test_the_form_offers_every_step_but_the_first_and_all(client, team, teammate, environment):
    page = logged_in(client, teammate).get(url(team)).content.decode()

    for slug, name in zip(STEP_SLUGS[1:], STEP_NAMES[1:], strict=True):
        assert f'value="{slug}"' in page and name in page
    assert f'value="{STEP_SLUGS[0]}"' not in page  # the service itself: without it there is nothing to walk
    assert 'value="all"' in page


def test_the_ticked_steps_reach_the_walk(client, team, teammate, environment, walked):
    ticked = [BLOCK_PUBLIC_ACCESS, "network-acls"]
    response = logged_in(client, teammate).post(url(team), fields(environment, unknown_ok=ticked))

    assert response.status_code == 200
    assert walked[0]["unknown_ok"] == ticked


def test_none_ticked_is_none_accepted(client, team, teammate, environment, walked):
    logged_in(client, teammate).post(url(team), fields(environment))

    assert walked[0]["unknown_ok"] == []


def test_a_step_that_does_not_exist_is_refused_and_nothing_is_walked(client, team, teammate, environment, walked):
    response = logged_in(client, teammate).post(url(team), fields(environment, unknown_ok=["the-moon"]))

    assert response.status_code == 400
    assert "the-moon is not one of the available choices" in response.content.decode()
    assert walked == []


def test_the_operations_reachability_check_ticks_its_own_steps(client, team, teammate, environment):
    services.check_create(
        operation=team,
        name="Reachable",
        type="ecs_reachability",
        actor=None,
        environment=environment,
        region="us-east-1",
        params={"cluster": "snail", "service": "api", "port": 5000, "unknown_ok": f"{BLOCK_PUBLIC_ACCESS}, all"},
    )

    page = logged_in(client, teammate).get(url(team)).content.decode()

    for slug in (BLOCK_PUBLIC_ACCESS, "all"):
        box = page.split(f'value="{slug}"')[1].split(">")[0]
        assert "checked" in box
    assert "checked" not in page.split(f'value="{STEP_SLUGS[1]}"')[1].split(">")[0]
