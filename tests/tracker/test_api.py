"""The REST API's read side: who sees which operation, tokens, the summary, the error shape."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tracker import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.force_authenticate(user)
    return api


def test_nothing_is_readable_anonymously_and_the_error_has_one_shape(api, team):
    for url in ("/api/operations/", f"/api/operations/{team.slug}/", f"/api/operations/{team.slug}/summary/"):
        response = api.get(url)
        assert response.status_code in (401, 403)
        assert set(response.json()) == {"error"}


def test_a_member_lists_only_their_operations(api, team, viewer, outsider, elsewhere):
    services.operation_create(workspace=elsewhere, name="Operation Other", actor=outsider)

    data = as_user(api, viewer).get("/api/operations/").json()

    assert [row["slug"] for row in data["results"]] == ["operation-snail-trail"]
    row = data["results"][0]
    assert (row["progress"], row["open_blockers"], row["current_phase"], row["role"]) == (90, 1, 4, "viewer")


def test_an_outsider_gets_a_404_with_the_error_shape(api, team, outsider):
    response = as_user(api, outsider).get(f"/api/operations/{team.slug}/summary/")

    assert response.status_code == 404
    assert set(response.json()) == {"error"}


def test_the_summary_gives_status_phases_blockers_and_forecast(api, team, viewer, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        data = as_user(api, viewer).get(f"/api/operations/{team.slug}/summary/").json()

    assert data["operation"]["status"] == "in_progress"
    assert [(p["number"], p["progress"]) for p in data["phases"]] == [(1, 100), (2, 100), (3, 100), (4, 90)]
    assert data["phases"][3]["derived_progress"] == 38
    assert [b["title"] for b in data["open_blockers"]] == ["VPC Network Configuration"]
    assert data["forecast"]["status"] == "not_enough_history" and data["forecast"]["at_risk"] is True


def test_a_token_from_the_login_endpoint_authenticates(api, team, viewer):
    response = api.post("/api/auth/token/", {"username": "viewer", "password": "viewer-password"}, format="json")
    token = response.json()["token"]

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert api.get("/api/operations/").status_code == 200


def test_a_wrong_password_gets_a_400_with_the_error_shape(api, viewer):
    response = api.post("/api/auth/token/", {"username": "viewer", "password": "nope"}, format="json")

    assert response.status_code == 400
    assert "Unable to log in" in response.json()["error"]


def test_drf_create_token_makes_a_working_token(api, team, viewer, capsys):
    call_command("drf_create_token", "viewer")

    token = Token.objects.get(user=viewer).key
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(f"/api/operations/{team.slug}/").json()["name"] == "Operation Snail Trail"


def test_the_schema_and_the_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200 and b"/api/operations/{slug}/summary/" in schema.content
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()


def test_the_admin_never_shows_a_token_key(client, superuser, viewer):
    token = Token.objects.create(user=viewer)
    client.force_login(superuser)

    listing = client.get("/admin/authtoken/tokenproxy/").content.decode()

    assert "viewer" in listing
    assert token.key not in listing
    assert client.get(f"/admin/authtoken/tokenproxy/{token.pk}/change/").status_code in (302, 403, 404)


def test_the_api_root_lists_the_collections_and_the_docs(api, owner):
    api.force_authenticate(owner)

    response = api.get("/api/")

    assert response.status_code == 200
    routes = response.json()
    assert routes["operations"].endswith("/api/operations/") and routes["docs"].endswith("/api/docs/")
    assert {"workspaces", "aws-environments", "models", "token", "schema"} <= set(routes)
    assert APIClient().get("/api/").status_code == 401  # nothing is readable anonymously
