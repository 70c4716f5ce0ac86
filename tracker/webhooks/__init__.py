"""Outgoing webhooks: who is told of which events, and how a delivery is signed, sent and retried.

Which changes are events is tracker.events' business (stable codes, one signal): this package
hears `tracker.signals.event_happened` (`receiver.event_happened`, wired in TrackerConfig.ready),
so nothing in the tracker's services knows about webhooks. A change that is no event costs no
query at all; one that is writes a `WebhookDelivery` per subscribed webhook in the same
transaction and queues the send for after the commit, so a rolled-back change is never announced.

The modules, each importing only those above it in this list (no cycle, no import inside a function):

- `delivery`: the address checks (core.egress), signing, sending, retries with backoff;
- `selectors`: reads (an operation's webhooks, its delivery log, stalled deliveries);
- `services`: add, change, delete a webhook; the deliveries an event makes;
- `tasks`: the Celery tasks (`tracker.tasks.deliver_webhook`, `...redeliver_stalled_webhooks`)
  and queueing after the commit;
- `receiver`: the `event_happened` receiver.
"""

from .delivery import EXCERPT_CHARS, USER_AGENT, RetryLater, _backoff, delivery_attempt, encode, sign, validate_target
from .receiver import event_happened
from .selectors import deliveries_of, deliveries_stalled, webhooks_of
from .services import (
    EVENT_CHOICES,
    EVENTS,
    deliveries_create,
    delivery_reschedule,
    webhook_create,
    webhook_delete,
    webhook_update,
)
from .tasks import deliver_webhook, delivery_requeue, enqueue_after_commit, redeliver_stalled_webhooks

__all__ = [
    "EVENTS",
    "EVENT_CHOICES",
    "EXCERPT_CHARS",
    "USER_AGENT",
    "RetryLater",
    "_backoff",
    "deliver_webhook",
    "deliveries_create",
    "deliveries_of",
    "deliveries_stalled",
    "delivery_attempt",
    "delivery_requeue",
    "delivery_reschedule",
    "encode",
    "enqueue_after_commit",
    "event_happened",
    "redeliver_stalled_webhooks",
    "sign",
    "validate_target",
    "webhook_create",
    "webhook_delete",
    "webhook_update",
    "webhooks_of",
]
