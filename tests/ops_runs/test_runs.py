"""Scheduling, recording and following checks, with a scripted check type (no AWS): claims are
exclusive, a run is recorded once per claim, a status change is a flip, and the tracker follows
through its own services with the evidence in the activity log."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ops import runner, services
from ops.checks.base import ERROR, FAIL, PASS, Observation
from ops.models import Check, CheckFlip, CheckRun
from ops.tasks import dispatch_due_checks
from tracker import services as tracker_services
from tracker.models import ActivityEntry, Blocker, Finding, Operation, Task, WebhookDelivery
from tracker.webhooks import webhook_create

pytestmark = pytest.mark.django_db


def passing(value="ok"):
    return Observation(PASS, value, {"Thing.Value": value})


def failing(value="bad", message=""):
    return Observation(FAIL, value, {"Thing.Value": value}, message=message)


@pytest.fixture
def make_check(team, scripted):
    def make(key="a", **links):
        return services.check_create(
            operation=team, name=f"check {key}", type=scripted.code, actor=None, params={"key": key}, **links
        )

    return make


def run_due():
    claim_id, groups = services.claim_due()
    for ids in groups.values():
        runner.run_group(claim_id=claim_id, check_ids=ids)
    return claim_id, groups


# --- claims -----------------------------------------------------------------------------------------


def test_due_checks_are_claimed_once_and_grouped(make_check, scripted):
    first, second = make_check("a"), make_check("b")

    claim_id, groups = services.claim_due()
    again, nothing = services.claim_due()

    assert groups == {(None, "", scripted.code): [first.pk, second.pk]}
    assert nothing == {} and again != claim_id


def test_an_expired_claim_can_be_taken_again(make_check):
    check = make_check()
    services.claim_due()

    later = timezone.now() + services.CLAIM_LEASE + dt.timedelta(seconds=1)
    _claim, groups = services.claim_due(now=later)

    assert [ids for ids in groups.values()] == [[check.pk]]


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_never_claim_one_check_twice(team, scripted):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks: runs in make test's PostgreSQL pass")
    for n in range(200):
        services.check_create(operation=team, name=f"c{n}", type=scripted.code, actor=None, params={"key": "a"})
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def dispatcher():
        barrier.wait()
        _claim, groups = services.claim_due(limit=120)
        claimed.append([i for ids in groups.values() for i in ids])
        connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 200


# --- runs and flips --------------------------------------------------------------------------------


def test_a_run_is_recorded_with_its_evidence_and_calls_and_the_check_moves_on(make_check, scripted):
    check = make_check()
    scripted.answers["a"] = passing()

    run_due()

    check.refresh_from_db()
    run = CheckRun.objects.get(live_check=check)
    assert (run.status, run.observed, run.evidence, run.calls) == (PASS, "ok", {"Thing.Value": "ok"}, ["test.Describe"])
    assert (check.status, check.observed, check.claim_id) == (PASS, "ok", None)
    assert check.next_due_at > timezone.now() + check.interval - dt.timedelta(seconds=5)
    assert CheckFlip.objects.get(live_check=check).to_status == PASS  # pending -> pass


def test_a_run_moves_its_operations_version_so_open_dashboards_update_and_no_other(make_check, scripted, workspace):
    other = tracker_services.operation_create(name="Elsewhere", actor=None, workspace=workspace)
    for key in "ab":
        make_check(key)
        scripted.answers[key] = passing()
    check = Check.objects.get(name="check a")
    versions = dict(Operation.objects.values_list("pk", "version"))

    run_due()

    assert Operation.objects.get(pk=check.operation_id).version > versions[check.operation_id]
    assert Operation.objects.get(pk=other.pk).version == versions[other.pk]  # untouched


def test_operations_touch_moves_each_named_version_once_and_writes_no_activity(team, workspace):
    other = tracker_services.operation_create(name="Elsewhere", actor=None, workspace=workspace)
    versions = dict(Operation.objects.values_list("pk", "version"))
    entries = ActivityEntry.objects.count()

    touched = tracker_services.operations_touch(operation_ids=[team.pk, team.pk])

    assert touched == 1
    assert Operation.objects.get(pk=team.pk).version == versions[team.pk] + 1
    assert Operation.objects.get(pk=other.pk).version == versions[other.pk]
    assert ActivityEntry.objects.count() == entries


def test_a_group_is_collected_once_for_all_its_checks(make_check, scripted):
    for key in "abcde":
        make_check(key)
        scripted.answers[key] = passing()

    run_due()

    assert scripted.collections == 1 and CheckRun.objects.count() == 5


def test_a_redelivered_group_records_nothing_twice(make_check, scripted):
    check = make_check()
    scripted.answers["a"] = passing()
    claim_id, groups = services.claim_due()
    [ids] = groups.values()

    first = runner.run_group(claim_id=claim_id, check_ids=ids)
    second = runner.run_group(claim_id=claim_id, check_ids=ids)

    assert (first, second) == (1, 0)
    assert CheckRun.objects.filter(live_check=check).count() == 1


def test_a_flip_is_written_only_when_the_status_changes(make_check, scripted):
    check = make_check()
    for answer in (passing(), passing(), failing(), failing(), passing()):
        scripted.answers["a"] = answer
        Check.objects.filter(pk=check.pk).update(next_due_at=timezone.now())
        run_due()

    flips = [(f.from_status, f.to_status) for f in CheckFlip.objects.filter(live_check=check).order_by("at", "id")]
    assert flips == [("pending", PASS), (PASS, FAIL), (FAIL, PASS)]


def test_an_error_keeps_the_last_good_value_backs_off_and_goes_stale(make_check, scripted):
    check = make_check()
    scripted.answers["a"] = passing("good")
    run_due()
    for _ in range(3):
        scripted.answers["a"] = Observation.error("Throttling", "ec2.DescribeSubnets: Rate exceeded")
        Check.objects.filter(pk=check.pk).update(next_due_at=timezone.now())
        run_due()

    check.refresh_from_db()
    assert (check.status, check.observed, check.consecutive_errors) == (ERROR, "good", 3)
    assert "Rate exceeded" in check.message
    assert check.next_due_at - check.last_run_at < check.interval * 2 + dt.timedelta(seconds=1)
    assert not check.is_stale()
    assert check.is_stale(now=check.last_good_at + check.interval * 3 + dt.timedelta(seconds=1))


def test_a_check_the_type_says_nothing_about_is_an_error_not_lost(make_check, scripted):
    check = make_check("unknown-to-the-script")

    run_due()

    check.refresh_from_db()
    assert check.status == ERROR and "returned nothing" in check.message


def test_the_dispatch_task_claims_and_runs_every_group_after_commit(
    make_check, scripted, django_capture_on_commit_callbacks
):
    make_check("a")
    scripted.answers["a"] = passing()

    with django_capture_on_commit_callbacks(execute=True):
        claimed = dispatch_due_checks()

    assert claimed == 1 and CheckRun.objects.count() == 1


def test_a_group_the_broker_refuses_is_given_back_and_the_others_still_go(
    team, make_check, scripted, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from ops import tasks

    refused, kept = make_check("a"), make_check("b")
    Check.objects.filter(pk=kept.pk).update(region="eu-west-1")  # a group of its own
    sent = []

    def delay(claim_id, check_ids):
        if check_ids == [refused.pk]:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        sent.append(check_ids)

    monkeypatch.setattr(tasks.run_check_group, "delay", delay)

    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch_due_checks() == 2

    assert sent == [[kept.pk]]
    refused.refresh_from_db()
    kept.refresh_from_db()
    assert refused.claim_id is None and refused.claimed_until is None  # due again at the next dispatch
    assert kept.claim_id is not None
    assert services.claim_due()[1] == {(None, "", scripted.code): [refused.pk]}


def test_when_the_broker_lost_its_messages_every_claim_is_given_back_first(team, make_check, scripted, monkeypatch):
    from ops import tasks

    lost = make_check("a")
    claim_id, _groups = services.claim_due()
    assert Check.objects.get(pk=lost.pk).claim_id == claim_id  # queued, then lost with the broker
    monkeypatch.setattr(tasks, "broker_lost_its_messages", lambda: True)
    monkeypatch.setattr(tasks.run_check_group, "delay", lambda *args: None)

    assert dispatch_due_checks() == 1  # claimed again at once, not after the lease

    assert Check.objects.get(pk=lost.pk).claim_id not in (None, claim_id)


def test_the_broker_mark_is_set_once_and_missed_when_redis_lost_it(redis_url):
    """Against a real Redis: the first dispatch sets the mark, the next find it, a flush loses it."""
    import redis
    from celery import Celery

    from ops import tasks

    app = Celery("mark-test", broker=redis_url, set_as_current=False)
    client = redis.Redis.from_url(redis_url)
    client.delete(tasks.BROKER_MARK)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(tasks.dispatch_due_checks, "app", app, raising=False)
            assert tasks.broker_lost_its_messages() is True  # a new broker: nothing of ours in it
            assert tasks.broker_lost_its_messages() is False
            client.delete(tasks.BROKER_MARK)  # as a restart without persistence or a flush does
            assert tasks.broker_lost_its_messages() is True
            assert tasks.broker_lost_its_messages() is False
    finally:
        client.delete(tasks.BROKER_MARK)
        client.close()
        app.close()


def test_the_suite_and_make_run_brokers_never_count_as_lost():
    from ops import tasks

    assert tasks.broker_lost_its_messages() is False  # memory:// here, filesystem:// under make run


# --- the tracker follows ----------------------------------------------------------------------------


def test_a_linked_finding_shows_the_verdict_beside_its_words_with_the_evidence_in_the_log(team, make_check, scripted):
    finding = Finding.objects.filter(operation=team, verdict="correct").first()
    words = (finding.observed, finding.verdict, finding.note)
    make_check(finding=finding)
    scripted.answers["a"] = failing("DISABLED")

    run_due()

    finding.refresh_from_db()
    assert (finding.live_verdict, finding.live_observed) == ("fail", "`DISABLED`")
    assert (finding.observed, finding.verdict, finding.note) == words  # the team's (tests/ops_runs/test_sync.py)
    assert finding.checked_at is not None
    entry = ActivityEntry.objects.filter(operation=team, subject_type="finding").first()
    assert entry.actor_name == "check: check a"
    assert entry.evidence["evidence"] == {"Thing.Value": "DISABLED"}


def test_a_criterion_is_ticked_then_unticked_with_a_blocker_that_resolves_when_it_passes(team, make_check, scripted):
    criterion = Task.objects.filter(operation=team, kind="criterion", done=False).first()
    check = make_check(task=criterion)

    def run(answer):
        scripted.answers["a"] = answer
        Check.objects.filter(pk=check.pk).update(next_due_at=timezone.now())
        run_due()
        criterion.refresh_from_db()
        check.refresh_from_db()

    run(passing())
    assert criterion.done

    run(failing(message="assignPublicIp is DISABLED"))
    assert not criterion.done
    raised = check.blocker
    assert raised.is_open and raised.title == f"Regressed: {criterion.title}"
    assert "assignPublicIp is DISABLED" in raised.description

    run(passing())
    raised.refresh_from_db()
    assert criterion.done and not raised.is_open


def test_a_linked_blocker_resolves_when_its_check_passes(team, make_check, scripted):
    blocker = Blocker.objects.get(operation=team)
    make_check(blocker=blocker)
    scripted.answers["a"] = passing()

    run_due()

    blocker.refresh_from_db()
    assert not blocker.is_open
    assert blocker.status_text == "Under investigation - requires AWS infrastructure-level resolution"  # the team's
    entry = ActivityEntry.objects.filter(operation=team, subject_type="blocker").first()
    assert (entry.actor_name, entry.changes["state"]) == ("check: check a", ["open", "resolved"])


def test_an_error_changes_no_tracker_item(team, make_check, scripted):
    finding = Finding.objects.filter(operation=team).first()
    before = (finding.verdict, finding.observed, finding.checked_at)
    make_check(finding=finding)
    scripted.answers["a"] = Observation.error("AccessDenied", "Missing permission ec2:DescribeSubnets.")

    run_due()

    finding.refresh_from_db()
    assert (finding.verdict, finding.observed, finding.checked_at) == before


def test_a_flip_is_announced_to_webhooks(team, owner, make_check, scripted):
    webhook_create(operation=team, url="https://93.184.216.34/hook", actor=owner, events=["check.flipped"])
    make_check()
    scripted.answers["a"] = failing()

    run_due()

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event == "check.flipped"
    assert delivery.payload["changes"] == {"status": ["pending", "fail"]}
    # Its interval, so a notification channel holding a flip for N runs counts them exactly.
    check = Check.objects.get()
    assert delivery.payload["interval_seconds"] == check.interval.total_seconds() > 0


def test_a_check_cannot_link_another_operations_item(team, scripted, outsider):
    from django.core.exceptions import ValidationError

    from tracker import services as tracker_services

    elsewhere = tracker_services.workspace_create(name="Elsewhere", actor=None)
    other = tracker_services.operation_create(workspace=elsewhere, name="Elsewhere", actor=outsider)
    theirs = tracker_services.task_create(operation=other, title="Theirs", kind="next_step", actor=outsider)

    with pytest.raises(ValidationError):
        services.check_create(
            operation=team, name="x", type=scripted.code, actor=None, params={"key": "a"}, task=theirs
        )


# --- the dashboard panel ----------------------------------------------------------------------------


def test_the_dashboard_shows_each_checks_verdict_and_the_latest_flips(client, team, viewer, make_check, scripted):
    make_check("a")
    make_check("b")
    scripted.answers.update(a=passing("ENABLED"), b=failing("DISABLED", message="the deployment still says DISABLED"))
    run_due()
    client.force_login(viewer)

    page = client.get(f"/operations/{team.slug}/").content.decode()

    assert 'id="checks"' in page and "Live checks" in page
    assert "✅ pass" in page and "❌ fail" in page
    assert "the deployment still says DISABLED" in page
    assert "pending → <strong>fail</strong>" in page


def test_no_checks_no_panel_and_the_panel_costs_the_same_queries_for_many_checks(
    client, team, viewer, make_check, scripted
):
    client.force_login(viewer)
    assert 'id="checks"' not in client.get(f"/operations/{team.slug}/").content.decode()

    make_check("a")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/operations/{team.slug}/")
    for key in "bcdefgh":
        make_check(key)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/operations/{team.slug}/")

    assert len(many) == len(one)
