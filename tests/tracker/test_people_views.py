"""People and sharing: admins manage members and public links; a link opens a read-only page."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from tests.conftest import join, logged_in
from tracker.models import ActivityEntry, Membership, PublicLink

pytestmark = pytest.mark.django_db


def sharing_url(operation) -> str:
    return reverse("tracker:sharing", args=[operation.slug])


def test_only_an_admin_opens_the_sharing_page(client, team, owner, teammate, viewer):
    assert logged_in(client, owner).get(sharing_url(team)).status_code == 200
    assert logged_in(client, teammate).get(sharing_url(team)).status_code == 403
    assert logged_in(client, viewer).get(sharing_url(team)).status_code == 403


def test_an_admin_adds_and_removes_a_member(client, team, owner, outsider):
    join(team.workspace, outsider)
    client = logged_in(client, owner)

    client.post(sharing_url(team), {"username": "outsider", "role": "editor"})
    membership = Membership.objects.get(user=outsider)
    assert membership.role == "editor"

    client.post(reverse("tracker:member-remove", args=[team.slug, membership.pk]))
    assert not Membership.objects.filter(user=outsider).exists()


def test_adding_someone_who_does_not_exist_or_is_of_another_workspace_says_the_same(client, team, owner, outsider):
    ghost = logged_in(client, owner).post(sharing_url(team), {"username": "ghost", "role": "viewer"})
    elsewhere = client.post(sharing_url(team), {"username": "outsider", "role": "viewer"})

    assert ghost.status_code == elsewhere.status_code == 400
    assert "No member of this workspace has that name." in ghost.content.decode()
    assert "No member of this workspace has that name." in elsewhere.content.decode()
    assert not Membership.objects.filter(user=outsider).exists()


def test_a_public_link_is_shown_once_and_opens_a_read_only_dashboard(client, team, owner):
    client = logged_in(client, owner)
    client.post(reverse("tracker:link-create", args=[team.slug]), {"label": "steering committee"})

    first = client.get(sharing_url(team)).content.decode()
    link = first[first.index("http://testserver/p/") :].split("<")[0]
    assert link not in client.get(sharing_url(team)).content.decode()  # never shown again
    token = link.rsplit("/p/", 1)[1].strip("/")
    assert PublicLink.objects.get().token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(ActivityEntry.objects.values_list("changes", flat=True)))

    client.logout()
    page = client.get(f"/p/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Operation Snail Trail" in html and "VPC Network Configuration" in html
    assert "Mark done" not in html and "Download markdown" not in html and "· import" not in html
    assert page["Referrer-Policy"] == "no-referrer"


def test_a_revoked_or_made_up_link_opens_nothing(client, team, owner):
    client = logged_in(client, owner)
    client.post(reverse("tracker:link-create", args=[team.slug]), {"label": ""})
    page = client.get(sharing_url(team)).content.decode()
    token = page[page.index("/p/") + 3 :].split("/")[0]
    link = PublicLink.objects.get()

    client.post(reverse("tracker:link-revoke", args=[team.slug, link.pk]))

    assert client.get(f"/p/{token}/").status_code == 404
    assert client.get("/p/made-up-token/").status_code == 404
