"""The channels pages: admins only, other workspaces' channels not found, the URL never shown back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notify import services
from notify.models import Channel, Delivery
from tests.conftest import join, logged_in
from tracker.models import Workspace

pytestmark = pytest.mark.django_db

SECRET_URL = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general"


def page(operation) -> str:
    return reverse("notify:operation-channels", args=[operation.slug])


def test_an_admin_adds_a_channel_and_never_sees_its_url_again(client, team, owner):
    response = logged_in(client, owner).post(page(team), {"url": SECRET_URL, "label": "infra", **_rules()})
    assert response.status_code == 302
    channel = Channel.objects.get()
    assert channel.operation == team and channel.label == "infra"

    shown = client.get(page(team))
    assert shown.status_code == 200
    text = shown.content.decode()
    assert "slack://…/***" in text
    for part in ("T1JJ3T3L2", "A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ"):
        assert part not in text


def _rules() -> dict:
    return {"flap_runs": 2, "flap_minutes": 0, "slip_days": 3, "sends_reports": "on"}


def test_a_bad_url_is_a_400_with_the_reason_and_writes_nothing(client, team, owner):
    response = logged_in(client, owner).post(page(team), {"url": "nosuchservice://x", **_rules()})
    assert response.status_code == 400
    assert "Apprise does not understand" in response.content.decode()
    assert "nosuchservice://x" not in response.content.decode()  # the typed URL is not echoed either
    assert not Channel.objects.exists()


@pytest.mark.parametrize("who, status", [("viewer", 403), ("teammate", 403), ("outsider", 404)])
def test_viewers_editors_and_outsiders_cannot_see_or_add_channels(client, team, request, who, status):
    user = request.getfixturevalue(who)
    client = logged_in(client, user)
    assert client.get(page(team)).status_code == status
    assert client.post(page(team), {"url": SECRET_URL, **_rules()}).status_code == status
    assert not Channel.objects.exists()


def test_another_workspaces_channel_is_not_found(client, team, owner, outsider, elsewhere, example_bytes):
    from tracker.importers import import_document

    theirs = import_document(data=example_bytes, actor=None, workspace=elsewhere)
    their_channel = services.channel_create(operation=theirs, url=SECRET_URL, actor=outsider)
    client = logged_in(client, owner)
    for action in ("test", "resume", "delete"):
        url = reverse(f"notify:operation-channel-{action}", args=[team.slug, their_channel.pk])
        assert client.post(url).status_code == 404
    assert client.get(page(theirs)).status_code == 404
    assert Channel.objects.filter(pk=their_channel.pk).exists()


def test_send_test_queues_a_delivery_and_delete_removes_the_channel(client, team, owner, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    channel = services.channel_create(operation=team, url=SECRET_URL, actor=owner)
    client = logged_in(client, owner)
    response = client.post(reverse("notify:operation-channel-test", args=[team.slug, channel.pk]))
    assert response.status_code == 302
    assert Delivery.objects.filter(channel=channel, event="test").exists()
    response = client.post(reverse("notify:operation-channel-delete", args=[team.slug, channel.pk]))
    assert response.status_code == 302 and not Channel.objects.exists()


def test_a_paused_channel_is_said_on_the_page_and_can_be_resumed(client, team, owner):
    channel = services.channel_create(operation=team, url=SECRET_URL, actor=owner)
    Channel.objects.filter(pk=channel.pk).update(paused_at="2026-12-01T00:00Z", paused_reason="Paused after 5 failed")
    client = logged_in(client, owner)
    assert "is paused" in client.get(page(team)).content.decode()
    client.post(reverse("notify:operation-channel-resume", args=[team.slug, channel.pk]))
    channel.refresh_from_db()
    assert not channel.is_paused


def test_workspace_admins_manage_workspace_channels(client, workspace, owner, teammate, outsider):
    join(workspace, owner, "admin")
    url = reverse("notify:workspace-channels", args=[workspace.slug])
    assert logged_in(client, owner).post(url, {"url": SECRET_URL, **_rules()}).status_code == 302
    assert Channel.objects.get().workspace == workspace
    assert logged_in(client, teammate).get(url).status_code == 403
    assert logged_in(client, outsider).get(url).status_code == 404
    other = Workspace.objects.create(name="Other", slug="other")
    assert logged_in(client, owner).get(reverse("notify:workspace-channels", args=[other.slug])).status_code == 404


def test_the_workspace_page_lists_its_channels_for_admins_only(client, workspace, owner, teammate):
    join(workspace, owner, "admin")
    services.channel_create(workspace=workspace, url=SECRET_URL, actor=owner, label="infra")
    url = reverse("tracker:workspace", args=[workspace.slug])
    shown = logged_in(client, owner).get(url).content.decode()
    assert "Notification channels" in shown and "slack://…/***" in shown and "T1JJ3T3L2" not in shown
    assert "Notification channels" not in logged_in(client, teammate).get(url).content.decode()


def test_an_admin_changes_what_a_channel_hears_but_not_its_url(client, team, owner, viewer):
    channel = services.channel_create(operation=team, url=SECRET_URL, actor=owner)
    url = reverse("notify:operation-channel-edit", args=[team.slug, channel.pk])
    prefix = f"channel-{channel.pk}-"
    form = {prefix + "events": ["blocker.resolved"], prefix + "flap_runs": 3, prefix + "flap_minutes": 0}
    form |= {prefix + "slip_days": 7, prefix + "label": "ops room", prefix + "url": "json://evil.example.com/"}
    assert logged_in(client, viewer).post(url, form).status_code == 403
    assert logged_in(client, owner).post(url, form).status_code == 302
    channel.refresh_from_db()
    assert (channel.events, channel.flap_runs, channel.slip_days, channel.label) == (
        ["blocker.resolved"],
        3,
        7,
        "ops room",
    )
    assert channel.shown_url == "slack://…/***" and not channel.sends_reports

    bad = logged_in(client, owner).post(url, {**form, prefix + "slip_days": -1}, follow=True)
    assert "was not changed" in bad.content.decode()
    channel.refresh_from_db()
    assert channel.slip_days == 7


def test_without_an_encryption_key_in_production_the_page_says_so(client, team, owner, settings):
    settings.NOTIFY_ENCRYPTION_KEY = ""
    settings.SETTINGS_MODULE = "config.settings.production"
    response = logged_in(client, owner).post(page(team), {"url": SECRET_URL, **_rules()})
    assert response.status_code == 400 and "Set NOTIFY_ENCRYPTION_KEY" in response.content.decode()
    assert not Channel.objects.exists()
