"""Celery tasks of the ops app. Thin: ids in, `ops.services` / `ops.runner` do the work.

`dispatch_due_checks` runs on django-celery-beat's short interval: it claims the due checks and
queues one `run_check_group` per (environment, region, type) group. Both are safe to run twice:
a claim is exclusive, and a run's id comes from its claim, so a redelivered group records
nothing twice (tests/reliability/test_worker_kill.py kills real workers to show it).

A killed pool process: `acks_late` + `reject_on_worker_lost` requeue the group at once and
another process finishes what was not recorded. A whole worker killed: the message comes back
when Redis's visibility timeout (CELERY_VISIBILITY_TIMEOUT) has passed and a worker looks for it;
before that, the claim's lease (ops.services.CLAIM_LEASE, 10 minutes) has run out and the next
dispatch claims and runs those checks again, so nothing waits hours.
"""

from __future__ import annotations

import uuid

from celery import shared_task
from django.db import transaction

from . import runner, services

# A group makes a handful of paginated describe calls with bounded retries and timeouts.
GROUP_SOFT_TIME_LIMIT = 120
GROUP_TIME_LIMIT = 150


@shared_task(ignore_result=True)
def dispatch_due_checks(limit: int = 1000) -> int:
    """Claim the due checks and queue a run per group; returns the number of checks claimed."""
    claim_id, groups = services.claim_due(limit=limit)
    for check_ids in groups.values():
        transaction.on_commit(lambda ids=check_ids: run_check_group.delay(str(claim_id), ids))
    return sum(len(ids) for ids in groups.values())


@shared_task(
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=GROUP_SOFT_TIME_LIMIT,
    time_limit=GROUP_TIME_LIMIT,
)
def run_check_group(claim_id: str, check_ids: list[int]) -> int:
    return runner.run_group(claim_id=uuid.UUID(claim_id), check_ids=check_ids)
