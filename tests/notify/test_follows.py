"""A person's own email: each event, a daily digest, or muted; only while they may see the operation."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from notify import people, services
from notify.models import Delivery, Follow
from tests.conftest import logged_in
from tracker import services as tracker_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(viewer):
    viewer.email = "viewer@example.com"
    viewer.save()
    return viewer


def test_a_follower_is_emailed_each_event(team, owner, reader, sent):
    services.follow_set(user=reader, operation=team, mode="immediate")
    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)
    [email] = mail.outbox
    assert email.to == ["viewer@example.com"] and "Blocker opened" in email.subject and "Quota" in email.body


def test_a_digest_gathers_the_day_in_one_email(team, owner, reader, sent):
    services.follow_set(user=reader, operation=team, mode="digest")
    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)
        tracker_services.blocker_open(operation=team, title="Disk", actor=owner)
    assert mail.outbox == []
    with sent():
        people.digests_send()
    [email] = mail.outbox
    assert "2 updates" in email.subject and "Quota" in email.body and "Disk" in email.body
    assert Delivery.objects.filter(status="digested").count() == 2
    with sent():
        assert people.digests_send() == []  # nothing twice


def test_muted_and_removed_people_hear_nothing(team, owner, reader, teammate, sent):
    services.follow_set(user=reader, operation=team, mode="muted")
    teammate.email = "teammate@example.com"
    teammate.save()
    services.follow_set(user=teammate, operation=team, mode="immediate")
    tracker_services.membership_remove(membership=team.memberships.get(user=teammate), actor=owner)
    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)
    assert mail.outbox == []


def test_a_bad_mode_is_refused(team, reader):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.follow_set(user=reader, operation=team, mode="loudly")
    assert not Follow.objects.exists()


def test_the_follow_form_sets_and_clears_it(client, team, reader, outsider):
    url = reverse("notify:follow", args=[team.slug])
    client = logged_in(client, reader)
    assert client.post(url, {"mode": "digest"}).status_code == 302
    assert Follow.objects.get(user=reader).mode == "digest"
    assert client.post(url, {"mode": ""}).status_code == 302
    assert not Follow.objects.exists()
    assert logged_in(client, outsider).post(url, {"mode": "digest"}).status_code == 404
