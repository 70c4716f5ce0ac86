"""Running a group of claimed checks: one batched collection, then one recorded run per check.

Kept apart from the Celery tasks (which only pass ids) so it can be called and tested directly.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from tracker import services as tracker_services
from tracker.models import Operation

from . import services
from .checks.base import CallLog, GroupClients, Observation, Target, get_type
from .models import AwsEnvironment, Check

logger = logging.getLogger(__name__)


def _egress_allow(checks: list[Check]) -> dict[int, tuple[str, ...]]:
    """operation id -> its workspace's egress allow-list (core.egress), read now in one query: an
    entry a workspace admin removed stops being honoured at the next run."""
    rows = Operation.objects.filter(pk__in={check.operation_id for check in checks}).values_list(
        "pk", "workspace__egress_allow"
    )
    return {pk: tuple(entry for entry in (allow or []) if isinstance(entry, str)) for pk, allow in rows}


def run_group(*, claim_id: uuid.UUID, check_ids: Iterable[int]) -> int:
    """Collect and record every check of one group this claim still holds; returns runs recorded."""
    checks = list(services.claimed(claim_id, list(check_ids)))
    if not checks:
        return 0
    first = checks[0]
    kind = get_type(first.type)
    environment: AwsEnvironment | None = first.environment
    region = first.region

    calls = CallLog()
    started = timezone.now()
    began = time.monotonic()
    allowed = _egress_allow(checks) if not kind.needs_aws else {}
    targets = [
        Target(
            id=check.pk,
            params=check.params,
            expected=check.expected,
            owner_id=check.created_by_id,
            egress_allow=allowed.get(check.operation_id, ()),
        )
        for check in checks
    ]
    try:
        client_for = GroupClients(environment=environment, region=region)
        observations = kind.collect(targets, client_for=client_for, region=region, calls=calls)
    except Exception as error:  # a bug in a type must not lose the runs: record it on each check
        logger.exception("check type %s failed on %d checks", kind.code, len(checks))
        observations = {}
        failure = Observation.error(type(error).__name__, f"The {kind.code} check failed: {error}")
    else:
        failure = Observation.error("NoObservation", f"The {kind.code} check returned nothing for this check.")
    duration_ms = round((time.monotonic() - began) * 1000)
    recorded = 0
    # One transaction for the group (bench/ops_sync.py: a commit per check was most of a sync),
    # each run in a savepoint of its own, so one that fails to record does not lose the others.
    with transaction.atomic():
        for check in checks:
            try:
                result = services.record_run(
                    check=check,
                    claim_id=claim_id,
                    observation=observations.get(check.pk, failure),
                    calls=calls.calls,
                    started_at=started,
                    duration_ms=duration_ms,
                )
            except Exception:
                logger.exception("could not record the run of check %s; it will run again", check.pk)
                continue
            recorded += result is not None
        # Open dashboards poll their operation's version: the runs are news for the live checks panel.
        tracker_services.operations_touch(operation_ids={check.operation_id for check in checks})
    return recorded
