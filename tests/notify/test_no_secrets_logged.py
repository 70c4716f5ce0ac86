"""A channel URL's secrets (a chat token in its path, an SMTP password) appear in no log line, at
any level, not even Apprise's own debug lines, nor in the delivery log, the pages or the admin."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from notify import services
from notify.models import Channel, Delivery
from tests.conftest import logged_in
from tracker import services as tracker_services

pytestmark = pytest.mark.django_db

TOKEN = "tok3n-VERY-secret-9f2c"
PASSWORD = "pa55-VERY-secret-77ab"


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="apprise")
    return caplog


def assert_absent(text: str) -> None:
    assert TOKEN not in text and PASSWORD not in text


def test_no_secret_in_logs_when_sends_succeed_and_fail(
    team, owner, http_receiver, smtp_server, local_targets, sent, everything_logged
):
    services.channel_create(operation=team, url=f"mmost://127.0.0.1:{http_receiver.port}/{TOKEN}", actor=owner)
    mail = f"mailto://bot:{PASSWORD}@127.0.0.1:{smtp_server.port}?mode=insecure&from=b@example.com&to=t@example.com"
    services.channel_create(operation=team, url=mail, actor=owner)

    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)
    http_receiver.status = 500
    with sent():
        tracker_services.blocker_open(operation=team, title="Disk", actor=owner)

    assert http_receiver.posts[0].path == f"/hooks/{TOKEN}"  # the token was used…
    assert smtp_server.logins[0] == ("bot", PASSWORD)
    assert everything_logged.records  # …and something was logged
    assert_absent(everything_logged.text)
    assert_absent(" ".join(str(record.args) for record in everything_logged.records))
    failed = Delivery.objects.filter(status="failed")
    assert failed.exists()
    for delivery in Delivery.objects.all():
        assert_absent(delivery.error + delivery.body + delivery.title)


def test_no_secret_on_the_page_or_in_the_admin(client, team, owner, superuser, local_targets, http_receiver):
    channel = services.channel_create(
        operation=team, url=f"mmost://127.0.0.1:{http_receiver.port}/{TOKEN}", actor=owner
    )
    assert_absent(logged_in(client, owner).get(reverse("notify:operation-channels", args=[team.slug])).content.decode())
    admin = logged_in(client, superuser)
    assert_absent(admin.get(reverse("admin:notify_channel_changelist")).content.decode())
    assert_absent(admin.get(reverse("admin:notify_channel_change", args=[channel.pk])).content.decode())
    assert_absent(Channel.objects.filter(pk=channel.pk).values_list("url_ciphertext", flat=True)[0])
