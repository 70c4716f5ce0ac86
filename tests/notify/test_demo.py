"""`make run`'s demo channel: Apprise's snailtraillog:// custom schema, writing to a file."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from notify import services
from notify.models import Channel
from tracker import services as tracker_services

pytestmark = pytest.mark.django_db


def test_the_demo_channel_writes_events_to_the_log_file(team, owner, settings, tmp_path, sent):
    settings.NOTIFY_LOG_FILE = str(tmp_path / "notifications.log")
    call_command("demo_notifications", "--slug", team.slug, stdout=StringIO())
    call_command("demo_notifications", "--slug", team.slug, stdout=StringIO())
    assert Channel.objects.count() == 1 and Channel.objects.get().shown_url == "snailtraillog://…/***"

    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)

    written = (tmp_path / "notifications.log").read_text()
    assert "Blocker opened" in written and "Quota" in written


def test_the_log_target_is_refused_where_the_operator_turned_it_off(team, owner, settings):
    settings.NOTIFY_ALLOW_LOG_TARGET = False
    with pytest.raises(ValidationError, match="not enabled"):
        services.channel_create(operation=team, url="snailtraillog://demo", actor=owner)
