"""Outgoing webhooks, against a local receiver: what is sent when, signed how, retried how often,
where it may go, and that the secret is shown once and nowhere after."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import socket

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in
from tracker import events, services, tasks, webhooks
from tracker.models import ActivityEntry, Phase, PhaseStatus, Task, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(team, owner, receiver, local_targets):
    webhook, secret = webhooks.webhook_create(operation=team, url=receiver.url, actor=owner, label="all events")
    webhook.plain_secret = secret
    return webhook


@pytest.fixture
def phase(team) -> Phase:
    return team.phases.exclude(status=PhaseStatus.COMPLETE).order_by("number").first()


# --- what is sent, and how it is signed ------------------------------------------------------------


def test_it_signs_the_body_with_the_secret(team, owner, hook, receiver, sent):
    with sent():
        blocker = services.blocker_open(operation=team, title="Quota", actor=owner)

    [request] = receiver.requests
    expected = "sha256=" + hmac.new(hook.plain_secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-SnailTrail-Signature"], expected)
    assert request.path == "/hooks/snail"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "SnailTrail-Webhooks/1"
    delivery = WebhookDelivery.objects.get()
    assert request.headers["X-SnailTrail-Delivery"] == str(delivery.delivery_id)
    payload = request.json
    assert payload["event"] == request.event == "blocker.opened"
    assert payload["delivery"] == str(delivery.delivery_id)
    assert payload["operation"] == {"slug": team.slug, "name": team.name}
    assert payload["subject"] == {"type": "blocker", "id": blocker.pk, "title": "Quota"}
    assert payload["changes"]["state"] == [None, "open"]
    assert payload["actor"] == "owner"
    assert dt.datetime.fromisoformat(payload["at"])
    assert request.body == webhooks.encode(delivery.payload)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    assert delivery.response_excerpt == "answer 200"


def test_a_body_signed_with_another_secret_does_not_verify(team, owner, hook, receiver, sent):
    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    [request] = receiver.requests
    forged = webhooks.sign("not-the-secret", request.body)
    assert not hmac.compare_digest(request.headers["X-SnailTrail-Signature"], forged)
    tampered = webhooks.sign(hook.plain_secret, request.body.replace(b"Quota", b"Quote"))
    assert not hmac.compare_digest(request.headers["X-SnailTrail-Signature"], tampered)


def test_each_event_fires_from_the_services(team, owner, phase, hook, receiver, sent):
    with sent():
        blocker = services.blocker_open(operation=team, title="Quota", actor=owner)
        services.blocker_resolve(blocker=blocker, actor=owner)
        services.blocker_reopen(blocker=blocker, actor=owner)
        task = services.task_create(operation=team, phase=phase, title="Peer the VPCs", actor=owner)
        services.task_set_done(task=task, done=True, actor=owner)
        services.task_set_done(task=task, done=False, actor=owner)
        step = services.task_create(operation=team, kind=Task.Kind.NEXT_STEP, title="Tell the team", actor=owner)
        services.task_set_done(task=step, done=True, actor=owner)
        criterion = services.task_create(
            operation=team, phase=phase, kind=Task.Kind.CRITERION, title="Latency < 50 ms", actor=owner
        )
        services.task_set_done(task=criterion, done=True, actor=owner)
        services.task_set_done(task=criterion, done=False, actor=owner)
        services.phase_update(phase=phase, actor=owner, status=PhaseStatus.COMPLETE)

    assert receiver.events == [
        "blocker.opened",
        "blocker.resolved",
        "blocker.opened",
        "task.done",
        "task.reopened",
        "task.done",
        "criterion.done",
        "criterion.reopened",
        "phase.completed",
        "operation.completed",  # its last unfinished phase (tracker.watch)
    ]
    assert receiver.requests[5].json["subject"]["type"] == "next step"
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 10


def test_only_subscribed_events_are_sent(team, owner, phase, receiver, local_targets, sent):
    webhooks.webhook_create(
        operation=team, url=receiver.url, actor=owner, events=["blocker.resolved", "phase.completed"]
    )

    with sent():
        blocker = services.blocker_open(operation=team, title="Quota", actor=owner)
        task = services.task_create(operation=team, phase=phase, title="Peer the VPCs", actor=owner)
        services.task_set_done(task=task, done=True, actor=owner)
        services.blocker_resolve(blocker=blocker, actor=owner)
        services.phase_update(phase=phase, actor=owner, status=PhaseStatus.COMPLETE)

    assert receiver.events == ["blocker.resolved", "phase.completed"]
    assert list(WebhookDelivery.objects.values_list("event", flat=True).order_by("id")) == receiver.events


def test_ordinary_changes_send_nothing(team, owner, phase, hook, receiver, sent):
    with sent():
        services.decision_create(operation=team, title="Use Transit Gateway", actor=owner)
        services.phase_update(phase=phase, actor=owner, status=PhaseStatus.IN_PROGRESS)
        task = services.task_create(operation=team, phase=phase, title="Peer the VPCs", actor=owner)
        services.task_update(task=task, actor=owner, title="Peer all the VPCs")
        services.blocker_open(operation=team, title="Quota", actor=owner, severity="secondary")

    assert receiver.events == ["blocker.opened"]


def test_a_paused_webhook_is_sent_nothing(team, owner, hook, receiver, sent):
    webhooks.webhook_update(webhook=hook, actor=owner, active=False)

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_another_operations_webhook_is_sent_nothing(team, owner, receiver, local_targets, sent):
    other = services.operation_create(workspace=team.workspace, name="Operation Red Fox", actor=owner)
    webhooks.webhook_create(operation=other, url=receiver.url, actor=owner)

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    assert receiver.requests == []


def test_the_ops_app_emits_a_check_flip(team, owner, receiver, local_targets, sent):
    webhooks.webhook_create(operation=team, url=receiver.url, actor=owner, events=["check.flipped"])
    subject = {"type": "finding", "id": 7, "title": "Route table"}

    with sent():
        events.announce(
            operation=team,
            event=events.Event.CHECK_FLIPPED,
            subject=subject,
            changes={"verdict": ["correct", "wrong"]},
            details={"observed": {"routes": 2}},
        )

    [request] = receiver.requests
    assert request.event == "check.flipped"
    assert request.json["subject"] == subject
    assert request.json["actor"] == "system"
    assert request.json["observed"] == {"routes": 2}
    with pytest.raises(ValueError):
        events.announce(operation=team, event="check.flopped")


# --- events from activity entries -------------------------------------------------------------------


def entry(kind: str, action: str = "updated", **changes) -> tuple[ActivityEntry, str]:
    activity = ActivityEntry(
        subject_type="label", subject_id=1, subject_label="x", action=action, actor_name="owner", changes=changes
    )
    return activity, kind


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        (entry("blocker", "created", state=[None, "open"]), ["blocker.opened"]),
        (entry("blocker", state=["open", "resolved"]), ["blocker.resolved"]),
        (entry("blocker", state=["resolved", "open"]), ["blocker.opened"]),
        (entry("blocker", title=["a", "b"]), []),
        (entry("task", done=[False, True]), ["task.done"]),
        (entry("task", done=[True, False]), ["task.reopened"]),
        (entry("task", "created", done=[None, True]), ["task.done"]),
        (entry("task", "created", done=[None, False]), []),
        (entry("next_step", done=[False, True]), ["task.done"]),
        (entry("criterion", done=[False, True]), ["criterion.done"]),
        (entry("criterion", done=[True, False]), ["criterion.reopened"]),
        (entry("phase", status=["in_progress", "complete"]), ["phase.completed"]),
        (entry("phase", "created", status=[None, "complete"]), ["phase.completed"]),
        (entry("phase", status=["complete", "in_progress"]), []),
        (entry("task", "deleted"), []),
        (entry("operation", "imported", phases=[None, 3]), []),
        (entry("decision", "created", title=[None, "x"]), []),
    ],
)
def test_it_derives_events_from_activity_entries(activity, expected, django_assert_num_queries):
    entry, kind = activity
    with django_assert_num_queries(0):
        assert events.events_for(entry, kind=kind) == expected


def test_events_are_keyed_on_codes_not_on_the_labels_the_feed_shows(team, owner):
    """Renaming a label (Task.Kind's display, a model's verbose_name) cannot change which events fire."""
    criterion = Task(operation=team, kind=Task.Kind.CRITERION, title="x")
    assert events.subject_kind(criterion) == "criterion"
    relabelled = ActivityEntry(subject_type="Definition of done", action="updated", changes={"done": [False, True]})
    assert events.events_for(relabelled, kind=events.subject_kind(criterion)) == [events.Event.CRITERION_DONE]


def test_a_write_that_is_no_event_costs_no_extra_query(team, owner, receiver, local_targets):
    def decision_queries() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            services.decision_create(operation=team, title="Use Transit Gateway", actor=owner)
        return [query["sql"] for query in queries]

    without_webhooks = decision_queries()
    webhooks.webhook_create(operation=team, url=receiver.url, actor=owner)
    with_a_webhook = decision_queries()

    assert len(with_a_webhook) == len(without_webhooks)
    assert not [sql for sql in with_a_webhook + without_webhooks if "tracker_webhook" in sql]


# --- retries ----------------------------------------------------------------------------------------


def test_it_retries_on_500_then_succeeds(team, owner, hook, receiver, sent):
    receiver.failures = 2

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    assert receiver.events == ["blocker.opened"] * 3
    assert len({request.headers["X-SnailTrail-Delivery"] for request in receiver.requests}) == 1
    assert len({request.body for request in receiver.requests}) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.error) == ("succeeded", 3, 200, "")
    assert delivery.next_attempt_at is None and delivery.last_attempt_at is not None


@pytest.mark.parametrize("status", [500, 503, 429, 408])
def test_it_gives_up_after_the_last_attempt(team, owner, hook, receiver, sent, settings, status):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.status = status

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    assert len(receiver.requests) == 3
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, status)
    assert delivery.response_excerpt == f"answer {status}"
    assert str(status) in delivery.error
    assert delivery.next_attempt_at is None


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_4xx_fails_at_once(team, owner, hook, receiver, sent, status):
    receiver.status = status

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, status)


def test_a_redirect_is_not_followed(team, owner, hook, receiver, sent):
    receiver.status = 302
    receiver.headers = {"Location": "http://169.254.169.254/latest/meta-data/"}

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_status) == ("failed", 302)
    assert "redirects are not followed" in delivery.error


def test_a_receiver_that_is_down_is_retried_then_given_up(team, owner, local_targets, sent, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    webhooks.webhook_create(operation=team, url=f"http://127.0.0.1:{port}/", actor=owner)

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 2, None)
    assert "ConnectionError" in delivery.error


def test_the_backoff_grows_fourfold(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30

    assert [webhooks._backoff(n) for n in range(1, 6)] == [30, 120, 480, 1920, 7680]


def test_sending_a_delivery_again_sends_nothing_more(team, owner, hook, receiver, sent):
    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)
    delivery = WebhookDelivery.objects.get()

    tasks.deliver_webhook.delay(str(delivery.delivery_id))

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_delivery_of_a_deleted_webhook_is_dropped(team, owner, hook, receiver, sent):
    with sent() as callbacks:
        services.blocker_open(operation=team, title="Quota", actor=owner)
        webhooks.webhook_delete(webhook=hook, actor=owner)

    assert len(callbacks) == 1
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_a_stalled_delivery_is_sent_by_the_sweep(team, owner, hook, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the broker was down at commit
        services.blocker_open(operation=team, title="Quota", actor=owner)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - dt.timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.redeliver_stalled_webhooks() == 1

    assert receiver.events == ["blocker.opened"]
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert tasks.redeliver_stalled_webhooks() == 0


# --- nothing before the commit ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_before_the_commit(team, owner, hook, receiver):
    with transaction.atomic():
        services.blocker_open(operation=team, title="Quota", actor=owner)
        assert WebhookDelivery.objects.filter(status="pending").count() == 1
        assert receiver.requests == []

    assert receiver.events == ["blocker.opened"]
    assert WebhookDelivery.objects.get().status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing(team, owner, hook, receiver):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.blocker_open(operation=team, title="Quota", actor=owner)
        raise RuntimeError("changed my mind")

    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


# --- where webhooks may go --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "https://localhost:8443/hook",
    ],
)
def test_it_refuses_targets_inside_our_network(production_targets, url):
    with pytest.raises(ValidationError, match="not public"):
        webhooks.validate_target(url)


def test_it_refuses_http_in_production(production_targets):
    with pytest.raises(ValidationError, match="https"):
        webhooks.validate_target("http://93.184.216.34/hook")
    with pytest.raises(ValidationError, match="https"):
        webhooks.validate_target("ftp://93.184.216.34/hook")


def test_it_refuses_a_user_name_or_password_in_the_url(production_targets):
    with pytest.raises(ValidationError, match="user name or password"):
        webhooks.validate_target("https://deploy:hunter2@93.184.216.34/hook")


def test_it_accepts_a_public_address(production_targets):
    webhooks.validate_target("https://93.184.216.34/hook")
    webhooks.validate_target("https://[2606:2800:220:1:248:1893:25c8:1946]:8443/hook")


def fake_dns(monkeypatch, answers: dict[str, list[str]]):
    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_every_address_of_a_name_must_be_public(production_targets, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34"], "mixed.example.com": ["93.184.216.34", "10.0.0.5"]})

    webhooks.validate_target("https://hooks.example.com/in")
    with pytest.raises(ValidationError, match="resolves to an address that is not public") as refused:
        webhooks.validate_target("https://mixed.example.com/in")
    assert "10.0.0.5" not in str(refused.value)  # our internal DNS is none of an operation admin's business


def test_it_refuses_a_name_that_does_not_resolve(production_targets, monkeypatch):
    fake_dns(monkeypatch, {})

    with pytest.raises(ValidationError, match="does not resolve"):
        webhooks.validate_target("https://nowhere.example.com/in")


def test_private_targets_can_be_allowed_in_settings(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.EGRESS_TEST_ALLOW_LOOPBACK = False

    webhooks.validate_target("http://10.0.0.8:8000/hook")
    # ... but never loopback or the metadata service (tests/security/test_egress.py has the rest).
    for url in ("http://127.0.0.1:8000/hook", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(ValidationError, match="not public"):
            webhooks.validate_target(url)


def test_a_target_is_checked_again_at_send_time(team, owner, hook, receiver, sent, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False  # e.g. the name now resolves inside our network
    settings.EGRESS_TEST_ALLOW_LOOPBACK = False

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "not public" in delivery.error


def test_the_send_judges_the_address_it_connects_to_even_if_the_save_time_check_passed(
    team, owner, hook, receiver, sent, settings, monkeypatch
):
    # The save-time check is not what guards the send: the send resolves and judges on its own.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.EGRESS_TEST_ALLOW_LOOPBACK = False
    monkeypatch.setattr(webhooks.services, "validate_target", lambda url: None)

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "127.0.0.1" in delivery.error and "not public" in delivery.error


def test_the_services_refuse_a_bad_target_or_event(team, owner, production_targets):
    with pytest.raises(ValidationError) as refused:
        webhooks.webhook_create(operation=team, url="https://169.254.169.254/", actor=owner)
    assert "url" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        webhooks.webhook_create(operation=team, url="https://93.184.216.34/", actor=owner, events=["blocker.eaten"])
    assert "events" in refused.value.message_dict
    assert not Webhook.objects.exists()


def test_an_update_is_checked_and_cannot_touch_the_secret(team, owner, receiver, local_targets, settings):
    webhook, secret = webhooks.webhook_create(operation=team, url=receiver.url, actor=owner)
    settings.WEBHOOK_ALLOW_HTTP = False

    with pytest.raises(ValidationError):
        webhooks.webhook_update(webhook=webhook, actor=owner, secret="mine")
    with pytest.raises(ValidationError):
        webhooks.webhook_update(webhook=webhook, actor=owner, url="http://93.184.216.34/")
    webhooks.webhook_update(webhook=webhook, actor=owner, events=["task.done"], label="bot")

    webhook.refresh_from_db()
    assert (webhook.secret, webhook.events, webhook.label, webhook.url) == (secret, ["task.done"], "bot", receiver.url)


# --- the secret stays secret ------------------------------------------------------------------------


def test_the_secret_is_in_no_activity_entry(team, owner, hook):
    webhooks.webhook_update(webhook=hook, actor=owner, label="renamed")
    webhooks.webhook_delete(webhook=hook, actor=owner)

    logged = [(e.subject_label, e.changes) for e in ActivityEntry.objects.filter(subject_type="webhook")]
    assert len(logged) == 3
    assert hook.plain_secret not in str(logged)


def test_the_secret_is_in_no_log_record(team, owner, hook, receiver, sent, caplog, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    caplog.set_level(logging.DEBUG)
    receiver.status = 500

    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)
        services.blocker_open(operation=team, title="Quota again", actor=owner)
    receiver.status = 200
    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    assert len(receiver.requests) == 5
    assert any("tracker.webhooks" == record.name for record in caplog.records)
    for record in caplog.records:
        assert hook.plain_secret not in record.getMessage()
        assert hook.plain_secret not in str(record.args)


def sharing_url(operation) -> str:
    return reverse("tracker:sharing", args=[operation.slug])


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(client, team, owner, receiver, local_targets):
    client = logged_in(client, owner)

    response = client.post(
        reverse("tracker:webhook-create", args=[team.slug]),
        {"url": receiver.url, "events": ["blocker.opened", "phase.completed"], "label": "deploy bot"},
    )

    assert response.status_code == 302
    webhook = Webhook.objects.get()
    assert (webhook.url, webhook.events, webhook.label, webhook.created_by) == (
        receiver.url,
        ["blocker.opened", "phase.completed"],
        "deploy bot",
        owner,
    )
    first = client.get(sharing_url(team))
    assert webhook.secret in first.content.decode()
    assert "no-store" in first["Cache-Control"]
    again = client.get(sharing_url(team)).content.decode()
    assert webhook.secret not in again
    assert receiver.url in again and "blocker.opened, phase.completed" in again


def test_the_page_shows_the_latest_deliveries(client, team, owner, hook, receiver, sent):
    receiver.status = 404
    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)

    html = logged_in(client, owner).get(sharing_url(team)).content.decode()

    assert "blocker.opened" in html and "Failed" in html and "404" in html
    assert hook.plain_secret not in html


def test_a_bad_url_gives_the_form_again_with_the_error(client, team, owner, production_targets):
    client = logged_in(client, owner)

    for url, error in (
        ("http://93.184.216.34/hook", "https"),
        ("https://169.254.169.254/latest/meta-data/", "not public"),
        ("not a url", "Enter a valid URL."),
    ):
        response = client.post(reverse("tracker:webhook-create", args=[team.slug]), {"url": url})
        assert response.status_code == 400
        assert error in response.content.decode()
    assert not Webhook.objects.exists()


def test_an_admin_deletes_a_webhook(client, team, owner, hook):
    client = logged_in(client, owner)

    response = client.post(reverse("tracker:webhook-delete", args=[team.slug, hook.pk]))

    assert response.status_code == 302
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(("user", "status"), [("outsider", 404), ("teammate", 403), ("viewer", 403)])
def test_only_admins_manage_webhooks(client, team, hook, receiver, request, user, status):
    client = logged_in(client, request.getfixturevalue(user))

    create = client.post(reverse("tracker:webhook-create", args=[team.slug]), {"url": receiver.url})
    delete = client.post(reverse("tracker:webhook-delete", args=[team.slug, hook.pk]))

    assert (create.status_code, delete.status_code) == (status, status)
    assert list(Webhook.objects.all()) == [hook]


def test_a_webhook_of_another_operation_is_not_found_here(client, team, owner, receiver, local_targets):
    other = services.operation_create(workspace=team.workspace, name="Operation Red Fox", actor=None)
    theirs, _secret = webhooks.webhook_create(operation=other, url=receiver.url, actor=None)

    response = logged_in(client, owner).post(reverse("tracker:webhook-delete", args=[team.slug, theirs.pk]))

    assert response.status_code == 404
    assert Webhook.objects.filter(pk=theirs.pk).exists()


def test_the_admin_shows_webhooks_and_deliveries_without_the_secret(admin_client, team, owner, hook, receiver, sent):
    with sent():
        services.blocker_open(operation=team, title="Quota", actor=owner)
    delivery = WebhookDelivery.objects.get()

    pages = [
        admin_client.get(reverse("admin:tracker_webhook_changelist")),
        admin_client.get(reverse("admin:tracker_webhook_change", args=[hook.pk])),
        admin_client.get(reverse("admin:tracker_webhookdelivery_changelist")),
        admin_client.get(reverse("admin:tracker_webhookdelivery_change", args=[delivery.pk])),
    ]

    assert [page.status_code for page in pages] == [200] * 4
    for page in pages:
        assert hook.plain_secret not in page.content.decode()
    assert admin_client.get(reverse("admin:tracker_webhook_add")).status_code == 403
    assert admin_client.get(reverse("admin:tracker_webhookdelivery_add")).status_code == 403


def test_the_admin_checks_a_changed_url(admin_client, team, hook, production_targets):
    url = reverse("admin:tracker_webhook_change", args=[hook.pk])

    response = admin_client.post(url, {"url": "https://10.0.0.1/hook", "label": "x", "active": "on"})

    assert response.status_code == 200  # the form again, with the error
    assert "not public" in response.content.decode()
    hook.refresh_from_db()
    assert hook.url.startswith("http://127.0.0.1")


def test_the_admin_changes_a_webhook_through_the_service(admin_client, team, hook):
    url = reverse("admin:tracker_webhook_change", args=[hook.pk])

    response = admin_client.post(url, {"url": hook.url, "events": ["task.done"], "label": "bot"})

    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.events, hook.label, hook.active) == (["task.done"], "bot", False)
    entry = ActivityEntry.objects.first()
    assert (entry.subject_type, entry.actor_name) == ("webhook", "admin")
    assert entry.changes["events"] == [[], ["task.done"]]
    assert hook.plain_secret not in str(entry.changes)
