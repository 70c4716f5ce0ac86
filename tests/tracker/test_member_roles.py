"""Changing a member's role from their row on the sharing page: a role picked from a list, no username to type."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import join, logged_in
from tracker import services
from tracker.models import ActivityEntry, Membership, WorkspaceMembership

pytestmark = pytest.mark.django_db


def role_url(operation, membership) -> str:
    return reverse("tracker:member-role", args=[operation.slug, membership.pk])


def membership_of(operation, user) -> Membership:
    return Membership.objects.get(operation=operation, user=user)


def test_it_lists_each_member_with_a_role_select_and_a_named_save_button(client, team, owner, teammate):
    html = logged_in(client, owner).get(reverse("tracker:sharing", args=[team.slug])).content.decode()
    membership = membership_of(team, teammate)

    assert f'action="{role_url(team, membership)}"' in html
    assert f'<label class="visually-hidden" for="role-{membership.pk}">Role of teammate</label>' in html
    assert '<option value="editor" selected>Editor</option>' in html
    assert 'aria-label="Save the role of teammate"' in html


def test_it_changes_a_members_role_and_records_who_did(client, team, owner, teammate):
    membership = membership_of(team, teammate)

    response = logged_in(client, owner).post(role_url(team, membership), {"role": "viewer"})

    assert response.status_code == 302
    assert response["Location"] == reverse("tracker:sharing", args=[team.slug])
    membership.refresh_from_db()
    assert membership.role == "viewer"
    entry = ActivityEntry.objects.filter(action="updated").latest("pk")
    assert entry.changes == {"role": ["editor", "viewer"]}
    assert entry.actor_name == "owner"
    page = client.get(response["Location"]).content.decode()
    assert "teammate is now viewer." in page


def test_it_refuses_a_role_that_does_not_exist_on_the_members_row(client, team, owner, teammate):
    membership = membership_of(team, teammate)

    response = logged_in(client, owner).post(role_url(team, membership), {"role": "overlord"})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="role-{membership.pk}-error"' in html
    assert "Not a role: choose viewer, editor or admin." in html
    membership.refresh_from_db()
    assert membership.role == "editor"


def test_it_refuses_a_post_without_a_role(client, team, owner, teammate):
    membership = membership_of(team, teammate)

    response = logged_in(client, owner).post(role_url(team, membership), {})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == "editor"


def test_a_non_admin_cannot_change_roles(client, team, teammate, viewer):
    membership = membership_of(team, viewer)

    response = logged_in(client, teammate).post(role_url(team, membership), {"role": "admin"})

    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == "viewer"


def test_an_outsider_finds_nothing_and_changes_nothing(client, team, outsider, viewer):
    membership = membership_of(team, viewer)

    response = logged_in(client, outsider).post(role_url(team, membership), {"role": "admin"})

    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.role == "viewer"


def test_a_membership_of_another_operation_is_not_found_here(client, team, owner, viewer):
    other = services.operation_create(workspace=team.workspace, name="Other operation", actor=None)
    elsewhere = services.membership_set(operation=other, user=viewer, role="viewer", actor=None)

    response = logged_in(client, owner).post(role_url(team, elsewhere), {"role": "admin"})

    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.role == "viewer"


def test_a_get_is_refused(client, team, owner, teammate):
    response = logged_in(client, owner).get(role_url(team, membership_of(team, teammate)))

    assert response.status_code == 405


def test_an_admin_who_lowers_their_own_role_lands_on_the_dashboard(client, team, owner):
    membership = membership_of(team, owner)

    response = logged_in(client, owner).post(role_url(team, membership), {"role": "editor"})

    assert response.status_code == 302
    assert response["Location"] == team.get_absolute_url()
    membership.refresh_from_db()
    assert membership.role == "editor"
    assert client.get(reverse("tracker:sharing", args=[team.slug])).status_code == 403


def test_a_workspace_admin_stays_admin_of_the_operation_whatever_their_row_says(client, team, owner):
    """Why there is no "last admin" rule: the workspace's admins administer each of its operations,
    so lowering every operation admin leaves it administered, never orphaned."""
    join(team.workspace, owner, role="admin")
    membership = membership_of(team, owner)

    response = logged_in(client, owner).post(role_url(team, membership), {"role": "viewer"})

    assert response.status_code == 302
    assert client.get(reverse("tracker:sharing", args=[team.slug])).status_code == 200


def test_the_add_form_offers_the_workspaces_people_who_have_no_role_yet(client, team, owner, django_user_model):
    join(team.workspace, django_user_model.objects.create_user(username="newcomer", password="x"))

    html = logged_in(client, owner).get(reverse("tracker:sharing", args=[team.slug])).content.decode()

    datalist = html[html.index('<datalist id="workspace-people">') :].split("</datalist>")[0]
    assert '<option value="newcomer">' in datalist
    assert '<option value="teammate">' not in datalist


def test_a_member_who_left_the_workspace_keeps_their_role_and_the_row_says_why(client, team, owner, teammate):
    membership = membership_of(team, teammate)
    WorkspaceMembership.objects.filter(workspace=team.workspace, user=teammate).delete()  # not through a service

    response = logged_in(client, owner).post(role_url(team, membership), {"role": "admin"})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="role-{membership.pk}-error"' in html
    assert "No such member of this workspace." in html
    membership.refresh_from_db()
    assert membership.role == "editor"
