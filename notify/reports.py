"""The status report: what a team lead writes every week, written from what the tracker knows.

What was done since the last report, what is blocked and for how long, which checks fail and
since when, each phase's progress, and the forecast with its range, in the tracker document's own
words (its emoji, name, item titles and motto). Markdown for chat channels, HTML and plain text for
email. It says nothing a public link would hide: checks appear by the item's title and verdict
only, never what they observed (ENI ids, addresses, account ids stay on the dashboard).

`report_build` only reads; `report_send` keeps the report (the reports page lists every one) and
queues it to every channel that takes reports and every follower who has not muted the operation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from tracker.models import ActivityEntry, Blocker, Finding, LiveVerdict, Operation, Task
from tracker.permissions import Role, has_role
from tracker.selectors import operation_forecast, phases_with_progress

from . import messages
from .models import Channel, Delivery, Follow, ReportSchedule, StatusReport

DEFAULT_PERIOD = dt.timedelta(days=7)


@dataclass
class Report:
    operation: Operation
    now: dt.datetime
    since: dt.datetime
    done: list[Task] = field(default_factory=list)
    resolved: list[Blocker] = field(default_factory=list)
    blocked: list[tuple[Blocker, str]] = field(default_factory=list)
    failing: list[tuple[str, str]] = field(default_factory=list)
    phases: list = field(default_factory=list)
    forecast: str = ""
    url: str = ""

    @property
    def title(self) -> str:
        emoji = f"{self.operation.emoji} " if self.operation.emoji else ""
        return f"{emoji}{self.operation.name}: status report, {self.now:%b} {self.now.day}, {self.now.year}"

    def render(self, kind: str) -> str:
        return render_to_string(f"notify/report.{kind}", {"report": self}).strip() + "\n"


def _ago(delta: dt.timedelta) -> str:
    days = delta.days
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours else "under an hour"


def _failing(operation: Operation, now: dt.datetime) -> list[tuple[str, str]]:
    """(item title, for how long) of the items whose live check fails: titles and verdicts only."""
    items = [
        *Task.objects.filter(operation=operation, live_verdict=LiveVerdict.FAIL).only("id", "title"),
        *Finding.objects.filter(operation=operation, live_verdict=LiveVerdict.FAIL).only("id", "subject"),
    ]
    if not items:
        return []
    flips = ActivityEntry.objects.filter(
        operation=operation, subject_id__in=[item.pk for item in items], changes__has_key="live_verdict"
    ).values_list("subject_type", "subject_id", "changes", "at")
    # The activity log names a subject as the feed does; map those names back to the model, from
    # the same labels the tracker derives them from (so a renamed label cannot break this).
    model_of = {str(Finding._meta.verbose_name): Finding, **{str(label).lower(): Task for label in Task.Kind.labels}}
    since: dict[tuple[type, int], dt.datetime] = {}
    for kind, pk, changes, at in flips.order_by("at"):
        pair = changes.get("live_verdict") or [None, None]
        if kind in model_of and len(pair) == 2 and pair[1] == LiveVerdict.FAIL:
            since[(model_of[kind], pk)] = at
    failing = []
    for item in items:
        began = since.get((type(item), item.pk))
        title = item.subject if isinstance(item, Finding) else item.title
        failing.append((title, f"for {_ago(now - began)}" if began else "since it was first checked"))
    return failing


def report_build(*, operation: Operation, now: dt.datetime | None = None, since: dt.datetime | None = None) -> Report:
    now = now or timezone.now()
    if since is None:
        last = StatusReport.objects.filter(operation=operation).order_by("-created_at").first()
        since = last.created_at if last else now - DEFAULT_PERIOD
    report = Report(operation=operation, now=now, since=since, url=messages.operation_url(operation.slug))
    report.done = list(
        Task.objects.filter(operation=operation, done=True, done_at__gt=since)
        .select_related("phase")
        .order_by("done_at")
    )
    report.resolved = list(
        Blocker.objects.filter(operation=operation, state=Blocker.State.RESOLVED, resolved_at__gt=since)
    )
    report.blocked = [
        (blocker, _ago(now - blocker.opened_at) if blocker.opened_at else "")
        for blocker in Blocker.objects.filter(operation=operation, state=Blocker.State.OPEN).order_by("opened_at", "id")
    ]
    report.failing = _failing(operation, now)
    report.phases = list(phases_with_progress().filter(operation=operation))
    open_primary = sum(1 for blocker, _ in report.blocked if blocker.severity == Blocker.Severity.PRIMARY)
    _, report.forecast = operation_forecast(operation=operation, now=now, open_primary_blockers=open_primary)
    return report


@transaction.atomic
def report_send(*, operation: Operation, trigger: str, actor=None, now: dt.datetime | None = None) -> StatusReport:
    """Keep the report and queue it to the operation's report channels and its followers."""
    report = report_build(operation=operation, now=now)
    kept = StatusReport.objects.create(
        operation=operation,
        created_at=report.now,
        since=report.since,
        trigger=trigger,
        title=report.title[:300],
        markdown=report.render("md"),
        text=report.render("txt"),
        html=report.render("html"),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    channels = Channel.objects.filter(
        Q(operation=operation) | Q(workspace_id=operation.workspace_id), sends_reports=True, paused_at__isnull=True
    )
    rows = [
        Delivery(channel=channel, operation=operation, event="report", title=kept.title, body=kept.markdown)
        for channel in channels
    ]
    for follow in Follow.objects.filter(operation=operation).exclude(mode=Follow.Mode.MUTED).select_related("user"):
        if follow.user.email and has_role(follow.user, operation, Role.VIEWER):
            rows.append(
                Delivery(
                    recipient=follow.user,
                    operation=operation,
                    event="report",
                    title=kept.title,
                    body=kept.text,
                    html=kept.html,
                )
            )
    for delivery in Delivery.objects.bulk_create(rows):
        transaction.on_commit(partial(_enqueue, str(delivery.delivery_id)), robust=True)
    return kept


def _enqueue(delivery_id: str) -> None:
    from .tasks import deliver

    deliver.delay(delivery_id)


def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def is_due(schedule: ReportSchedule, now: dt.datetime) -> dt.date | None:
    """The local date the report is due for, if its weekday and time have come and it was not sent."""
    tz = zone(schedule.timezone)
    if tz is None or not schedule.enabled:
        return None
    local = now.astimezone(tz)
    if local.weekday() != schedule.weekday or (local.hour, local.minute) < (schedule.hour, schedule.minute):
        return None
    return None if schedule.last_sent_on == local.date() else local.date()


def reports_due_send(*, now: dt.datetime | None = None) -> list[StatusReport]:
    """Send each report whose time has come, claimed by a conditional update (twice is once)."""
    now = now or timezone.now()
    sent = []
    for schedule in ReportSchedule.objects.filter(enabled=True).select_related("operation"):
        day = is_due(schedule, now)
        if day is None:
            continue
        claimed = (
            ReportSchedule.objects.filter(pk=schedule.pk)
            .filter(Q(last_sent_on__isnull=True) | ~Q(last_sent_on=day))
            .update(last_sent_on=day)
        )
        if claimed:
            sent.append(report_send(operation=schedule.operation, trigger=StatusReport.Trigger.SCHEDULE, now=now))
    return sent


def schedule_set(
    *, operation: Operation, enabled: bool, weekday: int, hour: int, minute: int, timezone_name: str
) -> ReportSchedule:
    """Set when the operation's report goes out (weekday 0 is Monday, in `timezone_name`)."""
    errors = {}
    if zone(timezone_name) is None:
        errors["timezone"] = "Not a time zone name (e.g. Europe/Paris, UTC)."
    for name, value, top in (("weekday", weekday, 6), ("hour", hour, 23), ("minute", minute, 59)):
        if not isinstance(value, int) or not 0 <= value <= top:
            errors[name] = f"From 0 to {top}."
    if errors:
        raise ValidationError(errors)
    schedule, _ = ReportSchedule.objects.update_or_create(
        operation=operation,
        defaults={"enabled": enabled, "weekday": weekday, "hour": hour, "minute": minute, "timezone": timezone_name},
    )
    return schedule
