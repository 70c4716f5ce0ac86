"""Channels through Apprise's real code path to real local receivers: JSON, Mattermost (a chat
target that takes a host) and email over SMTP; retries, the delivery log, pausing, egress."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from notify import crypto, services
from notify.models import Channel, CheckWatch, Delivery
from tracker import events
from tracker import services as tracker_services

pytestmark = pytest.mark.django_db


def json_url(receiver, path="hook") -> str:
    return f"json://127.0.0.1:{receiver.port}/{path}"


def test_it_sends_an_event_to_a_json_receiver(team, owner, http_receiver, local_targets, sent):
    channel = services.channel_create(operation=team, url=json_url(http_receiver), actor=owner, label="bot")

    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)

    [post] = http_receiver.posts
    assert post.path == "/hook"
    assert "Blocker opened" in post.json["title"] and "Quota" in post.json["message"]
    delivery = Delivery.objects.get(channel=channel)
    assert (delivery.status, delivery.attempts, delivery.event) == ("succeeded", 1, "blocker.opened")


def test_it_sends_to_a_chat_target_with_its_token_in_the_path(team, owner, http_receiver, local_targets, sent):
    services.channel_create(operation=team, url=f"mmost://127.0.0.1:{http_receiver.port}/s3cr3t-token", actor=owner)

    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)

    [post] = http_receiver.posts
    assert post.path == "/hooks/s3cr3t-token"
    assert "Quota" in post.json["text"]


def test_it_sends_email_through_smtp(team, owner, smtp_server, local_targets, sent):
    url = f"mailto://bot:pw-secret@127.0.0.1:{smtp_server.port}?mode=insecure&from=bot@example.com&to=team@example.com"
    services.channel_create(operation=team, url=url, actor=owner)

    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)

    [message] = smtp_server.messages
    assert "Blocker opened" in message["Subject"]
    assert smtp_server.envelopes[0][1] == ["team@example.com"]
    assert smtp_server.logins == [("bot", "pw-secret")]


def test_it_keeps_the_url_encrypted_and_shows_it_redacted(team, owner, http_receiver, local_targets):
    url = f"mmost://127.0.0.1:{http_receiver.port}/s3cr3t-token"
    channel = services.channel_create(operation=team, url=url, actor=owner)

    row = Channel.objects.get(pk=channel.pk)
    assert "s3cr3t" not in row.url_ciphertext and "s3cr3t" not in row.shown_url
    assert row.shown_url == "mmost://127.0.0.1/***"
    assert crypto.decrypt(row.url_ciphertext) == url


def test_a_slack_url_shows_no_token(team, owner, local_targets):
    url = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general"
    channel = services.channel_create(operation=team, url=url, actor=owner)
    assert channel.shown_url == "slack://…/***"


def test_it_only_sends_subscribed_events(team, owner, http_receiver, local_targets, sent):
    services.channel_create(operation=team, url=json_url(http_receiver), actor=owner, events=["blocker.resolved"])

    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)

    assert http_receiver.posts == []
    assert not Delivery.objects.exists()


def test_a_rolled_back_change_is_never_told(team, owner, http_receiver, local_targets, sent):
    from django.db import transaction

    services.channel_create(operation=team, url=json_url(http_receiver), actor=owner)
    with sent(), pytest.raises(RuntimeError):
        with transaction.atomic():
            tracker_services.blocker_open(operation=team, title="Quota", actor=owner)
            raise RuntimeError("undo")

    assert http_receiver.posts == [] and not Delivery.objects.exists()


def test_it_retries_then_succeeds(team, owner, http_receiver, local_targets, sent):
    http_receiver.failures = 2
    services.channel_create(operation=team, url=json_url(http_receiver), actor=owner)

    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)

    assert len(http_receiver.posts) == 3
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.error) == ("succeeded", 3, "")


def test_it_pauses_a_channel_that_keeps_failing_and_says_why(team, owner, http_receiver, local_targets, sent):
    http_receiver.status = 500
    channel = services.channel_create(operation=team, url=json_url(http_receiver), actor=owner)

    with sent():
        tracker_services.blocker_open(operation=team, title="One", actor=owner)
    with sent():
        tracker_services.blocker_open(operation=team, title="Two", actor=owner)
    with sent():
        tracker_services.blocker_open(operation=team, title="Three", actor=owner)

    channel.refresh_from_db()
    assert channel.is_paused and "2 failed deliveries in a row" in channel.paused_reason
    assert Delivery.objects.filter(channel=channel).count() == 2  # paused: the third is not queued
    assert all(d.status == "failed" and d.attempts == 3 for d in Delivery.objects.all())

    services.channel_resume(channel=channel, actor=owner)
    http_receiver.status = 200
    with sent():
        tracker_services.blocker_open(operation=team, title="Four", actor=owner)
    assert Delivery.objects.filter(status="succeeded").count() == 1


def test_send_test_reaches_the_channel(team, owner, http_receiver, local_targets, sent):
    channel = services.channel_create(operation=team, url=json_url(http_receiver), actor=owner)
    with sent():
        services.channel_send_test(channel=channel, actor=owner)
    [post] = http_receiver.posts
    assert "test notification" in post.json["title"]


@pytest.mark.parametrize(
    "url, said",
    [
        ("", "Enter an Apprise URL"),
        ("nonsense", "Apprise does not understand"),
        ("nosuchservice://x/y", "Apprise does not understand"),
        ("syslog://", "not a team"),
        ("json://10.0.0.5/hook", "not public"),
        ("json://169.254.169.254/latest", "not public"),
        ("json://[::ffff:127.0.0.1]/x", "not public"),
        ("mailto://user:pw@10.0.0.5?to=x@example.com&from=y@example.com", "not public"),
    ],
)
def test_it_refuses_bad_or_internal_urls_and_writes_nothing(team, owner, local_targets, url, said):
    with pytest.raises(ValidationError) as refused:
        services.channel_create(operation=team, url=url, actor=owner)
    assert said in " ".join(refused.value.message_dict["url"])
    assert not Channel.objects.exists()


def test_it_refuses_plain_http_kinds_unless_allowed(team, owner, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationError, match="secure form"):
        services.channel_create(operation=team, url="json://example.com/hook", actor=owner)


def test_loopback_is_refused_at_send_time_without_the_test_switch(team, owner, http_receiver, local_targets, sent):
    channel = services.channel_create(operation=team, url=json_url(http_receiver), actor=owner)
    local_targets.EGRESS_TEST_ALLOW_LOOPBACK = False

    with sent():
        services.channel_send_test(channel=channel, actor=owner)

    assert http_receiver.posts == []
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "Target refused" in delivery.error and delivery.attempts == 1


def test_a_name_resolving_inside_is_refused_when_apprise_looks_it_up(team, owner, http_receiver, local_targets, sent):
    # localhost is a name: Apprise's own lookup gives 127.0.0.1, judged in the sending thread.
    channel = services.channel_create(operation=team, url=json_url(http_receiver), actor=owner)
    channel.url_ciphertext = crypto.encrypt(f"json://localhost:{http_receiver.port}/hook")
    channel.save()
    local_targets.EGRESS_TEST_ALLOW_LOOPBACK = False

    with sent():
        services.channel_send_test(channel=channel, actor=owner)

    assert http_receiver.posts == []
    assert "localhost resolves to an address that is not public" in Delivery.objects.get().error


def test_a_workspace_channel_hears_every_operation_of_it(team, owner, workspace, http_receiver, local_targets, sent):
    services.channel_create(workspace=workspace, url=json_url(http_receiver), actor=owner)
    with sent():
        tracker_services.blocker_open(operation=team, title="Quota", actor=owner)
    assert len(http_receiver.posts) == 1


def test_check_flips_wait_for_the_hold(team, owner, http_receiver, local_targets, sent):
    url = json_url(http_receiver)
    channel = services.channel_create(operation=team, url=url, actor=owner, flap_runs=0, flap_minutes=10)
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

    def flip(old, new, when):
        events.announce(
            operation=team,
            event=events.Event.CHECK_FLIPPED,
            subject={"type": "check", "id": 7, "title": "VPC DNS"},
            changes={"status": [old, new]},
            at=when,
        )

    with sent():
        flip("pass", "fail", at)
    assert http_receiver.posts == []
    watch = CheckWatch.objects.get(channel=channel)
    assert watch.due_at == at + dt.timedelta(minutes=10)

    with sent():
        services.check_watches_due(now=at + dt.timedelta(minutes=5))
    assert http_receiver.posts == []
    with sent():
        services.check_watches_due(now=at + dt.timedelta(minutes=11))
    [post] = http_receiver.posts
    assert "Check fails: VPC DNS" in post.json["title"]


def test_a_forecast_slip_is_told_past_the_channel_threshold(team, owner, http_receiver, local_targets, sent):
    services.channel_create(operation=team, url=json_url(http_receiver), actor=owner, slip_days=3)
    base = dt.datetime(2026, 12, 20, tzinfo=dt.UTC)

    def slip(old, new):
        events.announce(
            operation=team,
            event=events.Event.FORECAST_SLIPPED,
            details={"old": old.isoformat(), "new": new.isoformat(), "slip_days": (new - old).days},
        )

    with sent():
        slip(base, base + dt.timedelta(days=2))  # 2 days: under the threshold
    assert http_receiver.posts == []
    with sent():
        slip(base + dt.timedelta(days=2), base + dt.timedelta(days=4))  # 4 days from what it first saw
    [post] = http_receiver.posts
    assert "Forecast slipped 4 days" in post.json["title"]


def test_by_default_a_flip_holds_two_runs_of_a_default_interval(team, owner, http_receiver, local_targets, sent):
    channel = services.channel_create(operation=team, url=json_url(http_receiver), actor=owner)
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    with sent():
        events.announce(
            operation=team,
            event=events.Event.CHECK_FLIPPED,
            subject={"type": "check", "id": 7, "title": "VPC DNS"},
            changes={"status": ["pass", "fail"]},
            at=at,
        )
    assert http_receiver.posts == []
    assert CheckWatch.objects.get(channel=channel).due_at == at + dt.timedelta(minutes=10)


def test_the_sweep_tells_a_flapping_check_that_settled(team, owner, http_receiver, local_targets, sent):
    services.channel_create(operation=team, url=json_url(http_receiver), actor=owner, flap_runs=0, flap_minutes=10)
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    statuses = ["pass", "fail", "pass", "fail", "pass"]
    with sent():
        for minute, (old, new) in enumerate(zip(statuses, statuses[1:], strict=False)):
            events.announce(
                operation=team,
                event=events.Event.CHECK_FLIPPED,
                subject={"type": "check", "id": 7, "title": "VPC DNS"},
                changes={"status": [old, new]},
                at=at + dt.timedelta(minutes=minute),
            )
    assert [p.json["title"] for p in http_receiver.posts] == [f"{team.name}: Check flapping: VPC DNS"]
    with sent():
        assert services.check_watches_due(now=at + dt.timedelta(minutes=5)) == []  # still within the hold
    with sent():
        services.check_watches_due(now=at + dt.timedelta(minutes=30))
    assert http_receiver.posts[-1].json["title"] == f"{team.name}: Check settled: VPC DNS"
    with sent():
        assert services.check_watches_due(now=at + dt.timedelta(minutes=60)) == []  # said once


@pytest.mark.parametrize(
    "url, shown",
    [
        ("ntfy://snail-topic", "ntfy://…/***"),  # a topic on ntfy.sh, not a host to resolve
        ("tgram://123456789:abcdefg_hijklmnop/12315544", "tgram://…/***"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://…/***"),
        ("mailtos://user:pass@127.0.0.1?to=x@example.com&from=y@example.com", "mailtos://127.0.0.1/***"),
    ],
)
def test_common_services_are_accepted_and_shown_without_secrets(team, owner, local_targets, url, shown):
    assert services.channel_create(operation=team, url=url, actor=owner).shown_url == shown


def test_an_event_costs_the_same_queries_for_one_channel_or_five(team, owner, local_targets):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            events.announce(
                operation=team, event=events.Event.BLOCKER_OPENED, subject={"type": "blocker", "title": "Q"}
            )
        return len(queries)

    services.channel_create(operation=team, url="slack://T1/A1/B1", actor=owner)
    one = cost()
    for n in range(4):
        services.channel_create(operation=team, url=f"slack://T{n}/A{n}/B{n}", actor=owner)
    assert cost() == one
    assert Delivery.objects.count() == 1 + 5
