"""Celery tasks of the tracker. Thin: they take ids and call `tracker.webhooks`, which does the work."""

from __future__ import annotations

from celery import shared_task

from . import webhooks


@shared_task(bind=True, acks_late=True, max_retries=None, ignore_result=True)
def deliver_webhook(self, delivery_id: str) -> None:
    """Send one webhook delivery; on a retryable failure, again after the delivery's backoff.

    The attempt count lives in the delivery row, which also decides when to give up
    (WEBHOOK_MAX_ATTEMPTS), so Celery's own retry limit is off.
    """
    try:
        webhooks.delivery_attempt(delivery_id=delivery_id)
    except webhooks.RetryLater as later:
        raise self.retry(countdown=later.countdown) from None


@shared_task(ignore_result=True)
def redeliver_stalled_webhooks(limit: int = 500) -> int:
    """Queue again the pending deliveries whose attempt never ran (for the beat schedule)."""
    stalled = list(webhooks.deliveries_stalled()[:limit])
    for delivery in stalled:
        webhooks.delivery_requeue(delivery=delivery)
    return len(stalled)
