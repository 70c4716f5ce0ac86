"""Every write of webhooks: add, change and delete one (through the tracker's generic services, so
each is in the activity log), and the deliveries an event makes. None of these queues a send:
tracker.webhooks.tasks does, so this module never imports the tasks that import it."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import services
from ..events import Event, Occurrence
from ..models import Operation, Webhook, WebhookDelivery
from ..services import Actor
from .delivery import validate_target

# Every event a webhook may subscribe to; tracker.events names them and says when they happen.
EVENTS = tuple(Event)
EVENT_CHOICES = [(event.value, event.value) for event in Event]


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


def deliveries_create(*, occurrence: Occurrence) -> list[WebhookDelivery]:
    """A pending delivery of the event for each active webhook of its operation that wants it.

    One query for the webhooks, one insert for the deliveries (none when no webhook wants it).
    """
    operation = occurrence.operation
    event = occurrence.event.value
    hooks = [
        hook
        for hook in Webhook.objects.filter(operation=operation, active=True).only("id", "events")
        if hook.wants(event)
    ]
    if not hooks:
        return []
    body = {"subject": occurrence.subject, "changes": occurrence.changes, "actor": occurrence.actor}
    body |= occurrence.details
    deliveries = [_pending(hook, event, body, operation=operation, at=occurrence.at) for hook in hooks]
    return WebhookDelivery.objects.bulk_create(deliveries)


def _pending(hook: Webhook, event: str, body: dict[str, Any], *, operation: Operation, at: dt.datetime):
    delivery_id = uuid.uuid4()
    payload = {
        **body,
        "event": event,
        "delivery": str(delivery_id),
        "at": at.isoformat(),
        "operation": {"slug": operation.slug, "name": operation.name},
    }
    return WebhookDelivery(webhook=hook, delivery_id=delivery_id, event=event, payload=payload, next_attempt_at=at)


def delivery_reschedule(*, delivery: WebhookDelivery) -> bool:
    """Make a pending delivery due now (for a sweep to queue it again); False if it is no longer pending."""
    return bool(
        WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
            next_attempt_at=timezone.now()
        )
    )
