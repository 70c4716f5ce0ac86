"""tracker/watch.py: operation.completed after the last phase, forecast.slipped after progress moves;
ops/staleness.py: check.stale once a stale period."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tracker import events, watch
from tracker import services as tracker_services
from tracker.models import PhaseStatus, ProgressSnapshot
from tracker.signals import event_happened

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    got: list[events.Occurrence] = []

    def listen(*, occurrence, **_):
        got.append(occurrence)

    event_happened.connect(listen, dispatch_uid="test-watch")
    yield got
    event_happened.disconnect(dispatch_uid="test-watch")


def test_the_last_completed_phase_completes_the_operation(team, owner, heard):
    extra = tracker_services.phase_create(operation=team, number=99, title="Aftercare", actor=owner)
    phases = [*team.phases.exclude(status=PhaseStatus.COMPLETE).exclude(pk=extra.pk).order_by("number"), extra]
    for phase in phases[:-1]:
        tracker_services.phase_update(phase=phase, actor=owner, status=PhaseStatus.COMPLETE)
    assert events.Event.PHASE_COMPLETED in [o.event for o in heard]
    assert events.Event.OPERATION_COMPLETED not in [o.event for o in heard]

    tracker_services.phase_update(phase=phases[-1], actor=owner, status=PhaseStatus.COMPLETE)

    # Announced while phase.completed is being heard, so heard first by a later receiver like this one.
    assert sorted(o.event for o in heard[-2:]) == [events.Event.OPERATION_COMPLETED, events.Event.PHASE_COMPLETED]
    assert [o.event for o in heard].count(events.Event.OPERATION_COMPLETED) == 1


def _history(operation, points):
    ProgressSnapshot.objects.filter(operation=operation).delete()
    start = timezone.now() - dt.timedelta(days=len(points))
    for day, progress in enumerate(points):
        ProgressSnapshot.objects.create(
            operation=operation, at=start + dt.timedelta(days=day), progress=progress, tasks_done=0, tasks_total=0
        )


def test_a_setback_slips_the_forecast(team):
    _history(team, [10, 15, 20, 25, 30, 35, 40, 45, 30])
    slip = watch.forecast_slip(team)
    assert slip is not None and slip["slip_days"] > 1
    assert dt.datetime.fromisoformat(slip["new"]) > dt.datetime.fromisoformat(slip["old"])


def test_steady_progress_slips_nothing(team):
    _history(team, [10, 15, 20, 25, 30, 35, 40, 45, 50])
    assert watch.forecast_slip(team) is None


def test_a_tick_judges_the_forecast_after_the_commit(
    team, owner, heard, monkeypatch, django_capture_on_commit_callbacks
):
    judged = []
    monkeypatch.setattr(watch, "forecast_slip", lambda operation: judged.append(operation) or {"old": "a", "new": "b"})
    task = team.tasks.filter(done=False, kind="task").first()
    with django_capture_on_commit_callbacks(execute=True):
        tracker_services.task_set_done(task=task, done=True, actor=owner)
        assert judged == []  # not inside the change's transaction
    assert judged == [team]
    assert heard[-1].event == events.Event.FORECAST_SLIPPED and heard[-1].details == {"old": "a", "new": "b"}


def test_a_stale_check_is_announced_once_a_period(team, heard, settings):
    from ops.models import Check
    from ops.staleness import announce_stale

    now = timezone.now()
    check = Check.objects.create(
        operation=team, name="VPC DNS", type="http_endpoint", params={"url": "https://example.com/"}
    )
    Check.objects.filter(pk=check.pk).update(
        last_run_at=now - dt.timedelta(minutes=16), last_good_at=now - dt.timedelta(minutes=16)
    )
    # interval 5 min: stale after 15, i.e. since a minute ago
    assert [c.pk for c in announce_stale(now=now)] == [check.pk]
    assert announce_stale(now=now + dt.timedelta(minutes=5)) == []  # the same period: once
    stale = [o for o in heard if o.event == events.Event.CHECK_STALE]
    assert len(stale) == 1 and stale[0].subject == {"type": "check", "id": check.pk, "title": "VPC DNS"}


def test_a_long_stale_check_is_not_announced_late(team, heard):
    from ops.models import Check
    from ops.staleness import announce_stale

    now = timezone.now()
    check = Check.objects.create(
        operation=team, name="Old", type="http_endpoint", params={"url": "https://example.com/"}
    )
    Check.objects.filter(pk=check.pk).update(
        last_run_at=now - dt.timedelta(days=2), last_good_at=now - dt.timedelta(days=2)
    )
    assert announce_stale(now=now) == []
