"""Celery tasks of the notify app: thin, taking ids, calling the services."""

from __future__ import annotations

from celery import shared_task

from . import people, reports, sending, services


@shared_task(bind=True, acks_late=True, max_retries=None, ignore_result=True)
def deliver(self, delivery_id: str) -> None:
    """One attempt at a delivery; the row counts attempts and decides when to give up."""
    try:
        sending.delivery_attempt(delivery_id=delivery_id)
    except sending.RetryLater as later:
        raise self.retry(countdown=later.countdown) from None


@shared_task(ignore_result=True)
def tell_held_flips() -> int:
    """Every minute: the check flips whose hold is over, and flapping checks that settled."""
    return len(services.check_watches_due())


@shared_task(ignore_result=True)
def redeliver_stalled(limit: int = 500) -> int:
    stalled = list(sending.deliveries_stalled()[:limit])
    for delivery in stalled:
        deliver.delay(str(delivery.delivery_id))
    return len(stalled)


@shared_task(ignore_result=True)
def send_digests() -> int:
    return len(people.digests_send())


@shared_task(ignore_result=True)
def send_scheduled_reports() -> int:
    """Every few minutes: the operations whose report time has come in their own time zone."""
    return len(reports.reports_due_send())
