"""One attempt at a delivery: through Apprise for a channel, through the operator's mail server for a person.

Like tracker.webhooks: the attempt is claimed by a conditional update (two workers holding the
same message send it once), a failure is retried with backoff up to NOTIFY_MAX_ATTEMPTS, and the
log keeps the outcome. A channel whose deliveries fail NOTIFY_PAUSE_AFTER_FAILURES times in a row
is paused, and its page says so to its admins. Nothing logged names a URL or quotes an error.

A person's email (a follower's own) goes through Django's mail settings (EMAIL_HOST…): the
operator's own server, which is their choice and not a user's, so it is not judged by the egress
policy a typed channel URL is.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.utils import timezone

from . import crypto, targets
from .models import Channel, Delivery

logger = logging.getLogger(__name__)


class RetryLater(Exception):
    def __init__(self, countdown: float):
        self.countdown = countdown
        super().__init__(f"retry in {countdown:g} s")


def delivery_attempt(*, delivery_id: str) -> Delivery | None:
    """Make one attempt and record it; raise RetryLater when another is due. Safe to run twice."""
    delivery = Delivery.objects.select_related("channel", "recipient").filter(delivery_id=delivery_id).first()
    if delivery is None or delivery.status != Delivery.Status.PENDING:
        return delivery
    claimed = Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.PENDING, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1, last_attempt_at=timezone.now())
    if not claimed:
        return delivery
    delivery.attempts += 1
    if delivery.channel is not None:
        outcome = _to_channel(delivery)
    else:
        outcome = _to_person(delivery)
    if outcome.ok:
        return _finish(delivery, Delivery.Status.SUCCEEDED)
    if outcome.refused or delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        return _finish(delivery, Delivery.Status.FAILED, error=outcome.error)
    countdown = settings.NOTIFY_RETRY_BASE_SECONDS * 4 ** (delivery.attempts - 1)
    delivery.error = outcome.error[:2000]
    delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=countdown)
    delivery.save(update_fields=["error", "next_attempt_at"])
    logger.info("notification %s attempt %s failed; again in %g s", delivery.delivery_id, delivery.attempts, countdown)
    raise RetryLater(countdown)


def _to_channel(delivery: Delivery) -> targets.Outcome:
    channel = delivery.channel
    if channel.is_paused and delivery.event != "test":
        return targets.Outcome(False, "The channel was paused before this was sent.", refused=True)
    try:
        url = crypto.decrypt(channel.url_ciphertext)
    except crypto.Undecryptable as error:
        return targets.Outcome(False, str(error), refused=True)
    return targets.send(url, title=delivery.title, body=delivery.body)


def _to_person(delivery: Delivery) -> targets.Outcome:
    user = delivery.recipient
    if user is None or not user.email:
        return targets.Outcome(False, "The person has no email address.", refused=True)
    message = EmailMultiAlternatives(
        subject=delivery.title, body=delivery.body, from_email=settings.NOTIFY_FROM_EMAIL, to=[user.email]
    )
    if delivery.html:
        message.attach_alternative(delivery.html, "text/html")
    try:
        message.send()
    except Exception as error:  # noqa: BLE001 - the mail server's fault is a failed attempt
        return targets.Outcome(False, f"The mail server did not take it ({type(error).__name__}).")
    return targets.Outcome(True)


def _finish(delivery: Delivery, status: str, *, error: str = "") -> Delivery:
    delivery.status, delivery.error, delivery.next_attempt_at = status, error[:2000], None
    delivery.save(update_fields=["status", "error", "next_attempt_at"])
    logger.log(
        logging.INFO if status == Delivery.Status.SUCCEEDED else logging.WARNING,
        "notification %s (%s, channel %s) %s after %s attempt(s)",
        delivery.delivery_id,
        delivery.event,
        delivery.channel_id,
        status,
        delivery.attempts,
    )
    if delivery.channel_id is not None and delivery.event != "test":
        _count(delivery.channel, succeeded=status == Delivery.Status.SUCCEEDED, error=error)
    return delivery


def _count(channel: Channel, *, succeeded: bool, error: str) -> None:
    """A success resets the channel's run of failures; the Nth failure in a row pauses it."""
    if succeeded:
        Channel.objects.filter(pk=channel.pk).update(consecutive_failures=0)
        return
    Channel.objects.filter(pk=channel.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    limit = settings.NOTIFY_PAUSE_AFTER_FAILURES
    paused = Channel.objects.filter(pk=channel.pk, paused_at__isnull=True, consecutive_failures__gte=limit).update(
        paused_at=timezone.now(),
        paused_reason=f"Paused after {limit} failed deliveries in a row. The last: {error[:500]}",
    )
    if paused:
        logger.warning("notification channel %s paused after %s failures in a row", channel.pk, limit)


def deliveries_stalled(*, older_than: dt.timedelta = dt.timedelta(minutes=15)):
    return Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__lt=timezone.now() - older_than
    ).order_by("next_attempt_at")
