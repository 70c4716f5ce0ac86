"""Outgoing webhooks of an operation and the log of their deliveries."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models

from .items import Operation, TimeStamped


class Webhook(TimeStamped):
    """An outgoing webhook: a URL told about some events of one operation (`tracker.webhooks`).

    The secret signs each delivery. It is shown once, when the webhook is made, and never again:
    not in the admin, the pages, the API or the activity log.
    """

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField("URL", max_length=2000)
    secret = models.CharField(max_length=100, editable=False)
    events = models.JSONField(default=list, blank=True, help_text="Event names; empty for every event.")
    active = models.BooleanField(default=True)
    label = models.CharField(max_length=200, blank=True, help_text="What it is for, e.g. 'deploy bot'.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        # The host only: a webhook URL's path often holds a token of the receiving service.
        host = urlsplit(self.url).hostname or "?"
        return f"Webhook to {host}" + (f" ({self.label})" if self.label else "")

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one webhook: the delivery log admins read."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="The first 500 characters of the reply.")
    error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # the delivery log: a webhook's latest deliveries first, and each webhook's last status
            models.Index(fields=["webhook", "-created_at"], name="webhook_delivery_latest"),
            # the sweep that re-sends deliveries whose queued attempt never ran
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook} ({self.get_status_display()})"
