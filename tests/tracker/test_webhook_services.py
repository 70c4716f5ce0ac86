"""The writes of tracker.webhooks.services that no receiver test reaches directly: the deliveries an
event makes (one per active webhook that wants it, nothing and one query when none does) and
making a stalled delivery due again. Sending them is tests/tracker/test_webhooks.py's business."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tracker import events, webhooks
from tracker.models import WebhookDelivery
from tracker.webhooks import services as webhook_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def occurrence(team):
    return events.Occurrence(
        operation=team,
        event=events.Event.BLOCKER_OPENED,
        at=timezone.now(),
        subject={"type": "blocker", "id": 1, "title": "Quota"},
        actor="owner",
    )


def add(team, owner, url, **fields):
    return webhooks.webhook_create(operation=team, url=url, actor=owner, **fields)[0]


def test_it_makes_one_pending_delivery_per_webhook_that_wants_the_event(
    team, owner, receiver, local_targets, occurrence
):
    everything = add(team, owner, receiver.url)
    blockers = add(team, owner, receiver.url, events=["blocker.opened"])
    add(team, owner, receiver.url, events=["task.done"])
    add(team, owner, receiver.url, active=False)

    made = webhook_services.deliveries_create(occurrence=occurrence)

    assert {delivery.webhook_id for delivery in made} == {everything.pk, blockers.pk}
    stored = WebhookDelivery.objects.get(webhook=blockers)
    assert stored.status == WebhookDelivery.Status.PENDING
    assert stored.payload["event"] == "blocker.opened" and stored.payload["subject"]["title"] == "Quota"
    assert stored.payload["operation"] == {"slug": team.slug, "name": team.name}
    assert stored.payload["delivery"] == str(stored.delivery_id)


def test_an_event_no_webhook_wants_writes_nothing_in_one_query(team, occurrence, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert webhook_services.deliveries_create(occurrence=occurrence) == []

    assert not WebhookDelivery.objects.exists()


def test_the_events_of_a_webhook_are_checked(team, owner, receiver, local_targets):
    with pytest.raises(ValidationError) as refused:
        add(team, owner, receiver.url, events=["blocker.opened", "blocker.eaten"])

    assert "blocker.eaten" in refused.value.message_dict["events"][0]
    assert not team.webhooks.exists()


def test_a_pending_delivery_is_made_due_again_and_a_finished_one_is_not(
    team, owner, receiver, local_targets, occurrence
):
    add(team, owner, receiver.url)
    (delivery,) = webhook_services.deliveries_create(occurrence=occurrence)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=long_ago)

    assert list(webhooks.deliveries_stalled()) == [delivery]
    assert webhook_services.delivery_reschedule(delivery=delivery) is True
    assert list(webhooks.deliveries_stalled()) == []

    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.SUCCEEDED)
    assert webhook_services.delivery_reschedule(delivery=delivery) is False
