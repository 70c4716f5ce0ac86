"""Celery tasks of webhooks. Thin: they take ids, call `delivery` and `services`, and queue sends
after the commit. tracker.tasks imports them so Celery finds them; their names stay
`tracker.tasks.*`, which the beat schedule and messages already queued use."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from celery import shared_task
from django.db import transaction

from ..models import WebhookDelivery
from . import selectors, services
from .delivery import RetryLater, delivery_attempt


@shared_task(name="tracker.tasks.deliver_webhook", bind=True, acks_late=True, max_retries=None, ignore_result=True)
def deliver_webhook(self, delivery_id: str) -> None:
    """Send one webhook delivery; on a retryable failure, again after the delivery's backoff.

    The attempt count lives in the delivery row, which also decides when to give up
    (WEBHOOK_MAX_ATTEMPTS), so Celery's own retry limit is off.
    """
    try:
        delivery_attempt(delivery_id=delivery_id)
    except RetryLater as later:
        raise self.retry(countdown=later.countdown) from None


def enqueue_after_commit(deliveries: Iterable[WebhookDelivery]) -> None:
    """Queue a send of each delivery once the transaction that wrote it commits (never if it rolls back)."""
    for pending in deliveries:
        transaction.on_commit(partial(deliver_webhook.delay, str(pending.delivery_id)), robust=True)


@shared_task(name="tracker.tasks.redeliver_stalled_webhooks", ignore_result=True)
def redeliver_stalled_webhooks(limit: int = 500) -> int:
    """Queue again the pending deliveries whose attempt never ran (for the beat schedule)."""
    stalled = list(selectors.deliveries_stalled()[:limit])
    enqueue_after_commit(pending for pending in stalled if services.delivery_reschedule(delivery=pending))
    return len(stalled)


def delivery_requeue(*, delivery: WebhookDelivery) -> None:
    """Queue another attempt at a pending delivery now."""
    if services.delivery_reschedule(delivery=delivery):
        enqueue_after_commit([delivery])
