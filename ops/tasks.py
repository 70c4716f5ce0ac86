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

The broker lost its messages (Redis restarted without persistence, flushed, failed over): the
groups it held are gone while their checks stay claimed. Each dispatch keeps a mark in the broker's
Redis; when the mark is missing, the broker has lost everything it held since the last dispatch,
so every outstanding claim is given back and claimed again at once
(tests/reliability/test_redis_restart.py restarts a real Redis to show it). A group that was still
running then records nothing (its claim is gone) and its checks run again: once more, never twice.
A group that cannot be queued at all (the broker went away between the claim and the publish)
gives its claim back the same way, so it waits one dispatch interval, not a lease.
"""

from __future__ import annotations

import logging
import uuid

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from . import runner, services

logger = logging.getLogger(__name__)

# Present in the broker's Redis while it still holds what it was given; see the module's docstring.
BROKER_MARK = "snailtrail:ops:broker-mark"

# A group makes a handful of paginated describe calls with bounded retries and timeouts.
GROUP_SOFT_TIME_LIMIT = 120
GROUP_TIME_LIMIT = 150


@shared_task(ignore_result=True)
def dispatch_due_checks(limit: int = 1000) -> int:
    """Claim the due checks and queue a run per group; returns the number of checks claimed."""
    if broker_lost_its_messages():
        released = services.release_all_claims()
        logger.warning("The broker lost its queued messages; %d claimed checks are due again.", released)
    claim_id, groups = services.claim_due(limit=limit)
    for check_ids in groups.values():
        transaction.on_commit(lambda ids=check_ids: queue_group(claim_id, ids))
    return sum(len(ids) for ids in groups.values())


def queue_group(claim_id: uuid.UUID, check_ids: list[int]) -> None:
    """Queue one group's run; if the broker cannot take it, give its checks back (due at once)."""
    try:
        run_check_group.delay(str(claim_id), check_ids)
    except BrokerError:
        services.release(claim_id=claim_id, check_ids=check_ids)
        logger.warning("The broker refused a group of %d checks; they are due again.", len(check_ids), exc_info=True)


def broker_lost_its_messages() -> bool:
    """True when the broker is a Redis that no longer holds `BROKER_MARK` (and the mark is set
    again). The first dispatch against a new Redis says True as well: nothing is claimed then but
    what an earlier broker lost. The filesystem and in-memory brokers never lose a message this way."""
    with dispatch_due_checks.app.connection_or_acquire() as connection:
        if connection.transport.driver_type != "redis":
            return False
        with connection.default_channel.conn_or_acquire() as client:
            return bool(client.set(BROKER_MARK, timezone.now().isoformat(), nx=True))


@shared_task(
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=GROUP_SOFT_TIME_LIMIT,
    time_limit=GROUP_TIME_LIMIT,
)
def run_check_group(claim_id: str, check_ids: list[int]) -> int:
    return runner.run_group(claim_id=uuid.UUID(claim_id), check_ids=check_ids)
