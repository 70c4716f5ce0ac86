"""Every write of the ops app: environments, checks, and what a run of a check records.

Scheduling is a claim: `claim_due` marks due checks with a claim id and a lease in one
transaction (row locks skipped by the others on PostgreSQL; SQLite's IMMEDIATE transactions
serialise writers), so two dispatchers never hand the same check to two workers. A run's id is
derived from the claim and the check, so a task redelivered after a worker died records nothing
twice (`record_run` finds the run and stops).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tracker import services as tracker_services
from tracker.models import Blocker, Finding, Operation, Task

from .checks import registry
from .checks.base import ERROR, Observation
from .models import AwsEnvironment, Check, CheckFlip, CheckRun
from .sync import follow

# How long a claim holds before another dispatcher may take the check again: longer than a run.
CLAIM_LEASE = dt.timedelta(minutes=10)
# An ERROR is retried sooner than a full interval would allow only up to this; later errors back off.
MAX_ERROR_BACKOFF = dt.timedelta(hours=1)


# --- environments and checks ----------------------------------------------------------------------


@transaction.atomic
def environment_create(*, workspace, actor=None, **fields: Any) -> AwsEnvironment:
    """An environment of `workspace` (who may add one is the caller's question: its admins)."""
    environment = AwsEnvironment(workspace=workspace, **fields)
    environment.full_clean()
    environment.save()
    return environment


@transaction.atomic
def environment_ensure(*, workspace, name: str, defaults: dict[str, Any], actor=None) -> AwsEnvironment:
    """The workspace's environment of that name, made with `defaults` if it has none (the demo's)."""
    found = AwsEnvironment.objects.filter(workspace=workspace, name=name).first()
    return found or environment_create(workspace=workspace, name=name, actor=actor, **defaults)


@transaction.atomic
def environment_update(*, environment: AwsEnvironment, actor=None, **changes: Any) -> AwsEnvironment:
    """Change an environment. It stays in its workspace (its checks are that workspace's), and a
    narrowing of its regions or check types that would strand a check is refused, naming the checks:
    every check it keeps must still be one it allows."""
    if changes.get("workspace", environment.workspace) != environment.workspace:
        raise ValidationError({"workspace": "An AWS environment stays in its workspace: add one to the other."})
    changes.pop("workspace", None)
    originals = {name: getattr(environment, name) for name in changes}
    for name, value in changes.items():
        setattr(environment, name, value)
    try:
        environment.full_clean()
        refuse_stranding(environment)
    except ValidationError:
        for name, old in originals.items():  # leave the caller's object as the database still has it
            setattr(environment, name, old)
        raise
    environment.save()
    return environment


def refuse_stranding(environment: AwsEnvironment) -> None:
    """A ValidationError naming the checks its (unsaved) regions or check types no longer allow."""
    if environment.pk is None:
        return
    checks = list(Check.objects.filter(environment=environment).order_by("name").values_list("name", "region", "type"))
    outside = sorted({region for _, region, _ in checks if region and region not in environment.regions})
    if outside:
        names = ", ".join(name for name, region, _ in checks if region in outside)
        raise ValidationError(
            {"regions": f"Checks look at {', '.join(outside)}: {names}. Change or delete them first."}
        )
    refused = sorted({kind for _, _, kind in checks if not environment.allows_type(kind)})
    if refused:
        names = ", ".join(name for name, _, kind in checks if kind in refused)
        raise ValidationError(
            {"check_types": f"Checks of type {', '.join(refused)} use it: {names}. Change or delete them first."}
        )


@transaction.atomic
def environment_delete(*, environment: AwsEnvironment, actor=None) -> None:
    """Delete an environment no check uses (a check's environment is protected: it would stop looking)."""
    used = list(Check.objects.filter(environment=environment).order_by("name").values_list("name", flat=True)[:6])
    if used:
        more = ", …" if len(used) > 5 else ""
        raise ValidationError(f"Checks use it: {', '.join(used[:5])}{more}. Delete them or move them first.")
    environment.delete()


@transaction.atomic
def check_create(*, operation, name: str, type: str, actor, **fields: Any) -> Check:
    owner = actor if actor is not None and actor.pk else None  # a person, not a worker or an import
    check = Check(operation=operation, name=name, type=type, created_by=owner, **fields)
    check.full_clean()
    check.save()
    tracker_services.activity_record(operation=operation, actor=actor, action="created", subject=check)
    return check


@transaction.atomic
def check_update(*, check: Check, actor, **changes: Any) -> Check:
    """Change a check; a changed definition is looked at again at once. A check that sends its
    owner's API token changes owner to whoever changes its definition (see `sends_owner_token`)."""
    definition = {"type", "environment", "region", "params", "expected", "interval", "enabled"}
    if definition & changes.keys():
        changes.setdefault("next_due_at", timezone.now())
    redefined = any(getattr(check, name) != value for name, value in changes.items() if name in definition)
    kind = registry.get(changes.get("type", check.type))
    user_id = getattr(actor, "pk", None)
    if redefined and kind.sends_owner_token and user_id is not None and user_id != check.created_by_id:
        changes["created_by"] = actor
    return tracker_services.item_update(item=check, actor=actor, **changes)


def check_run_now(*, check: Check, actor) -> Check:
    """Make a check due now: the next dispatch (every few seconds) looks at it. Not a change to log."""
    Check.objects.filter(pk=check.pk).update(next_due_at=timezone.now())
    check.refresh_from_db()
    return check


def check_delete(*, check: Check, actor) -> None:
    tracker_services.item_delete(item=check, actor=actor)


def check_hand_over(*, check: Check, owner) -> Check:
    """Make `owner` the check's owner (whose API token a check that sends one sends), without
    redefining it: the demo gives its inference check to the user it names."""
    if check.created_by_id != owner.pk:
        Check.objects.filter(pk=check.pk).update(created_by=owner)
        check.created_by = owner
    return check


# --- links to the tracker's items, across an import that replaces them ----------------------------

# (check id, its finding's subject, its task's (kind, title), its blocker's title)
HeldLinks = list[tuple[int, str | None, tuple[str, str] | None, str | None]]


# The two import hooks run inside the import's transaction (tracker.signals): they need one, but a
# savepoint of their own would only add two statements to every replace.
@transaction.atomic(savepoint=False)
def checks_release_items(*, operation: Operation) -> HeldLinks:
    """Let go of the items the operation's checks keep true (an import is about to delete them),
    remembering each by its words for `checks_relink`."""
    checks = (
        Check.objects.filter(operation=operation)
        .filter(Q(finding__isnull=False) | Q(task__isnull=False) | Q(blocker__isnull=False))
        .select_related("finding", "task", "blocker")
    )
    held = [
        (
            check.pk,
            check.finding.subject if check.finding else None,
            (check.task.kind, check.task.title) if check.task else None,
            check.blocker.title if check.blocker else None,
        )
        for check in checks
    ]
    Check.objects.filter(pk__in=[row[0] for row in held]).update(finding=None, task=None, blocker=None)
    return held


@transaction.atomic(savepoint=False)
def checks_relink(*, operation: Operation, held: HeldLinks) -> None:
    """Link each check again to the operation's (new) items with the words it remembered."""
    findings: dict[str, int] = {}
    for pk, subject in Finding.objects.filter(operation=operation).values_list("pk", "subject"):
        findings.setdefault(subject, pk)
    tasks: dict[tuple[str, str], int] = {}
    for pk, kind, title in Task.objects.filter(operation=operation).values_list("pk", "kind", "title"):
        tasks.setdefault((kind, title), pk)
    blockers: dict[str, int] = {}
    for pk, title in Blocker.objects.filter(operation=operation).values_list("pk", "title"):
        blockers.setdefault(title, pk)
    for check_id, subject, task, blocker in held:
        Check.objects.filter(pk=check_id).update(
            finding_id=findings.get(subject) if subject else None,
            task_id=tasks.get(task) if task else None,
            blocker_id=blockers.get(blocker) if blocker else None,
        )


def check_link_blocker(*, check: Check, blocker: Blocker) -> None:
    """Link the check to a blocker it resolves when it passes (one its regression raised), unless
    it already keeps an open one."""
    if check.blocker is None or not check.blocker.is_open:
        Check.objects.filter(pk=check.pk).update(blocker=blocker)
        check.blocker = blocker


# --- scheduling -----------------------------------------------------------------------------------


GroupKey = tuple[int | None, str, str]  # (environment id, region, check type)


@transaction.atomic
def claim_due(*, now: dt.datetime | None = None, limit: int = 1000) -> tuple[uuid.UUID, dict[GroupKey, list[int]]]:
    """Claim up to `limit` due checks; returns the claim id and their ids grouped for batched collection."""
    now = now or timezone.now()
    due = (
        Check.objects.filter(enabled=True, next_due_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_due_at", "id")
        .select_for_update(skip_locked=True)
        .values_list("id", "environment_id", "region", "type")[:limit]
    )
    rows = list(due)
    claim_id = uuid.uuid4()
    groups: dict[GroupKey, list[int]] = defaultdict(list)
    for check_id, environment_id, region, kind in rows:
        groups[(environment_id, region, kind)].append(check_id)
    if rows:
        Check.objects.filter(id__in=[row[0] for row in rows]).update(claim_id=claim_id, claimed_until=now + CLAIM_LEASE)
    return claim_id, dict(groups)


def claimed(claim_id: uuid.UUID, check_ids: list[int]):
    """The checks of a group that this claim still holds (a later claim or a deletion wins)."""
    return Check.objects.filter(id__in=check_ids, claim_id=claim_id).select_related(
        "environment", "operation", "finding", "task", "blocker"
    )


def run_id_for(claim_id: uuid.UUID, check_id: int) -> uuid.UUID:
    return uuid.uuid5(claim_id, str(check_id))


# --- recording a run --------------------------------------------------------------------------------


def _next_due(check: Check, status: str, errors: int, now: dt.datetime) -> dt.datetime:
    if status != ERROR:
        return now + check.interval
    # Retry an erroring check sooner than its interval, then back off: 1/4, 1/2, 1, 2... intervals.
    backoff = check.interval * (2 ** (errors - 1)) / 4
    return now + min(max(backoff, dt.timedelta(seconds=30)), max(MAX_ERROR_BACKOFF, check.interval))


@transaction.atomic
def record_run(
    *,
    check: Check,
    claim_id: uuid.UUID,
    observation: Observation,
    calls: list[str],
    started_at: dt.datetime,
    duration_ms: int,
) -> tuple[CheckRun, CheckFlip | None] | None:
    """Record a run, move the check's status, write a flip if it changed; None if already recorded."""
    run_id = run_id_for(claim_id, check.pk)
    if CheckRun.objects.filter(run_id=run_id).exists():
        return None
    check = Check.objects.select_for_update().get(pk=check.pk)
    if check.claim_id != claim_id:
        return None  # released or claimed again meanwhile: the newer claim records its own run
    now = timezone.now()
    run = CheckRun.objects.create(
        live_check=check,
        run_id=run_id,
        status=observation.status,
        observed=observation.observed,
        evidence=observation.evidence,
        calls=calls,
        error_code=observation.error_code,
        message=observation.message,
        started_at=started_at,
        duration_ms=duration_ms,
    )
    previous = check.status
    errors = check.consecutive_errors + 1 if observation.status == ERROR else 0
    check.status = observation.status
    check.message = observation.message
    check.last_run_at = now
    check.consecutive_errors = errors
    if observation.status != ERROR:
        check.observed = observation.observed
        check.last_good_at = now
    check.next_due_at = _next_due(check, observation.status, errors, now)
    check.claim_id = check.claimed_until = None
    check.save()
    flip = None
    if previous != observation.status:
        flip = CheckFlip.objects.create(
            live_check=check, run=run, from_status=previous, to_status=observation.status, at=now
        )
    raised = follow(check=check, run=run, flip=flip)  # the tracker follows its checks, in this transaction
    if raised is not None:
        check_link_blocker(check=check, blocker=raised)
    return run, flip


def release_all_claims() -> int:
    """Give back every outstanding claim (their tasks were lost with the broker's messages)."""
    return Check.objects.filter(claim_id__isnull=False).update(claim_id=None, claimed_until=None)


def release(*, claim_id: uuid.UUID, check_ids: list[int]) -> int:
    """Give back checks a worker could not run (e.g. its type vanished), due again at once."""
    return Check.objects.filter(id__in=check_ids, claim_id=claim_id).update(claim_id=None, claimed_until=None)
