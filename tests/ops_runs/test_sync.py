"""ops.sync keeps the team's words (issue #15): a check's run leaves what people wrote as they wrote
it, keeps what AWS answered beside it (`live_verdict`, `live_observed`), shows both on the
dashboard, names the check as the actor on the item and in the activity feed, and changes nothing
of the markdown export but what the team's own state says (a criterion's tick)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ops import runner, services
from ops.checks.base import FAIL, PASS, Observation
from ops.models import Check
from tests.conftest import EXAMPLE, logged_in
from tracker import services as tracker_services
from tracker.exporters import export_markdown
from tracker.models import ActivityEntry, Finding, Task

pytestmark = pytest.mark.django_db

ROUTE_TABLES = "- ✅ **Route Tables**: Internet gateway routes present and subnet associated (correct)\n"
VPC_DNS = "- ✅ **VPC DNS**: `enableDnsHostnames: true`, `enableDnsSupport: true` (correct)\n"
CRITERION = "Enhanced ML service accessible from internet"


@pytest.fixture
def check_of(team, scripted):
    """A check of the scripted type linked to an item; `label` names what it reads, as an AWS check's
    `attribute` does (`enableDnsSupport: false`)."""

    def make(name: str, *, label: str = "", **links) -> Check:
        params = {"key": name, "attribute": label} if label else {"key": name}
        return services.check_create(operation=team, name=name, type=scripted.code, actor=None, params=params, **links)

    return make


@pytest.fixture
def answer(scripted):
    def run(check: Check, status: str, value) -> None:
        scripted.answers[check.name] = Observation(status, value, {"Thing.Value": value})
        Check.objects.filter(pk=check.pk).update(next_due_at=timezone.now())
        claim_id, groups = services.claim_due()
        for ids in groups.values():
            runner.run_group(claim_id=claim_id, check_ids=ids)

    return run


def words(item: Finding | Task) -> tuple:
    item.refresh_from_db()
    if isinstance(item, Finding):
        return (item.subject, item.observed, item.expected, item.verdict, item.note)
    return (item.title, item.detail, item.icon, item.group)


def test_it_keeps_a_findings_words_and_keeps_the_live_value_and_verdict_beside_them(team, check_of, answer):
    finding = Finding.objects.get(operation=team, subject="Route Tables")
    before = words(finding)

    answer(check_of("routes", finding=finding), FAIL, True)

    assert words(finding) == before
    assert (finding.live_verdict, finding.live_observed) == ("fail", "`true`")


def test_it_keeps_a_criterions_words_and_keeps_the_live_value_and_verdict_beside_them(team, check_of, answer):
    criterion = Task.objects.get(operation=team, title=CRITERION)
    before = words(criterion)

    answer(check_of("reachable", task=criterion), PASS, {"reachable": True})

    assert words(criterion) == before
    assert (criterion.done, criterion.live_verdict, criterion.live_observed) == (True, "pass", '`{"reachable": true}`')


def test_the_item_and_the_feed_name_the_check_as_the_actor(team, check_of, answer):
    finding = Finding.objects.get(operation=team, subject="VPC DNS")

    answer(check_of("dns support", finding=finding), FAIL, False)

    finding.refresh_from_db()
    assert (finding.updated_by, finding.updated_by_name) == (None, "check: dns support")
    entry = ActivityEntry.objects.filter(operation=team, subject_id=finding.pk, subject_type="finding").first()
    assert entry.actor_name == "check: dns support"
    assert entry.changes == {"live_verdict": ["", "fail"], "live_observed": ["", "`false`"]}
    assert entry.evidence["evidence"] == {"Thing.Value": False}


def test_a_new_value_under_the_same_verdict_refreshes_the_item_without_a_log_entry(team, check_of, answer):
    finding = Finding.objects.get(operation=team, subject="VPC DNS")
    check = check_of("latency", finding=finding)
    answer(check, PASS, "120 ms")
    entries = ActivityEntry.objects.filter(operation=team).count()

    answer(check, PASS, "95 ms")

    finding.refresh_from_db()
    assert finding.live_observed == "`95 ms`"
    assert ActivityEntry.objects.filter(operation=team).count() == entries


def test_a_person_changing_the_item_afterwards_is_named_instead(team, check_of, answer, teammate):
    criterion = Task.objects.get(operation=team, title=CRITERION)
    answer(check_of("reachable", task=criterion), PASS, True)
    criterion.refresh_from_db()

    tracker_services.task_set_done(task=criterion, done=False, actor=teammate)

    criterion.refresh_from_db()
    assert (criterion.updated_by, criterion.updated_by_name) == (teammate, "")


def test_the_dashboard_shows_the_words_with_the_live_value_beside_them_and_the_check_as_actor(
    client, team, viewer, check_of, answer
):
    finding = Finding.objects.get(operation=team, subject="Route Tables")
    criterion = Task.objects.get(operation=team, title=CRITERION)
    answer(check_of("routes", finding=finding), FAIL, True)
    answer(check_of("reachable", task=criterion), PASS, "HTTP 200")

    page = logged_in(client, viewer).get(f"/operations/{team.slug}/").content.decode()

    shown = page[page.index("<strong>Route Tables</strong>") :]
    shown = shown[: shown.index("</li>")]
    assert "Internet gateway routes present and subnet associated" in shown
    assert "· check: routes</span>" in shown
    assert "❌ live check fails: <code>true</code>" in shown
    shown = page[page.index(f'id="task-{criterion.pk}"') :]
    shown = shown[: shown.index("</li>")]
    assert CRITERION in shown and "· check: reachable</span>" in shown
    assert "✅ live check passes: <code>HTTP 200</code>" in shown


def test_a_public_page_shows_the_live_verdict_but_not_the_value_unless_the_link_shows_infrastructure(
    client, team, owner, check_of, answer
):
    finding = Finding.objects.get(operation=team, subject="Route Tables")
    answer(check_of("routes", finding=finding), FAIL, "rtb-0123456789abcdef0")
    _, hiding = tracker_services.public_link_create(operation=team, actor=owner)
    _, showing = tracker_services.public_link_create(operation=team, actor=owner, shows_infrastructure=True)

    hidden = client.get(f"/p/{hiding}/").content.decode()
    shown = client.get(f"/p/{showing}/").content.decode()

    assert "❌ live check fails</span>" in hidden and "rtb-0123456789abcdef0" not in hidden
    assert "❌ live check fails: <code>rtb-0123456789abcdef0</code>" in shown


def test_the_export_after_check_runs_keeps_the_teams_text(team, check_of, answer):
    routes = Finding.objects.get(operation=team, subject="Route Tables")
    dns = Finding.objects.get(operation=team, subject="VPC DNS")
    criterion = Task.objects.get(operation=team, title=CRITERION)
    answer(check_of("routes", finding=routes), FAIL, True)
    answer(check_of("dns support", finding=dns, label="enableDnsSupport"), FAIL, False)
    answer(check_of("reachable", task=criterion), FAIL, "timeout")

    assert export_markdown(team.slug) == EXAMPLE.read_text(encoding="utf-8")


def test_the_export_changes_only_what_a_check_ticked(team, check_of, answer):
    criterion = Task.objects.get(operation=team, title=CRITERION)
    answer(check_of("reachable", task=criterion), PASS, True)

    example = EXAMPLE.read_text(encoding="utf-8")
    assert export_markdown(team.slug) == example.replace(f"- [ ] {CRITERION}\n", f"- [x] {CRITERION}\n")
    assert ROUTE_TABLES in example and VPC_DNS in example  # the lines the issue saw lost
