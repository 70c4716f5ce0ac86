"""The status report: its contents, what it never says, the command, the page, the schedule."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from notify import reports, services
from notify.models import Delivery, ReportSchedule, StatusReport
from tests.conftest import logged_in
from tracker import services as tracker_services
from tracker.models import Finding, LiveVerdict

pytestmark = pytest.mark.django_db


def test_it_says_what_was_done_blocked_failing_the_phases_and_the_forecast(team, owner):
    task = team.tasks.filter(done=False, kind="task").first()
    tracker_services.task_set_done(task=task, done=True, actor=owner)
    tracker_services.blocker_open(operation=team, title="Quota increase pending", actor=owner)
    finding = Finding.objects.filter(operation=team).first()
    tracker_services.item_record_check(
        item=finding, verdict=LiveVerdict.FAIL, observed="`eni-0abc123 10.0.3.7 account 123456789012`"
    )

    report = reports.report_build(operation=team)
    text = report.render("md")

    assert f"✅ {task.title}" in text
    assert "🚧 Quota increase pending — blocked for under an hour" in text
    assert f"❌ {finding.subject} — failing for under an hour" in text
    assert "Phase 1:" in text and "%" in text
    assert "## Forecast" in text and ("should be done by" in text or "Not enough history" in text)
    for hidden in ("eni-0abc123", "10.0.3.7", "123456789012"):  # what a public link hides
        for kind in ("md", "txt", "html"):
            assert hidden not in report.render(kind)
    assert "<h2>Blocked</h2>" in report.render("html") and "BLOCKED" in report.render("txt")


def test_done_since_the_last_report_only(team, owner):
    task = team.tasks.filter(done=False, kind="task").first()
    tracker_services.task_set_done(task=task, done=True, actor=owner)
    reports.report_send(operation=team, trigger=StatusReport.Trigger.DEMAND)
    assert f"✅ {task.title}" not in reports.report_build(operation=team).render("md")


def test_the_command_prints_it_and_dry_run_keeps_nothing(team):
    out = StringIO()
    call_command("send_status_report", team.slug, "--dry-run", stdout=out)
    assert "status report" in out.getvalue() and "## Phases" in out.getvalue()
    assert not StatusReport.objects.exists()

    call_command("send_status_report", team.slug, stdout=StringIO(), stderr=StringIO())
    assert StatusReport.objects.count() == 1


def test_the_command_names_an_unknown_slug(db):
    with pytest.raises(CommandError, match="No operation has the slug 'nope'"):
        call_command("send_status_report", "nope", "--dry-run")


def test_sending_reaches_report_channels_and_followers(team, owner, viewer, http_receiver, local_targets, sent):
    services.channel_create(operation=team, url=f"json://127.0.0.1:{http_receiver.port}/r", actor=owner)
    services.channel_create(
        operation=team, url=f"json://127.0.0.1:{http_receiver.port}/no", actor=owner, sends_reports=False
    )
    viewer.email = "viewer@example.com"
    viewer.save()
    services.follow_set(user=viewer, operation=team, mode="digest")

    with sent():
        report = reports.report_send(operation=team, trigger=StatusReport.Trigger.DEMAND)

    assert [post.path for post in http_receiver.posts] == ["/r"]
    assert "## Blocked" in http_receiver.posts[0].json["message"] or "Blocked" in http_receiver.posts[0].json["message"]
    [email] = mail.outbox
    assert email.to == ["viewer@example.com"] and email.subject == report.title
    assert "BLOCKED" in email.body and "<h2>Blocked</h2>" in email.alternatives[0][0]


def test_a_muted_follower_gets_no_report(team, viewer, sent):
    viewer.email = "viewer@example.com"
    viewer.save()
    services.follow_set(user=viewer, operation=team, mode="muted")
    with sent():
        reports.report_send(operation=team, trigger=StatusReport.Trigger.DEMAND)
    assert mail.outbox == [] and not Delivery.objects.exists()


def test_the_schedule_is_in_the_operations_time_zone_and_sends_once(team):
    reports.schedule_set(operation=team, enabled=True, weekday=0, hour=9, minute=0, timezone_name="Asia/Tokyo")
    sunday_night_utc = dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC)  # Monday 08:30 in Tokyo
    assert reports.reports_due_send(now=sunday_night_utc) == []
    monday_nine_tokyo = dt.datetime(2026, 12, 7, 0, 5, tzinfo=dt.UTC)  # Monday 09:05 in Tokyo
    [sent] = reports.reports_due_send(now=monday_nine_tokyo)
    assert sent.trigger == "schedule"
    assert reports.reports_due_send(now=monday_nine_tokyo + dt.timedelta(minutes=5)) == []
    assert ReportSchedule.objects.get().last_sent_on == dt.date(2026, 12, 7)


def test_a_bad_schedule_says_which_field(team):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        reports.schedule_set(operation=team, enabled=True, weekday=9, hour=9, minute=0, timezone_name="Mars/Olympus")
    assert set(refused.value.message_dict) == {"weekday", "timezone"}
    assert not ReportSchedule.objects.exists()


def test_the_reports_page_keeps_every_report_for_members_only(client, team, owner, viewer, outsider):
    report = reports.report_send(operation=team, trigger=StatusReport.Trigger.DEMAND, now=timezone.now())
    listing = reverse("notify:reports", args=[team.slug])
    one = reverse("notify:report", args=[team.slug, report.pk])
    viewing = logged_in(client, viewer)
    assert report.title in viewing.get(listing).content.decode()
    assert "<h2>Forecast</h2>" in viewing.get(one).content.decode()
    assert viewing.post(reverse("notify:report-send", args=[team.slug])).status_code == 403
    assert viewing.post(listing, {"weekday": 0, "hour": 9, "minute": 0, "timezone": "UTC"}).status_code == 403
    outside = logged_in(client, outsider)
    assert outside.get(listing).status_code == 404 and outside.get(one).status_code == 404


def test_an_admin_sends_one_now_and_sets_the_schedule(client, team, owner):
    admin = logged_in(client, owner)
    assert admin.post(reverse("notify:report-send", args=[team.slug])).status_code == 302
    assert StatusReport.objects.get().trigger == "demand"
    listing = reverse("notify:reports", args=[team.slug])
    form = {"enabled": "on", "weekday": 0, "hour": 9, "minute": 0, "timezone": "Europe/Paris"}
    assert admin.post(listing, form).status_code == 302
    assert ReportSchedule.objects.get().timezone == "Europe/Paris"
    bad = admin.post(listing, {**form, "timezone": "Nowhere/Else"})
    assert bad.status_code == 400 and "Not a time zone name" in bad.content.decode()
