"""A person's own notifications: the operations they follow, by email at once or in a daily digest.

Only someone who may still see the operation is told (a follower removed from it hears nothing),
and only what the channels would say. A muted operation tells its follower nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import partial

from django.db import transaction
from django.utils import timezone

from tracker.events import Event, Occurrence
from tracker.permissions import Role, has_role

from . import messages
from .models import Delivery, Follow

# What a follower is told at once or in the digest: the milestones, not every flip of a check.
PERSONAL_EVENTS = frozenset(
    {
        Event.BLOCKER_OPENED,
        Event.BLOCKER_RESOLVED,
        Event.CRITERION_DONE,
        Event.PHASE_COMPLETED,
        Event.OPERATION_COMPLETED,
        Event.FORECAST_SLIPPED,
    }
)


def followers_told(occurrence: Occurrence) -> list[Delivery]:
    if occurrence.event not in PERSONAL_EVENTS:
        return []
    follows = Follow.objects.filter(operation=occurrence.operation).exclude(mode=Follow.Mode.MUTED)
    title, body = messages.describe(occurrence)
    deliveries = []
    for follow in follows.select_related("user"):
        user = follow.user
        if not user.email or not has_role(user, occurrence.operation, Role.VIEWER):
            continue
        digest = follow.mode == Follow.Mode.DIGEST
        delivery = Delivery.objects.create(
            recipient=user,
            operation=occurrence.operation,
            event=occurrence.event.value,
            title=title,
            body=body,
            status=Delivery.Status.DIGEST if digest else Delivery.Status.PENDING,
            next_attempt_at=None if digest else timezone.now(),
        )
        deliveries.append(delivery)
        if not digest:
            transaction.on_commit(partial(_enqueue, str(delivery.delivery_id)), robust=True)
    return deliveries


def _enqueue(delivery_id: str) -> None:
    from .tasks import deliver

    deliver.delay(delivery_id)


@transaction.atomic
def digests_send(*, now: dt.datetime | None = None) -> list[Delivery]:
    """One email per person gathering what waited for their digest; the lines are marked sent in it."""
    now = now or timezone.now()
    waiting = Delivery.objects.select_for_update(skip_locked=True).filter(status=Delivery.Status.DIGEST)
    by_person: dict[int, list[Delivery]] = defaultdict(list)
    for line in waiting.order_by("created_at", "id"):
        by_person[line.recipient_id].append(line)
    digests = []
    for recipient_id, lines in by_person.items():
        body = "\n\n".join(f"## {line.title}\n\n{line.body}" for line in lines)
        digest = Delivery.objects.create(
            recipient_id=recipient_id,
            event="digest",
            title=f"Snail Trail: {len(lines)} update{'s' if len(lines) != 1 else ''} since yesterday",
            body=body,
            next_attempt_at=now,
        )
        Delivery.objects.filter(pk__in=[line.pk for line in lines]).update(status=Delivery.Status.DIGESTED)
        transaction.on_commit(partial(_enqueue, str(digest.delivery_id)), robust=True)
        digests.append(digest)
    return digests
