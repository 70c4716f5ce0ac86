"""The notify app's Celery tasks: thin, and safe to run twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from notify import services, tasks
from notify.models import Delivery, StatusReport

pytestmark = pytest.mark.django_db


def test_a_delivery_sent_twice_is_sent_once(team, owner, http_receiver, local_targets, sent):
    channel = services.channel_create(operation=team, url=f"json://127.0.0.1:{http_receiver.port}/h", actor=owner)
    with sent():
        delivery = services.channel_send_test(channel=channel, actor=owner)
    tasks.deliver.delay(str(delivery.delivery_id))  # a redelivered message
    assert len(http_receiver.posts) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)


def test_the_sweep_requeues_a_delivery_whose_message_was_lost(team, owner, http_receiver, local_targets):
    channel = services.channel_create(operation=team, url=f"json://127.0.0.1:{http_receiver.port}/h", actor=owner)
    services.channel_send_test(channel=channel, actor=owner)  # its on_commit never runs: the message is lost
    Delivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(hours=1))
    assert tasks.redeliver_stalled() == 1
    assert len(http_receiver.posts) == 1 and Delivery.objects.get().status == "succeeded"


def test_the_periodic_tasks_run(team):
    from notify import reports

    reports.schedule_set(
        operation=team, enabled=True, weekday=timezone.now().weekday(), hour=0, minute=0, timezone_name="UTC"
    )
    assert tasks.send_scheduled_reports() == 1
    assert StatusReport.objects.get().trigger == "schedule"
    assert tasks.send_scheduled_reports() == 0
    assert tasks.tell_held_flips() == 0
    assert tasks.send_digests() == 0
