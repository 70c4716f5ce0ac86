"""A page opened through a public link says so at its top: a "Shared view" note, read-only, and
whether infrastructure identifiers are hidden. A member's own dashboard has no such note."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in
from tracker import services

pytestmark = pytest.mark.django_db

NOTE = '<p class="shared-view" role="note"><strong>Shared view</strong>'


def test_it_marks_a_public_links_page_as_a_shared_view(client, team, owner):
    _link, token = services.public_link_create(operation=team, actor=owner, label="board")

    html = client.get(f"/p/{token}/").content.decode()

    assert NOTE in html
    assert "read-only, through a link the operation's admins made; infrastructure identifiers are hidden." in html


def test_it_does_not_say_hidden_when_the_link_shows_infrastructure(client, team, owner):
    _link, token = services.public_link_create(operation=team, actor=owner, shows_infrastructure=True)

    html = client.get(f"/p/{token}/").content.decode()

    assert NOTE in html
    assert "identifiers are hidden" not in html


def test_a_members_own_dashboard_is_not_a_shared_view(client, team, viewer):
    html = logged_in(client, viewer).get(team.get_absolute_url()).content.decode()

    assert "Shared view" not in html


def test_a_revoked_link_shows_no_page_and_no_note(client, team, owner):
    link, token = services.public_link_create(operation=team, actor=owner)
    services.public_link_revoke(link=link, actor=owner)

    response = client.get(f"/p/{token}/")

    assert response.status_code == 404
    assert "Shared view" not in response.content.decode()
