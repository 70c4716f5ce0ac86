"""/api/models/: the models of the caller's workspaces; their admins link them and move aliases."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from mlservice.models import ModelAlias, RegisteredModel
from tracker import services as tracker_services

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def state() -> tuple:
    model = RegisteredModel.objects.get(name="iris")
    aliases = sorted(ModelAlias.objects.filter(model=model).values_list("name", "version__version"))
    return model.operation_id, aliases


def test_members_list_and_read_their_workspaces_models(iris_v2, owner):
    listed = api_as(owner).get("/api/models/")

    assert listed.status_code == 200, listed.content
    (model,) = listed.json()["results"]
    assert model["name"] == "iris" and model["workspace"] == "team" and model["operation"] is None
    assert [v["version"] for v in model["versions"]] == ["1", "2"]
    assert set(model["versions"][0]) == {"version", "sha256", "sklearn_version", "created_at"}
    assert model["aliases"] == {"production": "1"}
    assert api_as(owner).get("/api/models/iris/").json() == model


def test_an_outsider_gets_what_a_nonexistent_name_gets(iris_v2, outsider, elsewhere):
    api = api_as(outsider)

    assert api.get("/api/models/").json()["results"] == []
    for method, suffix, body in (
        ("get", "", None),
        ("patch", "", {"operation": None}),
        ("post", "aliases/", {"alias": "production", "version": "2"}),
    ):
        theirs = getattr(api, method)(f"/api/models/iris/{suffix}", body, format="json")
        nobodys = getattr(api, method)(f"/api/models/no-such-model/{suffix}", body, format="json")
        assert theirs.status_code == nobodys.status_code == 404
        assert theirs.content == nobodys.content
    assert state() == (None, [("production", "1")])


def test_an_admin_links_the_model_and_moves_an_alias(iris_v2, boss, rollout):
    api = api_as(boss)

    linked = api.patch("/api/models/iris/", {"operation": rollout.slug}, format="json")
    moved = api.post("/api/models/iris/aliases/", {"alias": "production", "version": "2"}, format="json")
    created = api.post("/api/models/iris/aliases/", {"alias": "staging", "version": "1"}, format="json")

    assert linked.status_code == 200 and linked.json()["operation"] == rollout.slug, linked.content
    assert moved.status_code == 200 and moved.json()["aliases"] == {"production": "2"}, moved.content
    assert created.json()["aliases"] == {"production": "2", "staging": "1"}
    assert state() == (rollout.pk, [("production", "2"), ("staging", "1")])
    unlinked = api.patch("/api/models/iris/", {"operation": None}, format="json")
    assert unlinked.status_code == 200 and unlinked.json()["operation"] is None


def test_a_member_reads_but_does_not_change(iris_v2, owner, rollout):
    api = api_as(owner)

    linked = api.patch("/api/models/iris/", {"operation": rollout.slug}, format="json")
    moved = api.post("/api/models/iris/aliases/", {"alias": "production", "version": "2"}, format="json")

    assert linked.status_code == moved.status_code == 403
    assert "admins" in moved.json()["error"]
    assert state() == (None, [("production", "1")])


@pytest.mark.parametrize(
    ("suffix", "method", "body", "field"),
    [
        ("aliases/", "post", {"alias": "production", "version": "9"}, "version"),
        ("aliases/", "post", {"alias": "not a slug", "version": "2"}, "alias"),
        ("aliases/", "post", {"alias": "production", "version": "2", "extra": 1}, "extra"),
        ("", "patch", {"operation": "no-such-operation"}, "operation"),
        ("", "patch", {"operation": "OTHER"}, "operation"),
    ],
)
def test_bad_input_is_a_400_that_writes_nothing(iris_v2, boss, elsewhere, suffix, method, body, field):
    if body.get("operation") == "OTHER":  # an operation of another workspace, which the admin cannot see
        body = {"operation": tracker_services.operation_create(workspace=elsewhere, name="Theirs", actor=None).slug}

    response = getattr(api_as(boss), method)(f"/api/models/iris/{suffix}", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    if field == "operation":
        assert response.json()["fields"]["operation"] == "No such operation."
    assert state() == (None, [("production", "1")])


def test_a_superusers_operation_of_another_workspace_is_refused(iris_v2, superuser, elsewhere):
    """A superuser sees every operation, but a model is linked to operations of its own workspace only."""
    theirs = tracker_services.operation_create(workspace=elsewhere, name="Theirs", actor=None)

    response = api_as(superuser).patch("/api/models/iris/", {"operation": theirs.slug}, format="json")

    assert response.status_code == 400 and response.json()["fields"]["operation"] == "No such operation."
    assert state() == (None, [("production", "1")])
