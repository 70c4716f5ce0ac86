"""Notification channels, what they were sent, people who follow operations, and status reports."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from tracker.models import Operation, Workspace


class Channel(models.Model):
    """Where a team is told: one Apprise URL, for one operation or every operation of a workspace.

    The URL is kept encrypted (`notify.crypto`) and shown only as `shown_url` (`targets.redacted`):
    not in the admin, the pages, exports or logs.
    """

    workspace = models.ForeignKey(Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.CASCADE, related_name="notification_channels"
    )
    label = models.CharField(max_length=200, blank=True, help_text="What it is, e.g. '#infra on Slack'.")
    url_ciphertext = models.TextField(editable=False)
    shown_url = models.CharField("URL", max_length=300, editable=False)
    events = models.JSONField(default=list, blank=True, help_text="Event codes; empty for every event.")
    sends_reports = models.BooleanField(default=True, help_text="Also gets the status reports.")
    flap_runs = models.PositiveSmallIntegerField(default=2, help_text="A flipped check must hold for this many runs…")
    flap_minutes = models.PositiveSmallIntegerField(default=0, help_text="…and this many minutes before it is told.")
    slip_days = models.PositiveSmallIntegerField(default=3, help_text="Told when the forecast slips by more days.")
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    paused_reason = models.TextField(blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(workspace__isnull=True, operation__isnull=False)
                | Q(workspace__isnull=False, operation__isnull=True),
                name="notify_channel_of_one_operation_or_workspace",
            )
        ]

    def __str__(self) -> str:
        return self.label or self.shown_url

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None


class Delivery(models.Model):
    """One message to one channel (or one person's email): the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        DIGEST = "digest", "Waiting for the digest"
        DIGESTED = "digested", "Sent in a digest"

    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    operation = models.ForeignKey(Operation, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    delivery_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=40)
    title = models.CharField(max_length=300)
    body = models.TextField()
    html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # a channel's delivery log, latest first
            models.Index(fields=["channel", "-created_at"], name="notify_delivery_latest"),
            # the sweep of stalled deliveries and the daily digest's pick
            models.Index(fields=["status", "next_attempt_at"], name="notify_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel or self.recipient} ({self.get_status_display()})"


class CheckWatch(models.Model):
    """What a channel was told about one check, and a flip waiting to hold (`notify.flaps`)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="check_watches")
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="+")
    check_id = models.BigIntegerField()
    check_name = models.CharField(max_length=200)
    state = models.JSONField(default=dict)
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "operation", "check_id"], name="notify_one_watch_per_check")
        ]
        indexes = [
            # the sweep: flips whose hold is over
            models.Index(fields=["due_at"], name="notify_checkwatch_due"),
        ]

    def __str__(self) -> str:
        return f"{self.check_name} → {self.channel}"


class ForecastWatch(models.Model):
    """The completion estimate a channel was last told (or first saw), to measure a slip against."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="+")
    estimate = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "operation"], name="notify_one_forecast_watch"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} forecast → {self.channel}"


class Follow(models.Model):
    """A person's own notifications of one operation, by email."""

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", "Email me each event"
        DIGEST = "digest", "Email me a daily digest"
        MUTED = "muted", "Muted"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "operation"], name="notify_one_follow")]
        indexes = [
            # who hears an operation's event
            models.Index(fields=["operation", "mode"], name="notify_follow_by_operation"),
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.operation} ({self.mode})"


class ReportSchedule(models.Model):
    """When an operation's status report goes out, in its own time zone."""

    operation = models.OneToOneField(Operation, on_delete=models.CASCADE, related_name="report_schedule")
    enabled = models.BooleanField(default=True)
    weekday = models.PositiveSmallIntegerField(default=0, help_text="0 is Monday.")
    hour = models.PositiveSmallIntegerField(default=9)
    minute = models.PositiveSmallIntegerField(default=0)
    timezone = models.CharField(max_length=64, default="UTC")
    last_sent_on = models.DateField(null=True, blank=True, editable=False, help_text="Local date of the last one.")

    def __str__(self) -> str:
        return f"{self.operation}: weekday {self.weekday} at {self.hour:02}:{self.minute:02} {self.timezone}"


class StatusReport(models.Model):
    """A status report as it was sent: kept, so the reports page shows every one."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "On schedule"
        DEMAND = "demand", "On demand"

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="status_reports")
    created_at = models.DateTimeField()
    since = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    title = models.CharField(max_length=300)
    markdown = models.TextField()
    text = models.TextField()
    html = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the reports page and "since the last report"
            models.Index(fields=["operation", "-created_at"], name="notify_report_latest"),
        ]

    def __str__(self) -> str:
        return self.title
