"""The tracker follows its checks, through the tracker's own services (so every change is in the
activity log, attributed to the check and citing what AWS answered, and webhooks fire):

- every answered run stamps the linked finding / task as checked (the page shows how fresh it is)
  and keeps the verdict and the observed value beside the item's words (`live_verdict`,
  `live_observed`); the words the team wrote, a finding's observed value, verdict and note
  included, are theirs and never replaced (issue #15);
- a linked task or completion criterion is ticked when its check passes, and unticked when it
  regresses, with a blocker raised (and linked to the check, so it resolves when the check passes);
- a linked blocker resolves when its check passes (its status says so when the team wrote none);
- a flip is announced to the operation's webhooks as `check.flipped`.

An ERROR changes no tracker item: AWS did not answer, so nothing is known to have changed; the
items simply go stale.
"""

from __future__ import annotations

import json
from typing import Any

from tracker import events
from tracker import services as tracker_services
from tracker.models import Blocker, LiveVerdict

from .checks.base import ERROR, FAIL, PASS
from .models import Check, CheckFlip, CheckRun

_LIVE_VERDICTS = {PASS: LiveVerdict.PASS, FAIL: LiveVerdict.FAIL}


def observed_text(value: Any, label: str = "") -> str:
    """An observed value as a finding shows it, named like the team wrote it when the check says
    what it looked at: `MapPublicIpOnLaunch: true`, `assignPublicIp: DISABLED`."""
    shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return f"`{label}: {shown}`" if label else f"`{shown}`"


def _live_observed(check: Check, run: CheckRun) -> str:
    return observed_text(run.observed, check.params.get("attribute") or check.params.get("field") or "")


def follow(*, check: Check, run: CheckRun, flip: CheckFlip | None) -> Blocker | None:
    """Carry a recorded run over to the tracker; returns the blocker a regression raised, which
    the caller (`ops.services.record_run`) links to the check. Writes no check itself."""
    if flip is not None:
        _announce(check, run, flip)
    if run.status == ERROR:
        return None
    evidence = {
        "check": check.name,
        "check_id": check.pk,
        "run_id": str(run.run_id),
        "status": run.status,
        "observed": run.observed,
        "evidence": run.evidence,
    }
    with tracker_services.attributed(actor_name=f"check: {check.name}"[:150], evidence=evidence):
        for item in (check.finding, check.task):
            if item is not None:
                tracker_services.item_mark_checked(item=item, at=run.started_at, stale_after=check.stale_after)
                tracker_services.item_record_check(
                    item=item, verdict=_LIVE_VERDICTS[run.status], observed=_live_observed(check, run)
                )
        raised = _follow_task(check, run) if check.task is not None else None
        if check.blocker is not None and run.status == PASS:
            blocker = check.blocker
            # The team's status line stays theirs; the activity entry says which check resolved it.
            status_text = None if blocker.status_text else f"Resolved: check {check.name!r} passes."
            tracker_services.blocker_resolve(blocker=blocker, actor=None, status_text=status_text)
    return raised


def _follow_task(check: Check, run: CheckRun) -> Blocker | None:
    task = check.task
    if run.status == PASS and not task.done:
        tracker_services.task_set_done(task=task, done=True, actor=None)
    elif run.status == FAIL and task.done:
        tracker_services.task_set_done(task=task, done=False, actor=None)
        return tracker_services.blocker_open(
            operation=check.operation,
            title=f"Regressed: {task.title}"[:500],
            actor=None,
            severity=Blocker.Severity.PRIMARY,
            description=f"Check {check.name!r} fails: {run.message or observed_text(run.observed)}",
            impact=f"“{task.title}” is no longer done.",
        )
    return None


def _announce(check: Check, run: CheckRun, flip: CheckFlip) -> None:
    events.announce(
        operation=check.operation,
        event=events.Event.CHECK_FLIPPED,
        subject={"type": "check", "id": check.pk, "title": check.name},
        changes={"status": [flip.from_status, flip.to_status]},
        actor=f"check: {check.name}",
        # The check's interval lets a notification channel count "held for N runs" exactly.
        details={
            "observed": run.observed,
            "evidence": run.evidence,
            "interval_seconds": check.interval.total_seconds(),
        },
    )
