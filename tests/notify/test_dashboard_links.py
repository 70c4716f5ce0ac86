"""An operation's dashboard leads to its status reports (every member) and notification channels
(admins only), through the links the notify app registers with the tracker."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import logged_in

pytestmark = pytest.mark.django_db


def header(client, user, operation) -> str:
    page = logged_in(client, user).get(reverse("tracker:operation", args=[operation.slug]))
    assert page.status_code == 200
    return page.content.decode()


def test_an_admin_sees_reports_and_notifications(client, team, owner):
    page = header(client, owner, team)

    assert f'href="{reverse("notify:reports", args=[team.slug])}"' in page
    assert f'href="{reverse("notify:operation-channels", args=[team.slug])}"' in page


def test_a_viewer_sees_the_reports_but_not_the_channels(client, team, viewer):
    page = header(client, viewer, team)

    assert f'href="{reverse("notify:reports", args=[team.slug])}"' in page
    assert reverse("notify:operation-channels", args=[team.slug]) not in page
