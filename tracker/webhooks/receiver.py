"""The receiver of `tracker.signals.event_happened` (wired in TrackerConfig.ready): a delivery per
subscribed webhook, written in the transaction that made the change and sent after it commits."""

from __future__ import annotations

from typing import Any

from ..events import Occurrence
from ..models import WebhookDelivery
from .services import deliveries_create
from .tasks import enqueue_after_commit


def event_happened(*, occurrence: Occurrence, **_: Any) -> list[WebhookDelivery]:
    """Write and queue the deliveries of one event; an event no webhook wants costs one query."""
    deliveries = deliveries_create(occurrence=occurrence)
    enqueue_after_commit(deliveries)
    return deliveries
