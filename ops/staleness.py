"""`check.stale`: a check AWS has not answered for its stale period is announced, once a period.

Nothing in ops decides "stale" at a moment (the pages compute `Check.is_stale()` when read), so
this periodic task (beat: `ops-stale-checks`, every SWEEP) looks for checks whose stale period
began since the last sweeps and announces each once: the period's start (last good answer +
`stale_after`) is the key, claimed with `cache.add`, so two sweeps (or two workers sharing the
Redis cache) announce it once, and a check that recovers and goes stale again is a new period.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from tracker import events

from .models import Check

SWEEP = dt.timedelta(minutes=5)
# A period that began longer ago than this is not announced late (a worker that was down a day
# does not flood the channels with yesterday's news when it comes back).
LOOK_BACK = SWEEP * 3


def stale_since(check: Check, now: dt.datetime) -> dt.datetime | None:
    if not check.is_stale(now):
        return None
    return (check.last_good_at or check.created_at) + check.stale_after


def announce_stale(*, now: dt.datetime | None = None) -> list[Check]:
    now = now or timezone.now()
    told = []
    candidates = Check.objects.filter(enabled=True, last_run_at__isnull=False).select_related("operation")
    for check in candidates.iterator():
        since = stale_since(check, now)
        if since is None or since < now - LOOK_BACK:
            continue
        if not cache.add(
            f"ops:check-stale:{check.pk}:{since.isoformat()}", 1, timeout=int(LOOK_BACK.total_seconds()) * 4
        ):
            continue
        with transaction.atomic():
            events.announce(
                operation=check.operation,
                event=events.Event.CHECK_STALE,
                subject={"type": "check", "id": check.pk, "title": check.name},
                actor=f"check: {check.name}",
                details={"stale_since": since.isoformat()},
                at=now,
            )
        told.append(check)
    return told


@shared_task(ignore_result=True)
def announce_stale_checks() -> int:
    return len(announce_stale())
