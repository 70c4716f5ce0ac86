"""The workspace page's model forms: its admins move an alias and link a model to an operation."""

from __future__ import annotations

import pytest

from mlservice.models import ModelAlias, RegisteredModel
from tests.conftest import logged_in
from tracker import services as tracker_services

pytestmark = pytest.mark.django_db


def state() -> tuple:
    model = RegisteredModel.objects.get(name="iris")
    return model.operation_id, sorted(ModelAlias.objects.filter(model=model).values_list("name", "version__version"))


def test_the_admin_sees_the_forms_and_a_member_does_not(client, iris_v2, boss, owner, rollout):
    page = logged_in(client, boss).get("/workspaces/team/").content.decode()
    assert 'action="/models/iris/alias/"' in page and 'action="/models/iris/operation/"' in page
    assert f'<option value="{rollout.slug}">' in page

    page = logged_in(client, owner).get("/workspaces/team/").content.decode()
    assert "/models/iris/alias/" not in page and "iris" in page


def test_the_admin_moves_an_alias_and_links_the_model(client, iris_v2, boss, rollout):
    client = logged_in(client, boss)

    moved = client.post("/models/iris/alias/", {"alias": "production", "version": "2"})
    linked = client.post("/models/iris/operation/", {"operation": rollout.slug})

    assert moved.status_code == linked.status_code == 302
    assert moved["Location"] == "/workspaces/team/#models"
    assert state() == (rollout.pk, [("production", "2")])
    assert client.post("/models/iris/operation/", {"operation": ""}).status_code == 302
    assert state() == (None, [("production", "2")])


def test_an_outsider_gets_a_404_like_a_nonexistent_model(client, iris_v2, outsider, elsewhere):
    client = logged_in(client, outsider)
    for route, body in (("alias", {"alias": "production", "version": "2"}), ("operation", {"operation": ""})):
        theirs = client.post(f"/models/iris/{route}/", body)
        nobodys = client.post(f"/models/no-such-model/{route}/", body)
        assert theirs.status_code == nobodys.status_code == 404
        assert theirs.content == nobodys.content
    assert state() == (None, [("production", "1")])


def test_a_member_is_refused(client, iris_v2, owner, rollout):
    client = logged_in(client, owner)

    moved = client.post("/models/iris/alias/", {"alias": "production", "version": "2"})
    linked = client.post("/models/iris/operation/", {"operation": rollout.slug})

    assert moved.status_code == linked.status_code == 403
    assert state() == (None, [("production", "1")])


@pytest.mark.parametrize(
    ("route", "body", "says"),
    [
        ("alias", {"alias": "production", "version": "9"}, "no version"),
        ("alias", {"alias": "not a slug", "version": "2"}, "alias"),
        ("operation", {"operation": "no-such-operation"}, "No such operation."),
        ("operation", {"operation": "OTHER"}, "No such operation."),
    ],
)
def test_bad_input_is_a_400_that_writes_nothing(client, iris_v2, boss, elsewhere, route, body, says):
    if body.get("operation") == "OTHER":
        body = {"operation": tracker_services.operation_create(workspace=elsewhere, name="Theirs", actor=None).slug}

    response = logged_in(client, boss).post(f"/models/iris/{route}/", body)

    assert response.status_code == 400
    assert says in response.content.decode()
    assert state() == (None, [("production", "1")])


def test_only_post(client, iris_v2, boss):
    assert logged_in(client, boss).get("/models/iris/alias/").status_code == 405
