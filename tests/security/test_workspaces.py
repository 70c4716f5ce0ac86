"""Workspaces as the trust boundary (#13): who creates what where, and what a clash tells.

The attacks of the issue, each a test that failed before workspaces: an operation's slug taken
elsewhere answered "already exists" (confirming an operation the caller cannot see); an operation
named "Import" got the slug `import` and could never be reached; any signed-in user created
operations, and adding a member looked up every account on the instance.
"""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from tests.conftest import join
from tracker import services
from tracker.models import Membership, Operation, Workspace, WorkspaceMembership

pytestmark = pytest.mark.django_db

DOCUMENT = "# Operation Shadow: PROGRESS TRACKER\n\n## 📊 OVERALL STATUS: **IN PROGRESS**\n"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def markdown(client: APIClient, text: str, **query):
    return client.post(
        reverse("operation-import-document") + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
        text.encode(),
        content_type="text/markdown",
    )


# --- slugs -----------------------------------------------------------------------------------------


def test_an_import_whose_slug_is_taken_in_another_workspace_gets_a_fresh_one(owner, outsider, elsewhere):
    theirs = services.operation_create(workspace=elsewhere, name="Operation Shadow", actor=outsider)

    response = markdown(api(owner), DOCUMENT)

    assert response.status_code == 201, response.json()
    mine = response.json()
    assert mine["slug"] != theirs.slug and mine["slug"].startswith("operation-shadow-")
    assert "exist" not in response.content.decode()
    assert Operation.objects.filter(name="Operation Shadow").count() == 2


def test_a_clash_with_an_operation_of_the_same_workspace_the_caller_cannot_see_is_not_confirmed(
    owner, teammate, workspace
):
    hidden = services.operation_create(workspace=workspace, name="Operation Shadow", actor=owner)
    assert not Membership.objects.filter(operation=hidden, user=teammate).exists()

    response = markdown(api(teammate), DOCUMENT)

    assert response.status_code == 201 and response.json()["slug"] != hidden.slug


def test_an_import_over_an_operation_the_caller_sees_still_says_it_exists(owner, workspace):
    services.operation_create(workspace=workspace, name="Operation Shadow", actor=owner)

    response = markdown(api(owner), DOCUMENT)

    assert response.status_code == 400 and "already exists" in response.json()["problems"][0]["message"]


def test_a_route_word_is_never_an_operations_slug(owner):
    response = api(owner).post("/api/operations/", {"name": "Import"}, format="json")

    assert response.status_code == 201
    slug = response.json()["slug"]
    assert slug != "import" and slug.startswith("import-")
    assert api(owner).get(f"/api/operations/{slug}/").status_code == 200


def test_every_word_after_operations_in_a_route_is_reserved():
    """A new route under operations/ must add its word to RESERVED_SLUGS, or this fails."""
    words = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            text = prefix + str(pattern.pattern).lstrip("^").replace("\\", "")
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, text)
                continue
            parts = text.split("/")
            for index, part in enumerate(parts[:-1]):
                following = parts[index + 1].rstrip("$")
                if part == "operations" and following and not following.startswith(("<", "(", "?")):
                    words.add(following.split(".")[0])

    walk(get_resolver().url_patterns)
    assert words, "no literal route under operations/: the walk is broken"
    assert words <= services.RESERVED_SLUGS, words - services.RESERVED_SLUGS


def test_a_chosen_slug_that_is_taken_anywhere_is_refused_the_same_way(owner, outsider, elsewhere, workspace):
    services.operation_create(workspace=elsewhere, name="Theirs", slug="taken", actor=outsider)
    services.operation_create(workspace=workspace, name="Ours", slug="mine-taken", actor=owner)

    with pytest.raises(Exception) as elsewhere_clash:
        services.operation_create(workspace=workspace, name="X", slug="taken", actor=owner)
    with pytest.raises(Exception) as own_clash:
        services.operation_create(workspace=workspace, name="Y", slug="mine-taken", actor=owner)

    assert str(elsewhere_clash.value).replace("taken", "?") == str(own_clash.value).replace("mine-taken", "?")


# --- who creates operations where --------------------------------------------------------------------


def test_a_user_in_no_workspace_cannot_create_an_operation(django_user_model):
    loner = django_user_model.objects.create_user(username="loner", password="pw-loner-1")

    created = api(loner).post("/api/operations/", {"name": "Operation Loner"}, format="json")
    imported = markdown(api(loner), DOCUMENT)

    assert created.status_code == 400 and "no workspace" in created.json()["fields"]["workspace"]
    assert imported.status_code == 400
    assert not Operation.objects.filter(name__in=["Operation Loner", "Operation Shadow"]).exists()


def test_another_workspace_is_answered_like_one_that_does_not_exist(owner, elsewhere):
    theirs = api(owner).post("/api/operations/", {"name": "X", "workspace": elsewhere.slug}, format="json")
    nothing = api(owner).post("/api/operations/", {"name": "X", "workspace": "no-such-team"}, format="json")

    assert theirs.status_code == nothing.status_code == 400
    assert theirs.json()["fields"]["workspace"].replace(elsewhere.slug, "?") == nothing.json()["fields"][
        "workspace"
    ].replace("no-such-team", "?")
    assert not Operation.objects.filter(name="X").exists()


def test_a_member_of_several_workspaces_names_one(owner, workspace, elsewhere):
    join(elsewhere, owner)

    unnamed = api(owner).post("/api/operations/", {"name": "Operation Two Homes"}, format="json")
    named = api(owner).post(
        "/api/operations/", {"name": "Operation Two Homes", "workspace": "elsewhere"}, format="json"
    )

    assert unnamed.status_code == 400 and "several" in unnamed.json()["fields"]["workspace"]
    assert named.status_code == 201 and named.json()["workspace"] == "elsewhere"


def test_the_import_page_creates_in_the_users_only_workspace(client, owner, workspace):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    response = client.post(
        reverse("tracker:import"),
        {"document": SimpleUploadedFile("s.md", DOCUMENT.encode()), "workspace": workspace.pk},
    )

    assert response.status_code == 302
    assert Operation.objects.get(name="Operation Shadow").workspace == workspace


def test_the_import_page_refuses_a_workspace_the_user_is_not_in(client, owner, elsewhere):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    response = client.post(
        reverse("tracker:import"),
        {"document": SimpleUploadedFile("s.md", DOCUMENT.encode()), "workspace": elsewhere.pk},
    )

    assert response.status_code == 400 and not Operation.objects.filter(name="Operation Shadow").exists()


# --- roles inside a workspace ------------------------------------------------------------------------


def test_a_workspace_admin_administers_every_operation_in_it(team, workspace, teammate):
    join(workspace, teammate, "admin")

    response = api(teammate).get(f"/api/operations/{team.slug}/")

    assert response.json()["role"] == "admin"


def test_an_operation_role_reaches_nobody_outside_the_workspace(team, outsider):
    Membership.objects.create(operation=team, user=outsider, role="admin")  # a row written around the services

    assert api(outsider).get(f"/api/operations/{team.slug}/").status_code == 404


def test_only_workspace_members_can_be_given_an_operation_role(team, owner, outsider):
    response = api(owner).post(
        f"/api/operations/{team.slug}/members/", {"username": "outsider", "role": "viewer"}, format="json"
    )
    nobody = api(owner).post(
        f"/api/operations/{team.slug}/members/", {"username": "no-such-user", "role": "viewer"}, format="json"
    )

    assert response.status_code == nobody.status_code == 400
    assert response.json()["fields"] == nobody.json()["fields"]
    assert not Membership.objects.filter(user=outsider).exists()


def test_leaving_a_workspace_takes_every_operation_role_in_it(team, workspace, viewer, superuser):
    membership = WorkspaceMembership.objects.get(workspace=workspace, user=viewer)

    services.workspace_member_remove(membership=membership, actor=superuser)

    assert not Membership.objects.filter(user=viewer).exists()
    assert api(viewer).get(f"/api/operations/{team.slug}/").status_code == 404


# --- workspace pages and API -------------------------------------------------------------------------


def test_the_api_lists_only_the_callers_workspaces(owner, workspace, elsewhere):
    listed = api(owner).get("/api/workspaces/").json()

    assert [w["slug"] for w in listed["results"]] == ["team"]
    assert api(owner).get("/api/workspaces/elsewhere/").status_code == 404
    assert api(owner).get("/api/workspaces/no-such/").status_code == 404


def test_only_superusers_create_workspaces(owner, superuser):
    refused = api(owner).post("/api/workspaces/", {"name": "Team Rogue"}, format="json")
    created = api(superuser).post("/api/workspaces/", {"name": "Team Blue"}, format="json")

    assert refused.status_code == 403 and created.status_code == 201
    assert not Workspace.objects.filter(name="Team Rogue").exists()
    assert WorkspaceMembership.objects.get(workspace__slug="team-blue").user == superuser


def test_a_workspace_member_cannot_manage_it_and_an_admin_can(owner, teammate, workspace):
    join(workspace, owner, "admin")

    refused = api(teammate).patch("/api/workspaces/team/", {"egress_allow": ["10.1.0.0/16"]}, format="json")
    added = api(owner).post("/api/workspaces/team/members/", {"username": "outsider", "role": "member"}, format="json")
    changed = api(owner).patch("/api/workspaces/team/", {"egress_allow": ["10.1.0.0/16"]}, format="json")

    assert refused.status_code == 403
    assert added.status_code == 400  # outsider fixture not requested: no such user
    assert changed.status_code == 200 and changed.json()["egress_allow"] == ["10.1.0.0/16"]


def test_an_allow_list_entry_for_loopback_is_refused(owner, workspace):
    join(workspace, owner, "admin")

    response = api(owner).patch("/api/workspaces/team/", {"egress_allow": ["127.0.0.1", "10.0.0.0/8"]}, format="json")

    assert response.status_code == 400 and "0" in response.json()["fields"]["egress_allow"]
    workspace.refresh_from_db()
    assert workspace.egress_allow == []


def test_the_workspace_page_is_a_404_outside_and_its_forms_are_for_admins(client, owner, teammate, outsider, workspace):
    join(workspace, owner, "admin")
    client.force_login(outsider)
    assert client.get(reverse("tracker:workspace", args=["team"])).status_code == 404

    client.force_login(teammate)
    page = client.get(reverse("tracker:workspace", args=["team"]))
    refused = client.post(
        reverse("tracker:workspace-member-set", args=["team"]), {"username": "outsider", "role": "admin"}
    )
    assert page.status_code == 200 and "owner" in page.content.decode()
    assert refused.status_code == 403

    client.force_login(owner)
    added = client.post(
        reverse("tracker:workspace-member-set", args=["team"]), {"username": "outsider", "role": "member"}
    )
    assert added.status_code == 302
    assert WorkspaceMembership.objects.filter(workspace=workspace, user=outsider, role="member").exists()
