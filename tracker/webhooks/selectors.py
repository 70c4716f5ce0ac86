"""Reads of webhooks and their deliveries. None of them loads a webhook's secret."""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from ..models import Operation, Webhook, WebhookDelivery


def webhooks_of(*, operation: Operation) -> QuerySet[Webhook]:
    """An operation's webhooks, each with `last_status` and `last_delivery_at`, in one query.

    The secret is deferred: nothing that lists webhooks loads it.
    """
    latest = WebhookDelivery.objects.filter(webhook=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Webhook.objects.filter(operation=operation)
        .defer("secret")
        .annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_delivery_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("created_at", "id")
    )


def deliveries_of(*, operation: Operation) -> QuerySet[WebhookDelivery]:
    """The delivery log of an operation, latest first, with each delivery's webhook (no secret)."""
    return (
        WebhookDelivery.objects.filter(webhook__operation=operation)
        .select_related("webhook")
        .defer("webhook__secret")
        .order_by("-created_at", "-id")
    )


def deliveries_stalled(*, older_than: dt.timedelta = dt.timedelta(minutes=15)) -> QuerySet[WebhookDelivery]:
    """Pending deliveries whose attempt should have run long ago: its message was never queued
    (the broker was down at commit) or was lost."""
    return WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=timezone.now() - older_than
    ).order_by("next_attempt_at")
