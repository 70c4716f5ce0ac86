"""The live checks pages: editors add, change, run and delete checks through plain forms (bad input
is shown again with a 400 and writes nothing), everyone in the operation reads verdicts and runs,
findings offer prefilled checks, and nobody else finds the pages."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone

from config import urls as root_urls
from ops import services
from ops.checks import base
from ops.checks.base import PASS, CheckType, Observation
from ops.models import Check, CheckRun
from ops.selectors import RECENT_RUNS
from ops.suggest import suggestions_for
from tests.conftest import logged_in
from tracker import services as tracker_services
from tracker.models import ActivityEntry, Blocker, Finding, Task

pytestmark = pytest.mark.django_db

# The site's URLs plus these pages, until config/urls.py includes ops.urls itself.
urlpatterns = list(root_urls.urlpatterns)
if not any(getattr(pattern, "namespace", None) == "ops" for pattern in urlpatterns):
    urlpatterns.insert(0, path("", include("ops.urls")))
handler403 = root_urls.handler403
handler404 = root_urls.handler404
handler500 = root_urls.handler500


@pytest.fixture(autouse=True)
def check_urls(settings):
    settings.ROOT_URLCONF = __name__


class Scripted(CheckType):
    """A type without AWS: its one parameter `key` is required, as a real type's resource id is."""

    code = "test_pages_scripted"
    label = "Scripted (page tests)"
    needs_aws = False
    help = "params: key (any text). expected: anything."

    def clean(self, params, expected):
        if not params.get("key"):
            raise ValidationError({"params": "key: this parameter is required."})
        return params, expected

    def collect(self, targets, *, client_for, region, calls):
        return {}


SCRIPTED = Scripted.code


@pytest.fixture
def scripted():
    base.registry[SCRIPTED] = Scripted()
    yield base.registry[SCRIPTED]
    del base.registry[SCRIPTED]


@pytest.fixture
def suggested_types():
    """The types the example's findings suggest: the real ones if they import, else stand-ins, which
    are enough to offer a suggestion and prefill its form."""
    try:
        import ops.checks.registry  # noqa: F401 - registers the real types
    except ImportError:
        pass
    added = []
    for code in ("subnet_attribute", "vpc_attribute", "subnet_internet_route", "ecs_service_network"):
        if code not in base.registry:
            stand_in = type(f"StandIn_{code}", (Scripted,), {"code": code, "label": code})
            base.registry[code] = stand_in()
            added.append(code)
    yield
    for code in added:
        del base.registry[code]


@pytest.fixture
def real_types():
    try:
        import ops.checks.registry  # noqa: F401 - registers the real types
    except ImportError as error:
        pytest.skip(f"the real check types do not import yet (ops.checks.registry): {error}")


@pytest.fixture
def environment(workspace):
    return services.environment_create(
        workspace=workspace, name="snail-prod", account_id="123456789012", regions=["us-east-1"]
    )


@pytest.fixture
def other_environment(workspace):
    return services.environment_create(
        workspace=workspace, name="elsewhere", account_id="210987654321", regions=["eu-west-1"]
    )


@pytest.fixture
def check(team, scripted):
    return services.check_create(
        operation=team, name="Thing is ok", type=SCRIPTED, actor=None, params={"key": "a"}, expected="ok"
    )


def url(name: str, operation, *args) -> str:
    return reverse(f"ops:{name}", args=[operation.slug, *args])


def form(**changes) -> dict[str, str]:
    data = {
        "name": "Thing is ok",
        "type": SCRIPTED,
        "environment": "",
        "region": "",
        "params": '{"key": "a"}',
        "expected": '"ok"',
        "interval": "60",
        "enabled": "on",
        "finding": "",
        "task": "",
        "blocker": "",
    }
    return data | changes


def other_operation():
    elsewhere = tracker_services.workspace_create(name="Elsewhere", actor=None)
    other = tracker_services.operation_create(workspace=elsewhere, name="Operation Other", actor=None)
    phase = tracker_services.phase_create(operation=other, number=1, title="Theirs", actor=None)
    finding = tracker_services.finding_create(
        operation=other,
        phase=phase,
        subject="Subnet",
        observed="MapPublicIpOnLaunch: True",
        verdict="correct",
        actor=None,
    )
    return other, finding


def record(check: Check, observation: Observation, *, calls=("test.Describe",), duration_ms=42):
    """A run as the worker records it: claim the check, then record what it saw."""
    Check.objects.filter(pk=check.pk).update(next_due_at=timezone.now(), claim_id=None, claimed_until=None)
    services.claim_due()
    claim_id = Check.objects.get(pk=check.pk).claim_id  # the claim may have taken other checks too
    return services.record_run(
        check=check,
        claim_id=claim_id,
        observation=observation,
        calls=list(calls),
        started_at=timezone.now(),
        duration_ms=duration_ms,
    )


# --- who may see and do what -------------------------------------------------------------------------

READ_PAGES = ["checks", "check-detail"]
WRITE_PAGES = ["check-add", "check-edit"]
POSTS = ["check-delete", "check-run"]


def page_url(name: str, operation, check: Check) -> str:
    return url(name, operation, check.pk) if name not in ("checks", "check-add") else url(name, operation)


@pytest.mark.parametrize("name", READ_PAGES + WRITE_PAGES + POSTS)
def test_anonymous_visitors_are_sent_to_log_in(client, team, check, name):
    target = page_url(name, team, check)

    response = client.post(target) if name in POSTS else client.get(target)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Check.objects.filter(pk=check.pk, next_due_at=check.next_due_at).exists()


@pytest.mark.parametrize("name", READ_PAGES + WRITE_PAGES + POSTS)
def test_outsiders_do_not_find_the_pages(client, team, outsider, check, name):
    target = page_url(name, team, check)
    client = logged_in(client, outsider)

    response = client.post(target, form()) if name in POSTS + WRITE_PAGES else client.get(target)

    assert response.status_code == 404
    assert Check.objects.filter(pk=check.pk, name="Thing is ok").exists()


@pytest.mark.parametrize("name", READ_PAGES)
def test_viewers_read_the_checks(client, team, viewer, check, name):
    assert logged_in(client, viewer).get(page_url(name, team, check)).status_code == 200


@pytest.mark.parametrize("name", WRITE_PAGES + POSTS)
def test_viewers_cannot_change_checks(client, team, viewer, check, name):
    Check.objects.filter(pk=check.pk).update(next_due_at=timezone.now() + dt.timedelta(hours=1))
    target = page_url(name, team, check)
    client = logged_in(client, viewer)

    assert client.post(target, form(name="Changed")).status_code == 403
    if name in WRITE_PAGES:
        assert client.get(target).status_code == 403
    after = Check.objects.get(pk=check.pk)
    assert (after.name, after.next_due_at > timezone.now()) == ("Thing is ok", True)
    assert Check.objects.count() == 1


def test_a_check_of_another_operation_is_not_found_here(client, team, teammate, scripted):
    other, _finding = other_operation()
    theirs = services.check_create(operation=other, name="Theirs", type=SCRIPTED, actor=None, params={"key": "a"})
    client = logged_in(client, teammate)

    assert client.get(url("check-detail", team, theirs.pk)).status_code == 404
    assert client.post(url("check-delete", team, theirs.pk)).status_code == 404
    assert Check.objects.filter(pk=theirs.pk).exists()


def test_delete_and_run_need_a_post(client, team, teammate, check):
    client = logged_in(client, teammate)

    assert client.get(url("check-delete", team, check.pk)).status_code == 405
    assert client.get(url("check-run", team, check.pk)).status_code == 405


# --- the list ------------------------------------------------------------------------------------------


def test_the_list_shows_each_checks_verdict_what_it_saw_and_when(client, team, viewer, scripted):
    make = lambda name, key: services.check_create(  # noqa: E731
        operation=team, name=name, type=SCRIPTED, actor=None, params={"key": key}
    )
    passing, failing, erring, stale, pending = (make(n, n) for n in ("passing", "failing", "erring", "stale", "new"))
    record(passing, Observation(PASS, True, {"Thing": True}))
    record(failing, Observation("fail", "DISABLED", {"Thing": "DISABLED"}, message="Not what was expected."))
    record(erring, Observation.error("Throttling", "ec2.DescribeSubnets: Rate exceeded"))
    record(stale, Observation(PASS, 1, {}))
    long_ago = timezone.now() - dt.timedelta(days=1)
    Check.objects.filter(pk=stale.pk).update(last_good_at=long_ago, last_run_at=long_ago)

    response = logged_in(client, viewer).get(url("checks", team))

    html = response.content.decode()
    statuses = {check.name: check.shown_status for check in response.context["checks"]}
    assert statuses == {"passing": "pass", "failing": "fail", "erring": "error", "stale": "stale", "new": "pending"}
    for check in (passing, failing, erring, stale, pending):
        assert f'id="check-{check.pk}" data-status="{statuses[check.name]}"' in html
        assert url("check-detail", team, check.pk) in html
    assert "<code>true</code>" in html and "<code>DISABLED</code>" in html  # observed, as JSON
    assert "Not what was expected." in html and "Rate exceeded" in html
    assert "not yet" in html  # the pending one
    assert "<script" not in html


def test_the_list_links_to_the_items_a_check_keeps_true(client, team, viewer, scripted):
    finding = Finding.objects.get(subject="Subnet Configuration")
    task = Task.objects.get(title="AWS Account Check")
    blocker = Blocker.objects.first()
    services.check_create(
        operation=team,
        name="Linked",
        type=SCRIPTED,
        actor=None,
        params={"key": "a"},
        finding=finding,
        task=task,
        blocker=blocker,
    )

    html = logged_in(client, viewer).get(url("checks", team)).content.decode()

    assert f"/operations/{team.slug}/#findings" in html
    assert f"#task-{task.pk}" in html and f"#blocker-{blocker.pk}" in html


def test_viewers_see_no_editing_and_no_suggestions(client, team, viewer, check, suggested_types):
    response = logged_in(client, viewer).get(url("checks", team))

    html = response.content.decode()
    assert response.context["suggestions"] == []
    assert url("check-add", team) not in html and url("check-run", team, check.pk) not in html


def test_the_list_asks_the_same_number_of_queries_for_1_or_10_checks(client, team, teammate, scripted, environment):
    finding = Finding.objects.get(subject="Subnet Configuration")
    task = Task.objects.get(title="AWS Account Check")
    blocker = Blocker.objects.first()
    client = logged_in(client, teammate)

    def add(count: int) -> None:
        for n in range(count):
            services.check_create(
                operation=team,
                name=f"check {Check.objects.count()}-{n}",
                type=SCRIPTED,
                actor=None,
                params={"key": str(n)},
                environment=environment,
                region="us-east-1",
                finding=finding,
                task=task,
                blocker=blocker,
            )

    add(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url("checks", team)).status_code == 200
    add(9)
    with CaptureQueriesContext(connection) as ten:
        response = client.get(url("checks", team))

    assert len(response.context["checks"]) == 10
    assert len(ten.captured_queries) == len(one.captured_queries)


# --- suggestions ---------------------------------------------------------------------------------------


def test_editors_see_checks_suggested_by_the_findings(client, team, teammate, suggested_types):
    finding = Finding.objects.get(subject="Subnet Configuration")

    response = logged_in(client, teammate).get(url("checks", team))

    offered = {(f.subject, s.type) for f, _index, s in response.context["suggestions"]}
    assert {
        ("Subnet Configuration", "subnet_attribute"),
        ("Route Tables", "subnet_internet_route"),
        ("ECS Service", "ecs_service_network"),
        ("VPC DNS", "vpc_attribute"),
    } <= offered
    html = response.content.decode()
    assert f'action="{url("check-add", team)}"' in html
    assert f'name="finding" value="{finding.pk}"' in html


def test_the_suggestion_button_opens_a_prefilled_form(client, team, teammate, suggested_types, environment):
    finding = Finding.objects.get(subject="Subnet Configuration")

    response = logged_in(client, teammate).get(url("check-add", team), {"finding": finding.pk, "suggestion": 0})

    assert response.status_code == 200
    bound = response.context["form"]
    assert bound["name"].value() == "Subnet Configuration: MapPublicIpOnLaunch"
    assert bound["type"].value() == "subnet_attribute"
    assert json.loads(bound["params"].value()) == {"subnet_id": "", "attribute": "MapPublicIpOnLaunch"}
    assert json.loads(bound["expected"].value()) is True
    assert bound["finding"].value() == finding.pk
    html = response.content.decode()
    assert 'value="subnet_attribute" checked' in html
    assert "&quot;attribute&quot;: &quot;MapPublicIpOnLaunch&quot;" in html
    assert f'<option value="{finding.pk}" selected>' in html
    assert "Still to fill in: <code>subnet_id</code>" in html
    assert f'<option value="{environment.pk}" selected>' in html  # the only environment
    assert Check.objects.count() == 0


def test_a_suggestion_for_a_finding_of_another_operation_is_not_found(client, team, teammate, suggested_types):
    _other, foreign = other_operation()

    response = logged_in(client, teammate).get(url("check-add", team), {"finding": foreign.pk, "suggestion": 0})

    assert response.status_code == 404


def test_a_suggestion_taken_up_is_no_longer_offered(client, team, teammate, suggested_types):
    finding = Finding.objects.get(subject="Subnet Configuration")
    [suggestion] = suggestions_for(finding)
    Check.objects.create(
        operation=team, name="Taken", type=suggestion.type, params=suggestion.params, finding=finding
    )  # as if made before; the list only compares definitions

    response = logged_in(client, teammate).get(url("checks", team))

    assert "Subnet Configuration" not in {f.subject for f, _index, _s in response.context["suggestions"]}


def test_a_suggestion_becomes_a_check_once_its_ids_are_filled_in(client, team, teammate, real_types, environment):
    finding = Finding.objects.get(subject="Subnet Configuration")
    client = logged_in(client, teammate)
    prefilled = client.get(url("check-add", team), {"finding": finding.pk, "suggestion": 0}).context["form"]
    data = form(
        name=prefilled["name"].value(),
        type=prefilled["type"].value(),
        environment=str(environment.pk),
        region="us-east-1",
        params=prefilled["params"].value(),  # as the textarea holds it
        expected=prefilled["expected"].value(),
        finding=str(finding.pk),
    )

    as_offered = client.post(url("check-add", team), data)
    filled_in = client.post(
        url("check-add", team),
        data | {"params": json.dumps({"subnet_id": "subnet-0123456789abcdef0", "attribute": "MapPublicIpOnLaunch"})},
    )

    assert as_offered.status_code == 400 and "subnet_id" in as_offered.content.decode()
    assert filled_in.status_code == 302
    check = Check.objects.get()
    assert (check.type, check.params["subnet_id"], check.expected, check.finding) == (
        "subnet_attribute",
        "subnet-0123456789abcdef0",
        True,
        finding,
    )


# --- adding --------------------------------------------------------------------------------------------


def test_the_add_form_lists_the_types_with_their_help(client, team, teammate, scripted):
    html = logged_in(client, teammate).get(url("check-add", team)).content.decode()

    assert f'value="{SCRIPTED}"' in html and Scripted.help in html
    assert "<script" not in html


def test_an_editor_adds_a_check_linked_to_items_of_the_operation(client, team, teammate, scripted, environment):
    finding = Finding.objects.get(subject="Route Tables")
    criterion = Task.objects.filter(operation=team, kind=Task.Kind.CRITERION).first()
    blocker = Blocker.objects.filter(operation=team).first()
    data = form(
        environment=str(environment.pk),
        region="us-east-1",
        params='{"key": "a", "port": 5000}',
        expected='{"open": true}',
        interval="120",
        finding=str(finding.pk),
        task=str(criterion.pk),
        blocker=str(blocker.pk),
    )

    response = logged_in(client, teammate).post(url("check-add", team), data)

    check = Check.objects.get()
    assert response.status_code == 302 and response["Location"] == url("check-detail", team, check.pk)
    assert (check.operation, check.type, check.environment, check.region) == (team, SCRIPTED, environment, "us-east-1")
    assert (check.params, check.expected, check.interval) == (
        {"key": "a", "port": 5000},
        {"open": True},
        dt.timedelta(minutes=2),
    )
    assert (check.finding, check.task, check.blocker, check.enabled) == (finding, criterion, blocker, True)
    assert check.created_by.username == "teammate"
    entry = ActivityEntry.objects.filter(subject_type="check").first()
    assert (entry.action, entry.actor_name) == ("created", "teammate")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"params": '{"key": "a"'}, "Not valid JSON"),
        ({"params": "[1, 2]"}, "Parameters are a JSON object"),
        ({"expected": "ENABLED"}, "Text goes in double quotes"),
        ({"params": '{"key": ""}'}, "key: this parameter is required."),  # the type's own clean
        ({"interval": "10"}, "greater than or equal to 30"),
        ({"name": ""}, "This field is required."),
        ({"type": "no_such_type"}, "Select a valid choice"),
    ],
)
def test_bad_input_shows_the_form_again_and_writes_nothing(client, team, teammate, scripted, changes, message):
    response = logged_in(client, teammate).post(url("check-add", team), form(**changes))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Check.objects.count() == 0


def test_invalid_json_is_shown_back_as_typed(client, team, teammate, scripted):
    response = logged_in(client, teammate).post(url("check-add", team), form(params='{"key": a}'))

    assert response.status_code == 400
    assert "{&quot;key&quot;: a}</textarea>" in response.content.decode()


def test_an_item_of_another_operation_cannot_be_linked(client, team, teammate, scripted):
    _other, foreign = other_operation()

    response = logged_in(client, teammate).post(url("check-add", team), form(finding=str(foreign.pk)))

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Check.objects.count() == 0


def test_a_region_the_environment_does_not_list_is_refused(
    client, team, teammate, scripted, environment, other_environment
):
    data = form(environment=str(environment.pk), region="eu-west-1")  # a region of the other environment

    response = logged_in(client, teammate).post(url("check-add", team), data)

    assert response.status_code == 400
    assert "snail-prod does not list eu-west-1." in response.content.decode()
    assert response.context["form"].errors["region"] == ["snail-prod does not list eu-west-1."]
    assert Check.objects.count() == 0


def test_a_type_that_looks_at_aws_needs_an_environment(client, team, teammate, real_types):
    data = form(
        type="subnet_attribute",
        params='{"subnet_id": "subnet-0123456789abcdef0", "attribute": "MapPublicIpOnLaunch"}',
        expected="true",
    )

    response = logged_in(client, teammate).post(url("check-add", team), data)

    assert response.status_code == 400
    assert "choose an environment" in response.context["form"].errors["environment"][0]
    assert Check.objects.count() == 0


# --- one check -----------------------------------------------------------------------------------------


def test_the_detail_page_shows_the_runs_with_their_evidence_calls_and_errors(client, team, viewer, check):
    record(
        check,
        Observation(PASS, True, {"Subnets[0].MapPublicIpOnLaunch": True, "Route": {"GatewayId": "igw-1"}}),
        calls=["ec2.DescribeSubnets", "ec2.DescribeRouteTables"],
        duration_ms=87,
    )
    record(check, Observation.error("Throttling", "ec2.DescribeSubnets: Rate exceeded"))

    response = logged_in(client, viewer).get(url("check-detail", team, check.pk))

    html = response.content.decode()
    assert [run.status for run in response.context["runs"]] == ["error", "pass"]
    assert "<dt><code>Subnets[0].MapPublicIpOnLaunch</code></dt><dd>true</dd>" in html
    assert "<dd>{&quot;GatewayId&quot;: &quot;igw-1&quot;}</dd>" in html
    assert "<code>ec2.DescribeRouteTables</code>" in html and "87 ms" in html
    assert "<code>Throttling</code>" in html and "Rate exceeded" in html
    flips = [(f.from_status, f.to_status) for f in response.context["flips"]]
    assert flips == [("pass", "error"), ("pending", "pass")]
    assert Scripted.help in html
    assert url("check-edit", team, check.pk) not in html  # a viewer
    assert "<script" not in html


def test_the_detail_page_shows_the_latest_runs_as_many_as_the_api(client, team, viewer, check, owner):
    made = RECENT_RUNS + 5
    start = timezone.now() - dt.timedelta(hours=2)
    CheckRun.objects.bulk_create(
        CheckRun(live_check=check, run_id=uuid.uuid4(), status=PASS, started_at=start + dt.timedelta(minutes=n))
        for n in range(made)
    )

    runs = logged_in(client, viewer).get(url("check-detail", team, check.pk)).context["runs"]
    client.force_login(owner)
    listed = client.get(f"/api/operations/{team.slug}/checks/{check.pk}/runs/").json()

    assert len(runs) == len(listed) == RECENT_RUNS
    assert runs[0].started_at == start + dt.timedelta(minutes=made - 1)
    assert runs[-1].started_at == start + dt.timedelta(minutes=5)
    assert [run["run_id"] for run in listed] == [str(run.run_id) for run in runs]


def test_editors_see_the_actions(client, team, teammate, check):
    html = logged_in(client, teammate).get(url("check-detail", team, check.pk)).content.decode()

    for name in ("check-edit", "check-run", "check-delete"):
        assert url(name, team, check.pk) in html


# --- editing, running, deleting ------------------------------------------------------------------------


def test_the_edit_form_shows_the_check(client, team, teammate, check):
    bound = logged_in(client, teammate).get(url("check-edit", team, check.pk)).context["form"]

    assert bound["name"].value() == "Thing is ok"
    assert (json.loads(bound["params"].value()), json.loads(bound["expected"].value())) == ({"key": "a"}, "ok")
    assert bound["interval"].value() == 300


def test_an_editor_edits_a_check(client, team, teammate, check):
    Check.objects.filter(pk=check.pk).update(next_due_at=timezone.now() + dt.timedelta(hours=1))

    response = logged_in(client, teammate).post(
        url("check-edit", team, check.pk), form(name="Thing is fine", params='{"key": "b"}', enabled="")
    )

    assert response.status_code == 302 and response["Location"] == url("check-detail", team, check.pk)
    check.refresh_from_db()
    assert (check.name, check.params, check.enabled) == ("Thing is fine", {"key": "b"}, False)
    assert check.next_due_at <= timezone.now()  # a changed definition is looked at again at once
    entry = ActivityEntry.objects.filter(subject_type="check", action="updated").first()
    assert entry.actor_name == "teammate" and entry.changes["params"] == [{"key": "a"}, {"key": "b"}]


def test_a_bad_edit_changes_nothing(client, team, teammate, check):
    response = logged_in(client, teammate).post(
        url("check-edit", team, check.pk), form(name="Renamed", params='{"key": ""}')
    )

    assert response.status_code == 400
    assert "key: this parameter is required." in response.content.decode()
    check.refresh_from_db()
    assert (check.name, check.params) == ("Thing is ok", {"key": "a"})
    assert not ActivityEntry.objects.filter(subject_type="check", action="updated").exists()


def test_run_now_makes_the_check_due(client, team, teammate, check):
    Check.objects.filter(pk=check.pk).update(next_due_at=timezone.now() + dt.timedelta(hours=1))
    client = logged_in(client, teammate)

    from_detail = client.post(url("check-run", team, check.pk))
    from_list = client.post(url("check-run", team, check.pk), {"next": "list"})

    assert from_detail["Location"] == url("check-detail", team, check.pk)
    assert from_list["Location"] == url("checks", team)
    check.refresh_from_db()
    assert check.next_due_at <= timezone.now()
    assert [due for _claim, groups in [services.claim_due()] for due in groups.values()] == [[check.pk]]


def test_an_editor_deletes_a_check(client, team, teammate, check):
    response = logged_in(client, teammate).post(url("check-delete", team, check.pk))

    assert response.status_code == 302 and response["Location"] == url("checks", team)
    assert not Check.objects.exists()
    assert ActivityEntry.objects.filter(subject_type="check", action="deleted").exists()
