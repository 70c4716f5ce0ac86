"""Outgoing webhooks: which changes are events, who is told, how a delivery is signed and sent.

Which changes are events is tracker.events' business: this module hears `event_happened` (wired
in TrackerConfig.ready), so nothing in the services needs to know about webhooks. A change that is
no event costs no query at all; one that is writes a `WebhookDelivery` per subscribed webhook in
the same transaction and queues the send for after the commit, so a rolled-back change is never
announced.

Each delivery is a POST of the JSON payload, signed with the webhook's secret:
`X-SnailTrail-Signature: sha256=<hex HMAC-SHA256 of the exact body>`. Receivers verify it with a
constant-time comparison and may drop repeats by `X-SnailTrail-Delivery` (delivery is at least
once: a worker lost mid-send means the delivery is sent again).

Where a webhook may go is core.egress's rule: public addresses only. Targets are judged when the
webhook is saved and again at each send (DNS may have changed since), where the host is resolved
once and the connection goes to the address judged, so a name that answers differently a moment
later (DNS rebinding) still cannot reach inside our network. Redirects are not followed.
`WEBHOOK_ALLOW_HTTP` allows http, and `WEBHOOK_ALLOW_PRIVATE_TARGETS` private addresses, for a
receiver inside the operator's network; loopback, link-local (the cloud metadata service) and this
instance's own services stay refused even then (docs/egress.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Iterable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from core import egress

from . import services
from .events import Event, Occurrence
from .models import Operation, Webhook, WebhookDelivery
from .services import Actor

logger = logging.getLogger(__name__)

# --- events ---------------------------------------------------------------------------------------

# Every event a webhook may subscribe to; tracker.events names them and says when they happen.
EVENTS = tuple(Event)
EVENT_CHOICES = [(event.value, event.value) for event in Event]


def event_happened(*, occurrence: Occurrence, **_: Any) -> list[WebhookDelivery]:
    """Receiver of `signals.event_happened`: queue a delivery per subscribed webhook."""
    body = {
        "subject": occurrence.subject,
        "changes": occurrence.changes,
        "actor": occurrence.actor,
        **occurrence.details,
    }
    return _queue(occurrence.operation, [(occurrence.event.value, body)], at=occurrence.at)


def _queue(operation: Operation, events: list[tuple[str, dict[str, Any]]], *, at: dt.datetime) -> list[WebhookDelivery]:
    hooks = list(Webhook.objects.filter(operation=operation, active=True).only("id", "events"))
    deliveries = []
    for event, body in events:
        for hook in hooks:
            if not hook.wants(event):
                continue
            delivery_id = uuid.uuid4()
            payload = {
                **body,
                "event": event,
                "delivery": str(delivery_id),
                "at": at.isoformat(),
                "operation": {"slug": operation.slug, "name": operation.name},
            }
            deliveries.append(
                WebhookDelivery(webhook=hook, delivery_id=delivery_id, event=event, payload=payload, next_attempt_at=at)
            )
    if not deliveries:
        return []
    WebhookDelivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        transaction.on_commit(partial(_enqueue, str(delivery.delivery_id)), robust=True)
    return deliveries


def _enqueue(delivery_id: str) -> None:
    from .tasks import deliver_webhook  # the task module imports this one

    deliver_webhook.delay(delivery_id)


# --- signing and sending --------------------------------------------------------------------------

USER_AGENT = "SnailTrail-Webhooks/1"
EXCERPT_CHARS = 500
# Statuses worth asking again: the receiver is down, overloaded or slow, not refusing us.
_RETRY_STATUSES = {408, 429}


def sign(secret: str, body: bytes) -> str:
    """The X-SnailTrail-Signature of a body: `sha256=` and the hex HMAC-SHA256 with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: sorted keys, no spaces, so the same payload gives the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


class RetryLater(Exception):
    """The attempt failed in a way worth repeating; the task retries after `countdown` seconds."""

    def __init__(self, countdown: float):
        self.countdown = countdown
        super().__init__(f"retry in {countdown:g} s")


def validate_target(url: str) -> None:
    """Refuse a URL webhooks may not be sent to; raises ValidationError saying why.

    https only (unless WEBHOOK_ALLOW_HTTP), no user name or password in it, and every address
    the host resolves to public by core.egress's rule (unless WEBHOOK_ALLOW_PRIVATE_TARGETS, which
    opens private addresses but never loopback, link-local (the cloud metadata service), this
    instance's own services, or an IPv6 form wrapping one of them). An IP literal needs no DNS.
    """
    _check_url(url)
    try:
        egress.check_target(url, egress.Policy.for_webhooks(), timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    except egress.Refused as refused:
        raise ValidationError(_refusal(refused), code="private") from None
    except egress.Unresolvable as error:
        raise ValidationError(f"The host name {error.host} does not resolve.", code="unresolvable") from None
    except egress.EgressError as error:
        raise ValidationError(f"That URL cannot be checked now ({error}).", code="invalid") from None


def _check_url(url: str) -> None:
    """The rules of a webhook URL that need no DNS."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as error:
        raise ValidationError(f"That is not a valid URL ({error}).", code="invalid") from None
    if scheme not in ("https", "http"):
        raise ValidationError("Webhook URLs must start with https://.", code="scheme")
    if scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise ValidationError("Webhook URLs must use https, not http.", code="scheme")
    problem = egress.url_problem(url)
    if "user name or password" in problem:
        raise ValidationError("Webhook URLs must not contain a user name or password.", code="userinfo")
    if problem:
        raise ValidationError(f"That is not a valid URL: it {problem}", code="invalid")


def _refusal(refused: egress.Refused) -> str:
    # The address a name resolved to is not repeated: it would tell an operation admin our internal DNS.
    where = f"{refused.host} is" if refused.is_literal else f"{refused.host} resolves to an address that is"
    if refused.never and settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:  # private ones are allowed: say what is not
        return (
            f"{where} not public: webhooks are never sent to loopback or link-local addresses (the cloud "
            "metadata service), nor to this instance's own services."
        )
    return (
        f"{where} not public: webhooks are never sent to loopback, private, link-local or reserved addresses, "
        "nor to this instance's own services."
    )


def _backoff(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` of them: base, x4, x16..."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * 4 ** (attempts - 1)


def delivery_attempt(*, delivery_id: str) -> WebhookDelivery | None:
    """Make one attempt at a delivery and record it; raise RetryLater when another is due.

    Safe to run twice: a delivery that is no longer pending is left alone, and the attempt is
    claimed by a conditional update, so two workers holding the same message send it once.
    """
    delivery = WebhookDelivery.objects.select_related("webhook").filter(delivery_id=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return delivery  # its webhook was deleted, or it is done
    webhook = delivery.webhook
    now = timezone.now()
    if not webhook.active:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error="The webhook was paused before this was sent.")
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1, last_attempt_at=now)
    if not claimed:
        return delivery  # another worker has this attempt
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status, delivery.response_excerpt = None, ""

    try:
        _check_url(webhook.url)  # the settings may have changed since it was saved
    except ValidationError as error:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error="Target refused: " + " ".join(error.messages))

    body = encode(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-SnailTrail-Event": delivery.event,
        "X-SnailTrail-Delivery": str(delivery.delivery_id),
        "X-SnailTrail-Signature": sign(webhook.secret, body),
    }
    # The host is resolved here once, every address judged again (DNS may have changed since the
    # webhook was saved), and the connection goes to the address judged: no second lookup to rebind.
    try:
        answer = egress.fetch(
            "POST",
            webhook.url,
            policy=egress.Policy.for_webhooks(),
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            max_bytes=4 * EXCERPT_CHARS,
            headers=headers,
            body=body,
        )
    except egress.Refused as refused:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error=f"Target refused: {_refusal(refused)}")
    except (egress.Unresolvable, egress.InvalidURL) as error:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error=f"Target refused: {error}.")
    except (egress.ConnectFailed, egress.TimedOut) as error:
        return _retry_or_fail(delivery, error=f"{error.code}: {error}")
    except egress.EgressError as error:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error=f"{error.code}: {error}")
    delivery.response_status = answer.status
    delivery.response_excerpt = answer.text[:EXCERPT_CHARS]

    status = delivery.response_status
    if 200 <= status < 300:
        return _finish(delivery, WebhookDelivery.Status.SUCCEEDED)
    if status >= 500 or status in _RETRY_STATUSES:
        return _retry_or_fail(delivery, error=f"The receiver answered {status}.")
    if 300 <= status < 400:
        return _finish(
            delivery,
            WebhookDelivery.Status.FAILED,
            error=f"The receiver answered {status}: redirects are not followed.",
        )
    return _finish(delivery, WebhookDelivery.Status.FAILED, error=f"The receiver answered {status}.")


_OUTCOME_FIELDS = ["status", "response_status", "response_excerpt", "error", "next_attempt_at"]


def _finish(delivery: WebhookDelivery, status: str, *, error: str = "") -> WebhookDelivery:
    delivery.status, delivery.error, delivery.next_attempt_at = status, error[:2000], None
    delivery.save(update_fields=_OUTCOME_FIELDS)
    log = logger.info if status == WebhookDelivery.Status.SUCCEEDED else logger.warning
    # No URL and no error text in the logs: a webhook URL's path often holds the receiver's token.
    log(
        "webhook delivery %s (%s, webhook %s) %s after %s attempt(s), last reply %s",
        delivery.delivery_id,
        delivery.event,
        delivery.webhook_id,
        status,
        delivery.attempts,
        delivery.response_status,
    )
    return delivery


def _retry_or_fail(delivery: WebhookDelivery, *, error: str) -> WebhookDelivery:
    if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        return _finish(delivery, WebhookDelivery.Status.FAILED, error=error)
    countdown = _backoff(delivery.attempts)
    delivery.error = error[:2000]
    delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=countdown)
    delivery.save(update_fields=_OUTCOME_FIELDS)
    logger.info(
        "webhook delivery %s attempt %s failed (reply %s); again in %g s",
        delivery.delivery_id,
        delivery.attempts,
        delivery.response_status,
        countdown,
    )
    raise RetryLater(countdown)


def deliveries_stalled(*, older_than: dt.timedelta = dt.timedelta(minutes=15)) -> QuerySet[WebhookDelivery]:
    """Pending deliveries whose attempt should have run long ago: its message was never queued
    (the broker was down at commit) or was lost."""
    return WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=timezone.now() - older_than
    ).order_by("next_attempt_at")


def delivery_requeue(*, delivery: WebhookDelivery) -> None:
    """Queue another attempt at a pending delivery now."""
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        next_attempt_at=timezone.now()
    )
    transaction.on_commit(partial(_enqueue, str(delivery.delivery_id)), robust=True)


# --- managing webhooks ----------------------------------------------------------------------------


def _clean_events(events: Iterable[str]) -> list[str]:
    events = list(dict.fromkeys(events))
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        raise ValidationError(
            {"events": f"Unknown event {', '.join(map(repr, unknown))}; the events are {', '.join(EVENTS)}."}
        )
    return events


def _clean_url(url: str) -> str:
    try:
        validate_target(url)
    except ValidationError as error:
        raise ValidationError({"url": error.messages}) from None
    return url


@transaction.atomic
def webhook_create(
    *, operation: Operation, url: str, actor: Actor, events: Iterable[str] = (), label: str = "", active: bool = True
) -> tuple[Webhook, str]:
    """Add a webhook; returns it with its secret, which is shown this once and never again."""
    secret = secrets.token_urlsafe(32)
    webhook = services._create(
        Webhook,
        actor=actor,
        operation=operation,
        url=_clean_url(url),
        events=_clean_events(events),
        label=label,
        active=active,
        secret=secret,
        created_by=services._user(actor),
    )
    return webhook, secret


_UPDATABLE = {"url", "events", "label", "active"}


def webhook_update(*, webhook: Webhook, actor: Actor, **changes: Any) -> Webhook:
    """Change a webhook's URL, events, label or active flag (the secret cannot be changed here)."""
    unknown = changes.keys() - _UPDATABLE
    if unknown:
        raise ValidationError({name: "This cannot be changed." for name in sorted(unknown)})
    if "url" in changes and changes["url"] != webhook.url:
        _clean_url(changes["url"])
    if "events" in changes:
        changes["events"] = _clean_events(changes["events"])
    return services.item_update(item=webhook, actor=actor, **changes)


def webhook_delete(*, webhook: Webhook, actor: Actor) -> None:
    """Delete a webhook and its delivery log."""
    services.item_delete(item=webhook, actor=actor)


# --- reading --------------------------------------------------------------------------------------


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
